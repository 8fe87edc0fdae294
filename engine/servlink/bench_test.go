package servlink_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"sync"
	"testing"

	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/fixtures"
)

var bench struct {
	once   sync.Once
	stream []byte
	parts  int
}

// benchEnvelope is an RSU of about 64 MiB (66 parts, 1 MiB on average),
// generated once by the fixtures generator and kept in memory as the source.
func benchEnvelope(b *testing.B) []byte {
	bench.once.Do(func() {
		base := fixtures.Base("720", 64, fixtures.Scale{Parts: 8, PartBytes: 1 << 20})
		e := fixtures.RSU("720", "RSU6464", 64, base, 50)
		var buf bytes.Buffer
		if err := fixtures.WriteEnvelope(&buf, e); err != nil {
			b.Fatal(err)
		}
		bench.stream, bench.parts = buf.Bytes(), len(e.Parts)
	})
	return bench.stream
}

// noWriterTo hides bytes.Reader's WriteTo so io.Copy reads through a buffer,
// as it does from a network connection.
type noWriterTo struct{ r io.Reader }

func (n noWriterTo) Read(p []byte) (int, error) { return n.r.Read(p) }

// BenchmarkValidate compares Validate over a 64 MiB envelope with a bare
// SHA-256 pass over the same bytes (what sha256sum does).
func BenchmarkValidate(b *testing.B) {
	s := benchEnvelope(b)
	b.Logf("envelope: %d bytes, %d parts", len(s), bench.parts)
	b.Run("Validate", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := servlink.Validate(bytes.NewReader(s)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sha256-io.Copy", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := io.Copy(sha256.New(), bytes.NewReader(s)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sha256-io.Copy-32KiB-reads", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := io.Copy(sha256.New(), noWriterTo{bytes.NewReader(s)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
