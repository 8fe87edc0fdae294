package ddr_test

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
	"github.com/spf13/afero"
)

// BenchmarkDumpRestore dumps a full 100-cylinder 3390 extent (12 CMS 4K
// blocks on every track) to a file and restores it onto another volume.
func BenchmarkDumpRestore(b *testing.B) {
	for _, bc := range []struct {
		name string
		fs   func() (afero.Fs, string)
	}{
		{"MemMapFs", func() (afero.Fs, string) { return afero.NewMemMapFs(), "/" }},
		{"OsFs", func() (afero.Fs, string) { return afero.NewOsFs(), b.TempDir() }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const cyls = 100
			fs, dir := bc.fs()
			src := fullVolume(b, fs, filepath.Join(dir, "src.ckd"), cyls)
			dst, err := ckd.Create(fs, filepath.Join(dir, "dst.ckd"), "3390", cyls, "DST")
			if err != nil {
				b.Fatal(err)
			}
			defer dst.Close()
			srcExt, _ := src.Extent(0, cyls)
			dstExt, _ := dst.Extent(0, cyls)
			b.SetBytes(int64(cyls) * src.Geometry().CylinderBytes())
			var dumpTime, restoreTime time.Duration
			var size int64
			for b.Loop() {
				f, err := fs.OpenFile(filepath.Join(dir, "dump.ddr"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				s, err := ddr.Dump(srcExt, 0, cyls-1, f)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := ddr.Restore(f, dstExt, -1); err != nil {
					b.Fatal(err)
				}
				dumpTime += t1.Sub(t0)
				restoreTime += time.Since(t1)
				size = s.Bytes
				f.Close()
			}
			b.ReportMetric(float64(dumpTime.Milliseconds())/float64(b.N), "dump-ms/op")
			b.ReportMetric(float64(restoreTime.Milliseconds())/float64(b.N), "restore-ms/op")
			b.ReportMetric(float64(size)/1e6, "dump-MB")
		})
	}
}

func fullVolume(b *testing.B, fs afero.Fs, path string, cyls int) *ckd.Volume {
	v, err := ckd.Create(fs, path, "3390", cyls, "SRC")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	rng := rand.NewChaCha8([32]byte{1})
	for c := range cyls {
		for h := range 15 {
			if c == 0 && h == 0 {
				continue
			}
			t := &ckd.Track{Cyl: uint16(c), Head: uint16(h)}
			for r := range 12 {
				data := make([]byte, 4096)
				_, _ = rng.Read(data)
				t.Records = append(t.Records, ckd.Record{Count: ckd.Count{Cyl: uint16(c), Head: uint16(h), Rec: uint8(r + 1)}, Data: data})
			}
			if err := v.WriteTrack(t); err != nil {
				b.Fatal(err)
			}
		}
	}
	return v
}

// BenchmarkCopyPeers measures DDR COPY of a full 100-cylinder 3390 volume
// side by side with its peers on the same bytes: Hercules' dasdcopy (a
// CKD-aware volume copy) and dd (a raw byte copy, the floor).
func BenchmarkCopyPeers(b *testing.B) {
	const cyls = 100
	dir := b.TempDir()
	fs := afero.NewOsFs()
	src := fullVolume(b, fs, filepath.Join(dir, "src.ckd"), cyls)
	if err := src.Sync(); err != nil {
		b.Fatal(err)
	}
	bytes := int64(cyls) * src.Geometry().CylinderBytes()
	b.Run("csmsim-ddr-copy", func(b *testing.B) {
		dst, err := ckd.Create(fs, filepath.Join(dir, "dst.ckd"), "3390", cyls, "DST")
		if err != nil {
			b.Fatal(err)
		}
		defer dst.Close()
		srcExt, _ := src.Extent(0, cyls)
		dstExt, _ := dst.Extent(0, cyls)
		b.SetBytes(bytes)
		for b.Loop() {
			if _, err := ddr.Copy(srcExt, 0, cyls-1, dstExt, -1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("peer-dasdcopy", func(b *testing.B) {
		if _, err := exec.LookPath("dasdcopy"); err != nil {
			b.Fatal("dasdcopy missing: run make deps")
		}
		b.SetBytes(bytes)
		for b.Loop() {
			out := filepath.Join(dir, "dasdcopy.ckd")
			_ = os.Remove(out)
			if o, err := exec.Command("dasdcopy", "-q", src.Path(), out).CombinedOutput(); err != nil {
				b.Fatalf("dasdcopy: %v\n%s", err, o)
			}
		}
	})
	b.Run("peer-dd", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			out := filepath.Join(dir, "dd.ckd")
			if o, err := exec.Command("dd", "if="+src.Path(), "of="+out, "bs=1M", "status=none").CombinedOutput(); err != nil {
				b.Fatalf("dd: %v\n%s", err, o)
			}
		}
	})
}
