package memfs_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"runtime"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/memfs"
)

// heapInUse is the heap in use once garbage is collected.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's cleanups released
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// random is n deterministic bytes from seed.
func random(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// zeroWriter checks that everything written to it is zero except want at
// off, and counts the bytes. It notes the first difference rather than
// failing at once, which would cost a Gomega call per page.
type zeroWriter struct {
	n, off int64
	want   []byte
	zero   []byte
	bad    int64 // the offset of the first chunk that differs, or -1
}

func (w *zeroWriter) Write(b []byte) (int, error) {
	total := len(b)
	for len(b) > 0 {
		k := min(len(b), len(w.zero))
		expect := w.zero[:k]
		if lo, hi := max(w.n, w.off), min(w.n+int64(k), w.off+int64(len(w.want))); lo < hi {
			expect = make([]byte, k)
			copy(expect[lo-w.n:hi-w.n], w.want[lo-w.off:hi-w.off])
		}
		if w.bad < 0 && !bytes.Equal(b[:k], expect) {
			w.bad = w.n
		}
		b, w.n = b[k:], w.n+int64(k)
	}
	return total, nil
}

// sealedSize is what sealing data costs: each page without its trailing
// zeros, pages of zeros nothing (pages of data are assumed distinct).
func sealedSize(data []byte) int64 {
	var n int64
	for off := 0; off < len(data); off += memfs.PageSize {
		n += int64(len(bytes.TrimRight(data[off:min(off+memfs.PageSize, len(data))], "\x00")))
	}
	return n
}

// changed0 is data with the byte at flipped.
func changed0(data []byte, at int) []byte {
	c := bytes.Clone(data)
	c[at] = ^c[at]
	return c
}

var _ = Describe("memory", func() {
	It("keeps a 1 GiB file with 4 KiB written in its middle in at most 2 pages", func() {
		before := heapInUse()
		m := memfs.New(memfs.Options{})
		f, err := m.Create("/disk")
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Truncate(1 << 30)).To(Succeed())
		data := random(1, 4096)
		off := int64(1<<29 - 1000) // across the boundary of two pages
		Expect(f.WriteAt(data, off)).To(Equal(len(data)))

		u := m.Usage()
		Expect(u.Logical).To(Equal(int64(1 << 30)))
		Expect(u.Private + u.Sealed).To(BeNumerically("<=", 2*memfs.PageSize))
		Expect(f.Close()).To(Succeed())
		u = m.Usage()
		Expect(u.Private).To(BeZero())
		Expect(u.Sealed).To(BeNumerically("<=", 2*memfs.PageSize))
		Expect(u.Sealed).To(BeNumerically(">=", len(data)))
		Expect(heapInUse() - before).To(BeNumerically("<", 8<<20))

		// All of it reads back: zeros but for the 4 KiB.
		f, err = m.Open("/disk")
		Expect(err).NotTo(HaveOccurred())
		got := make([]byte, len(data)+2)
		Expect(f.ReadAt(got, off-1)).To(Equal(len(got)))
		Expect(got[1 : len(got)-1]).To(Equal(data))
		Expect(got[0]).To(BeZero())
		Expect(got[len(got)-1]).To(BeZero())
		w := &zeroWriter{off: off, want: data, zero: make([]byte, 1<<20), bad: -1}
		Expect(io.Copy(w, f)).To(Equal(int64(1 << 30)))
		Expect(w.n).To(Equal(int64(1 << 30)))
		Expect(w.bad).To(Equal(int64(-1)), "the first chunk that is not as written")
		Expect(f.Close()).To(Succeed())
		runtime.KeepAlive(m)
	})

	It("keeps 54 file systems' copies of the same 64 MiB in one copy, and unshares one page on a write", func() {
		const size, systems, chunk = 64 << 20, 54, 32 << 10
		envelope := random(54, size)
		before := heapInUse()
		fss := make([]*memfs.Fs, systems)
		for i := range fss {
			fss[i] = memfs.New(memfs.Options{})
			f, err := fss[i].Create("/envelope")
			Expect(err).NotTo(HaveOccurred())
			for off := 0; off < size; off += chunk {
				n, err := f.Write(envelope[off : off+chunk])
				if err != nil || n != chunk {
					Fail("short write")
				}
			}
			Expect(f.Close()).To(Succeed())
		}
		sealed := sealedSize(envelope)
		grown := heapInUse() - before
		GinkgoWriter.Printf("heap grew %d MiB for %d copies of %d MiB\n", grown>>20, systems, size>>20)
		Expect(grown).To(BeNumerically("<", 2*size))
		for _, m := range fss {
			Expect(m.Usage()).To(Equal(memfs.Usage{Logical: size, Sealed: sealed}))
		}

		// One system changes one byte: one page of it becomes private.
		const at = 3*memfs.PageSize + 12345
		f, err := fss[7].OpenFile("/envelope", os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.WriteAt([]byte{^envelope[at]}, at)).To(Equal(1))
		u := fss[7].Usage()
		Expect(u.Private).To(Equal(int64(memfs.PageSize)))
		Expect(u.Sealed).To(Equal(sealed - sealedSize(envelope[3*memfs.PageSize:4*memfs.PageSize])))

		page := func(m *memfs.Fs) []byte {
			g, err := m.Open("/envelope")
			Expect(err).NotTo(HaveOccurred())
			defer g.Close()
			b := make([]byte, memfs.PageSize)
			Expect(g.ReadAt(b, 3*memfs.PageSize)).To(Equal(len(b)))
			return b
		}
		old := envelope[3*memfs.PageSize : 4*memfs.PageSize]
		for i, m := range fss {
			if i != 7 {
				Expect(page(m)).To(Equal(old), "system %d", i)
			}
		}
		changed := page(fss[7])
		Expect(changed[12345]).To(Equal(^envelope[at]))
		changed[12345] = envelope[at]
		Expect(changed).To(Equal(old))

		Expect(f.Close()).To(Succeed())
		Expect(fss[7].Usage()).To(Equal(memfs.Usage{Logical: size, Sealed: sealedSize(changed0(envelope, at))}))
		Expect(fss[0].Usage()).To(Equal(memfs.Usage{Logical: size, Sealed: sealed}))

		for _, i := range []int{0, 53} {
			g, err := fss[i].Open("/envelope")
			Expect(err).NotTo(HaveOccurred())
			var h bytes.Buffer
			Expect(io.Copy(&h, g)).To(Equal(int64(size)))
			Expect(bytes.Equal(h.Bytes(), envelope)).To(BeTrue(), "system %d reads the envelope", i)
			Expect(g.Close()).To(Succeed())
		}

		// Nothing holds the pages once the file systems are gone (fss is
		// not used below, so it no longer keeps them).
		Expect(heapInUse() - before).To(BeNumerically("<", 16<<20))
		runtime.KeepAlive(envelope)
	})

	It("turns pages of zeros into holes and shares identical pages between files", func() {
		m := memfs.New(memfs.Options{})
		page := random(3, memfs.PageSize)
		for _, name := range []string{"/x", "/y"} {
			f, err := m.Create(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Write(make([]byte, 2*memfs.PageSize))).To(Equal(2 * memfs.PageSize))
			Expect(f.Write(page)).To(Equal(len(page)))
			Expect(f.Write(page[:100])).To(Equal(100))
			Expect(m.Usage().Private).To(BeNumerically(">=", memfs.PageSize+100))
			Expect(f.Sync()).To(Succeed())
			Expect(m.Usage().Private).To(BeZero())
			Expect(f.Close()).To(Succeed())
		}
		// Each file: two holes, one shared page, 100 bytes shared too.
		Expect(m.Usage()).To(Equal(memfs.Usage{Logical: 2 * (3*memfs.PageSize + 100), Sealed: sealedSize(page) + sealedSize(page[:100])}))
	})
})
