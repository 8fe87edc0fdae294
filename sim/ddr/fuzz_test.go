package ddr_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
	"github.com/spf13/afero"
)

func FuzzParseControl(f *testing.F) {
	for _, s := range []string{
		"INPUT 0190 3390 MNT190\nOUTPUT 0181 TAPE\nDUMP 2 TO 5\n",
		"input 181\noutput 191\nrestore 0 to 3 reorder to 95\n",
		"* c\nSYSPRINT CONS\nINPUT 1\nOUTPUT 1\nCOPY ALL\n",
		"FROB\n", "DUMP\n", "INPUT\n", "\n\n", "RESTORE 1 TO 2 REORDER\n",
		"INPUT 0190\nOUTPUT 0181\nDUMP 70000\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, deck string) {
		p, err := ddr.ParseControl(strings.NewReader(deck))
		if (p == nil) == (err == nil) {
			t.Fatalf("want exactly one of a program or an error, got %v and %v", p, err)
		}
		if err != nil {
			var le *ddr.LineError
			if !errors.As(err, &le) {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, op := range p.Ops {
			if op.Line < 1 || op.In.Vdev == "" || op.Out.Vdev == "" || (!op.All && op.From > op.To) {
				t.Fatalf("bad op %+v from %q", op, deck)
			}
		}
	})
}

// smallDump is a real dump of a one-cylinder volume with a few records.
func smallDump(tb testing.TB) []byte {
	fs := afero.NewMemMapFs()
	v, err := ckd.Create(fs, "/v.ckd", "3390", 1, "FUZZ")
	if err != nil {
		tb.Fatal(err)
	}
	defer v.Close()
	t := &ckd.Track{Cyl: 0, Head: 3, Records: []ckd.Record{
		{Count: ckd.Count{Head: 3, Rec: 1}, Key: []byte("K"), Data: []byte("some data")},
		{Count: ckd.Count{Head: 3, Rec: 2}, Data: make([]byte, 300)},
	}}
	if err := v.WriteTrack(t); err != nil {
		tb.Fatal(err)
	}
	e, _ := v.Extent(0, 1)
	var d bytes.Buffer
	if _, err := ddr.Dump(e, 0, 0, &d); err != nil {
		tb.Fatal(err)
	}
	return d.Bytes()
}

func FuzzVerify(f *testing.F) {
	good := smallDump(f)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(good[:ddr.HeaderSize])
	f.Add([]byte(ddr.Magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ddr.Verify(bytes.NewReader(data))
		if err != nil {
			var e *ddr.Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if h.Tracks != (h.LastCyl-h.FirstCyl+1)*h.Heads || h.Tracks == 0 {
			t.Fatalf("accepted a header that does not add up: %+v", h)
		}
	})
}
