package servmgr_test

import (
	"reflect"
	"strings"
	"testing"

	sm "github.com/csmsim/csmsim/engine/servmgr"
)

// FuzzParse checks that Parse never panics, that every refusal is a
// *SyntaxError whose column points at its token, and that the canonical
// String of an accepted command parses back to an equal command.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		seedInitialize, seedAddBLD1, seedServBLD1, seedSystemAdd, seedAddBLD2, seedServBLD2,
		seedPackage, seedSetlock, seedSendTest, seedSendStable, seedPut2Prod,
		"managed on", "system modify 720 vm01 hostname h srvlvl l2 (port 1 require)",
		"system query 720", "system servcheck 720 all", "srvlvl localmod 720 l cms e (vendor",
		"srvlvl query 720 base", "srvlvl vmfsetup 720 l cms", "srvlvl delete 720 l",
		"srvlvl send l vm01 (stable cond) x", "system add 720 a b hostname ::1 (port", "",
		"srvlvl add 720 l basedon base desc é ü (x", "system add 720 vm01 l1 hostname h(port 0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := sm.Parse(line)
		if err != nil {
			se, ok := sm.AsSyntaxError(err)
			if !ok {
				t.Fatalf("Parse(%q): error %v is not a *SyntaxError", line, err)
			}
			if c != nil {
				t.Fatalf("Parse(%q): command %v with error %v", line, c, err)
			}
			if se.Pos < 1 || se.Col < 1 || se.Kind == 0 || se.Reason == "" {
				t.Fatalf("Parse(%q): incomplete error %#v", line, se)
			}
			if se.Token != "" {
				runes := []rune(line)
				if se.Col > len(runes) || !strings.HasPrefix(string(runes[se.Col-1:]), se.Token) {
					t.Fatalf("Parse(%q): token %q not at column %d", line, se.Token, se.Col)
				}
			}
			_ = se.Lines()
			return
		}
		s := c.String()
		if !strings.HasPrefix(s, c.Name()+" ") {
			t.Fatalf("Parse(%q) = %q, which does not begin with its name %q", line, s, c.Name())
		}
		back, err := sm.Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", line, s, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("Parse(%q) = %#v, printed %q, reparsed as %#v", line, c, s, back)
		}
		if back.String() != s {
			t.Fatalf("Parse(%q): %q printed again as %q", line, s, back.String())
		}
	})
}
