package servlink_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"

	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/fixtures"
)

// FuzzValidate checks that Validate never panics on any input, that every
// refusal is an *Error with an offset inside the stream, and that a stream
// Validate accepts reads back fully through Reader: every part of the
// manifest, with content of the manifest's size and hash, then io.EOF.
func FuzzValidate(f *testing.F) {
	set := cmsServlink()
	w := set.write()
	f.Add(w.stream)
	f.Add(w.stream[:w.end])
	f.Add(w.stream[:w.offsets[2]+700])
	flipped := bytes.Clone(w.stream)
	flipped[w.offsets[1]+600] ^= 0x55
	f.Add(flipped)
	f.Add([]byte{})
	f.Add(make([]byte, 1024))
	names, _ := fs.Glob(fixtures.SampleFS(), "sample/*")
	for _, n := range names {
		b, _ := fs.ReadFile(fixtures.SampleFS(), n)
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := servlink.Validate(bytes.NewReader(data))
		if err != nil {
			var e *servlink.Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate: %v (%T) is not a *servlink.Error", err, err)
			}
			if e.Offset < 0 || e.Offset > int64(len(data)) {
				t.Fatalf("Validate: offset %d outside the %d-byte stream: %v", e.Offset, len(data), err)
			}
			if e.Reason.Text() == "unknown reason" {
				t.Fatalf("Validate: reason %s not in the table", e.Reason)
			}
			return
		}
		if err := m.Check(); err != nil {
			t.Fatalf("Validate accepted a manifest Check refuses: %v", err)
		}
		r, err := servlink.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Validate accepted the stream, NewReader refuses it: %v", err)
		}
		for i, want := range m.Parts {
			p, pr, err := r.Next()
			if err != nil {
				t.Fatalf("part %d: Next: %v", i, err)
			}
			if p != want {
				t.Fatalf("part %d: got %+v, manifest has %+v", i, p, want)
			}
			n, sum, err := servlink.HashReader(pr)
			if err != nil || n != want.Size || sum != want.SHA256 {
				t.Fatalf("part %d: read %d bytes, sha256 %s, err %v; manifest says %d, %s", i, n, sum, err, want.Size, want.SHA256)
			}
		}
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatalf("after the last part: %v, want io.EOF", err)
		}
	})
}
