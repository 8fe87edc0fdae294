package memfs_test

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/memfs"
)

// BenchmarkWriteAtMiddle rewrites 3390 tracks (56832 bytes, as the CKD
// layer writes them) at offsets throughout a 32 MiB image that was written
// whole and closed first: memfs copies the pages a track touches, MemMapFs
// moves the image's tail on every write.
func BenchmarkWriteAtMiddle(b *testing.B) {
	const size, track = 32 << 20, 56832
	image := random(32, size)
	for _, c := range []struct {
		name string
		fs   func() afero.Fs
	}{
		{"memfs", func() afero.Fs { return memfs.New(memfs.Options{}) }},
		{"MemMapFs", afero.NewMemMapFs},
	} {
		b.Run(c.name, func(b *testing.B) {
			fsys := c.fs()
			if err := afero.WriteFile(fsys, "/disk", image, 0o644); err != nil {
				b.Fatal(err)
			}
			f, err := fsys.OpenFile("/disk", os.O_RDWR, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			data := random(33, track)
			b.SetBytes(track)
			b.ResetTimer()
			for i := range b.N {
				off := int64(i*7919) % (size / track) * track
				if _, err := f.WriteAt(data, off); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSeal64MiB is the Close after writing 64 MiB: pages new to the
// process are copied and interned, pages already interned elsewhere are
// only hashed and compared.
func BenchmarkSeal64MiB(b *testing.B) {
	const size = 64 << 20
	data := random(64, size)
	var gen uint64 // makes pages new across runs too
	for _, c := range []struct {
		name  string
		fresh bool
	}{{"new", true}, {"shared", false}} {
		b.Run(c.name, func(b *testing.B) {
			keep := memfs.New(memfs.Options{}) // holds the shared pages
			if err := afero.WriteFile(keep, "/f", data, 0o644); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				if c.fresh {
					gen++
					for off := 0; off < size; off += memfs.PageSize {
						binary.LittleEndian.PutUint64(data[off:], gen)
					}
				}
				m := memfs.New(memfs.Options{})
				f, err := m.Create("/f")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.Write(data); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := f.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if u := keep.Usage(); u.Sealed == 0 {
				b.Fatal("nothing sealed")
			}
		})
	}
}
