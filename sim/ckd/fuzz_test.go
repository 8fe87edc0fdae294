package ckd_test

import (
	"testing"

	"github.com/csmsim/csmsim/sim/ckd"
)

// FuzzParseTrack: any bytes either parse into a track that encodes back to
// the same records, or are refused with an error; never a panic.
func FuzzParseTrack(f *testing.F) {
	g, _, _ := ckd.ParseDevType("3390")
	seed := make([]byte, g.ImageTrackSize())
	if err := (&ckd.Track{Cyl: 1, Head: 2, Records: records(1, 2, 2, 100, 'a')}).Encode(g, seed); err != nil {
		f.Fatal(err)
	}
	f.Add(seed[:400])
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ckd.ParseTrack(b, 1, 2)
		if err != nil {
			return
		}
		buf := make([]byte, g.ImageTrackSize())
		if tr.Encode(g, buf) != nil {
			return // parsed but exceeds real track capacity
		}
		again, err := ckd.ParseTrack(buf, 1, 2)
		if err != nil {
			t.Fatalf("re-parse of an encoded track failed: %v", err)
		}
		if len(again.Records) != len(tr.Records) {
			t.Fatalf("round trip changed record count %d -> %d", len(tr.Records), len(again.Records))
		}
	})
}
