package table_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/csmsim/csmsim/engine/table"
)

// FuzzParse checks that Parse never panics, refuses only with a
// *ParseError, and that what it accepts writes out to text that parses
// back and writes out to the same bytes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		":TABLE.SYSSTAT :GEN.17\n:SYSTEM.VM01 :RELEASE.720 :HOST.127.0.0.1 :PORT.4535 :STATE.TEST\n",
		":table.svcstat :gen.3\n* c\n\n:SRVLVL.L1 :DESC.August RSU  Install  :LOCK.\n:srvlvl.l2 :DESC.a:b :) x",
		":TABLE.NAMES :GEN.1\n:NICK.EAST :LIST.VM01 WEST\n:NICK.WEST :LIST.",
		":TABLE.X :GEN.1\n:K.v :PORT 1\n",
		":TABLE.X :GEN.1\n:K.v\r\n",
		":TABLE.X :GEN.1 :A.b\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tab, err := table.Parse("FUZZ TABLE", bytes.NewReader(in))
		if err != nil {
			var pe *table.ParseError
			if !errors.As(err, &pe) || tab != nil {
				t.Fatalf("Parse refused with %T %v and table %v", err, err, tab)
			}
			return
		}
		var out1, out2 bytes.Buffer
		if _, err := tab.WriteTo(&out1); err != nil {
			t.Fatalf("WriteTo of a parsed table: %v", err)
		}
		again, err := table.Parse("FUZZ TABLE", bytes.NewReader(out1.Bytes()))
		if err != nil {
			t.Fatalf("written table does not parse: %v\n%s", err, out1.Bytes())
		}
		if again.Len() != tab.Len() || again.Gen != tab.Gen || again.Name != tab.Name || again.KeyTag != tab.KeyTag {
			t.Fatalf("re-read table differs: %+v vs %+v", again, tab)
		}
		if _, err := again.WriteTo(&out2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out1.Bytes(), out2.Bytes()) {
			t.Fatalf("not stable:\n%q\n%q", out1.Bytes(), out2.Bytes())
		}
	})
}

// FuzzParseNames checks that ParseNames never panics, refuses only with a
// *ParseError, and that what it accepts writes out as a table that it
// reads back the same.
func FuzzParseNames(f *testing.F) {
	for _, s := range []string{
		"* c\n:nick.EAST :userid.X :node.Y\n  :list.VM01\n   VM02\n:nick.WEST :list.\n",
		":TABLE.NAMES :GEN.2 :ENTRIES.1\n:NICK.A :LIST.B\n",
		"VM01\n", ":list.A\n", ":nick.A B :list.C\n", ":nick.A :list.B\n:nick.a :list.C\n",
		":nick.A :list B\n", ":nick.\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tab, err := table.ParseNames("MAINTCSM NAMES", bytes.NewReader(in))
		if err != nil {
			var pe *table.ParseError
			if !errors.As(err, &pe) || tab != nil {
				t.Fatalf("ParseNames refused with %T %v and table %v", err, err, tab)
			}
			return
		}
		var out bytes.Buffer
		if _, err := tab.WriteTo(&out); err != nil {
			t.Fatalf("WriteTo of a parsed NAMES file: %v", err)
		}
		again, err := table.ParseNames("MAINTCSM NAMES", bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("written NAMES does not parse: %v\n%s", err, out.Bytes())
		}
		if again.Gen != tab.Gen || len(again.List()) != len(tab.List()) {
			t.Fatalf("re-read NAMES differs: %+v vs %+v", again, tab)
		}
		for i, e := range tab.List() {
			if again.List()[i].String() != e.String() {
				t.Fatalf("entry %d: %s vs %s", i, again.List()[i], e)
			}
		}
	})
}
