package memfs_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/memfs"
)

// write creates name holding data.
func write(m afero.Fs, name string, data []byte) {
	GinkgoHelper()
	Expect(afero.WriteFile(m, name, data, 0o644)).To(Succeed())
}

// read is the whole of name.
func read(m afero.Fs, name string) []byte {
	GinkgoHelper()
	b, err := afero.ReadFile(m, name)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// readAll is the whole file behind f, from its start.
func readAll(f afero.File) []byte {
	GinkgoHelper()
	fi, err := f.Stat()
	Expect(err).NotTo(HaveOccurred())
	b := make([]byte, fi.Size())
	n, err := f.ReadAt(b, 0)
	if err != io.EOF {
		Expect(err).NotTo(HaveOccurred())
	}
	return b[:n]
}

var _ = Describe("handles", func() {
	var m *memfs.Fs
	BeforeEach(func() { m = memfs.New(memfs.Options{}) })

	It("refuse everything once closed, a second Close included", func() {
		f, err := m.Create("/f")
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())

		err = f.Close()
		Expect(err).To(MatchError(fs.ErrClosed))
		Expect(err).To(MatchError(afero.ErrFileClosed))
		var pe *fs.PathError
		Expect(errors.As(err, &pe)).To(BeTrue())
		Expect(pe.Op).To(Equal("close"))

		_, err = f.Read(make([]byte, 1))
		Expect(err).To(MatchError(fs.ErrClosed))
		_, err = f.Write([]byte("x"))
		Expect(err).To(MatchError(fs.ErrClosed))
		_, err = f.WriteAt([]byte("x"), 0)
		Expect(err).To(MatchError(fs.ErrClosed))
		_, err = f.ReadAt(make([]byte, 1), 0)
		Expect(err).To(MatchError(fs.ErrClosed))
		_, err = f.Seek(0, io.SeekStart)
		Expect(err).To(MatchError(fs.ErrClosed))
		_, err = f.Stat()
		Expect(err).To(MatchError(fs.ErrClosed))
		Expect(f.Truncate(0)).To(MatchError(fs.ErrClosed))
		Expect(f.Sync()).To(MatchError(fs.ErrClosed))
		_, err = f.(io.WriterTo).WriteTo(io.Discard)
		Expect(err).To(MatchError(fs.ErrClosed))
		Expect(f.Name()).To(Equal("/f"))

		d, err := m.Open("/")
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Close()).To(Succeed())
		_, err = d.Readdir(-1)
		Expect(err).To(MatchError(fs.ErrClosed)) // os says "use of closed file"
	})

	It("create a file once with O_EXCL", func() {
		f, err := m.OpenFile("/lock", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		_, err = m.OpenFile("/lock", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		Expect(err).To(MatchError(fs.ErrExist))
		Expect(os.IsExist(err)).To(BeTrue())
		fi, err := m.Stat("/lock")
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Mode()).To(Equal(fs.FileMode(0o600)))
	})

	It("write at the end with O_APPEND wherever they are, read from the start, refuse WriteAt", func() {
		write(m, "/log", []byte("one\n"))
		f, err := m.OpenFile("/log", os.O_RDWR|os.O_APPEND, 0)
		Expect(err).NotTo(HaveOccurred())
		b := make([]byte, 3)
		Expect(f.Read(b)).To(Equal(3))
		Expect(string(b)).To(Equal("one"))
		Expect(f.Seek(0, io.SeekStart)).To(Equal(int64(0)))
		Expect(f.WriteString("two\n")).To(Equal(4))
		Expect(f.Seek(0, io.SeekCurrent)).To(Equal(int64(8)))
		_, err = f.WriteAt([]byte("x"), 0)
		Expect(err).To(HaveOccurred())
		Expect(errors.Is(err, fs.ErrInvalid)).To(BeTrue())
		Expect(f.Close()).To(Succeed())
		Expect(string(read(m, "/log"))).To(Equal("one\ntwo\n"))
	})

	It("write only when opened for writing, read only when opened for reading", func() {
		write(m, "/f", []byte("abc"))
		r, err := m.Open("/f")
		Expect(err).NotTo(HaveOccurred())
		_, err = r.Write([]byte("x"))
		Expect(err).To(MatchError(syscall.EBADF))
		_, err = r.WriteAt([]byte("x"), 0)
		Expect(err).To(MatchError(syscall.EBADF))
		Expect(r.Truncate(0)).To(MatchError(fs.ErrInvalid))
		w, err := m.OpenFile("/f", os.O_WRONLY, 0)
		Expect(err).NotTo(HaveOccurred())
		_, err = w.Read(make([]byte, 1))
		Expect(err).To(MatchError(syscall.EBADF))
		Expect(string(read(m, "/f"))).To(Equal("abc"))
	})

	It("read to io.EOF, ReadAt partly at the end, and seek from start, current and end", func() {
		write(m, "/f", []byte("0123456789"))
		f, err := m.Open("/f")
		Expect(err).NotTo(HaveOccurred())
		b := make([]byte, 4)
		n, err := f.ReadAt(b, 8)
		Expect(n).To(Equal(2))
		Expect(err).To(Equal(io.EOF))
		Expect(string(b[:n])).To(Equal("89"))
		Expect(f.Seek(-3, io.SeekEnd)).To(Equal(int64(7)))
		Expect(f.Read(b)).To(Equal(3))
		_, err = f.Read(b)
		Expect(err).To(Equal(io.EOF))
		Expect(f.Seek(-5, io.SeekCurrent)).To(Equal(int64(5)))
		_, err = f.Seek(-6, io.SeekCurrent)
		Expect(err).To(MatchError(fs.ErrInvalid))
		_, err = f.ReadAt(b, -1)
		Expect(err).To(MatchError(fs.ErrInvalid))
	})

	It("read zeros where a file was cut and grown again, whether its pages were sealed or not", func() {
		data := random(6, 2*memfs.PageSize)
		for _, sealed := range []bool{false, true} {
			f, err := m.Create("/f")
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Write(data)).To(Equal(len(data)))
			if sealed {
				Expect(f.Sync()).To(Succeed())
			}
			cut := int64(memfs.PageSize + 100)
			Expect(f.Truncate(cut)).To(Succeed())
			Expect(f.WriteAt([]byte("x"), cut+50)).To(Equal(1)) // in the page that was cut
			Expect(f.Truncate(2*memfs.PageSize + 10)).To(Succeed())
			want := make([]byte, 2*memfs.PageSize+10)
			copy(want, data[:cut])
			want[cut+50] = 'x'
			Expect(bytes.Equal(readAll(f), want)).To(BeTrue(), "sealed %v", sealed)
			Expect(f.Close()).To(Succeed())
			Expect(bytes.Equal(read(m, "/f"), want)).To(BeTrue(), "sealed %v, once closed", sealed)
		}
	})

	It("see each other's writes, each at its own offset", func() {
		a, err := m.Create("/f")
		Expect(err).NotTo(HaveOccurred())
		b, err := m.OpenFile("/f", os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.WriteString("hello")).To(Equal(5))
		got := make([]byte, 5)
		Expect(b.Read(got)).To(Equal(5))
		Expect(string(got)).To(Equal("hello"))
		Expect(b.WriteString("!")).To(Equal(1))
		Expect(a.WriteString(" world")).To(Equal(6)) // a is still at 5
		Expect(string(readAll(b))).To(Equal("hello world"))
	})

	It("keep working on a file renamed, removed or replaced", func() {
		write(m, "/old", []byte("old"))
		write(m, "/new", []byte("new"))
		onNew, err := m.Open("/new")
		Expect(err).NotTo(HaveOccurred())
		onOld, err := m.OpenFile("/old", os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())

		Expect(m.Rename("/old", "/new")).To(Succeed())
		_, err = m.Stat("/old")
		Expect(os.IsNotExist(err)).To(BeTrue())
		Expect(string(readAll(onNew))).To(Equal("new"), "the replaced file lives on for its handle")
		Expect(onOld.WriteAt([]byte("O"), 0)).To(Equal(1))
		Expect(string(read(m, "/new"))).To(Equal("Old"), "writes through the renamed file's handle land under its new name")
		Expect(onOld.Name()).To(Equal("/old"))

		Expect(m.Remove("/new")).To(Succeed())
		Expect(onOld.WriteAt([]byte("L"), 1)).To(Equal(1))
		Expect(string(readAll(onOld))).To(Equal("OLd"))
	})

	It("copy to an io.Writer page by page, sealed pages without a buffer", func() {
		data := random(9, 5*memfs.PageSize+17)
		write(m, "/f", data)
		f, err := m.Open("/f")
		Expect(err).NotTo(HaveOccurred())
		h := sha256.New()
		Expect(io.Copy(h, f)).To(Equal(int64(len(data))))
		sum := sha256.Sum256(data)
		Expect(h.Sum(nil)).To(Equal(sum[:]))

		// Bytes allocated per copy, with and without WriteTo.
		perCopy := func(src io.Reader) uint64 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 10 {
				_, _ = f.Seek(0, io.SeekStart)
				h.Reset()
				_, _ = io.Copy(h, src)
			}
			runtime.ReadMemStats(&after)
			return (after.TotalAlloc - before.TotalAlloc) / 10
		}
		Expect(perCopy(struct{ io.Reader }{f})).To(BeNumerically(">=", 32<<10), "io.Copy's own buffer")
		Expect(perCopy(f)).To(BeNumerically("<", 1<<10))
		Expect(h.Sum(nil)).To(Equal(sum[:]))

		// Private pages, holes and a partial last page, from an offset.
		g, err := m.Create("/g")
		Expect(err).NotTo(HaveOccurred())
		Expect(g.Truncate(3*memfs.PageSize + 5)).To(Succeed())
		Expect(g.WriteAt(data[1:memfs.PageSize+1], 0)).To(Equal(memfs.PageSize))
		Expect(g.WriteAt(data[:100], memfs.PageSize+7)).To(Equal(100))
		want := make([]byte, 3*memfs.PageSize+5)
		copy(want, data[1:memfs.PageSize+1])
		copy(want[memfs.PageSize+7:], data[:100])
		Expect(g.Seek(3, io.SeekStart)).To(Equal(int64(3)))
		var buf bytes.Buffer
		Expect(g.(io.WriterTo).WriteTo(&buf)).To(Equal(int64(len(want) - 3)))
		Expect(bytes.Equal(buf.Bytes(), want[3:])).To(BeTrue())
		Expect(g.Seek(0, io.SeekCurrent)).To(Equal(int64(len(want))), "WriteTo moves the offset to the end")
	})
})

var _ = Describe("the tree", func() {
	var m *memfs.Fs
	BeforeEach(func() { m = memfs.New(memfs.Options{}) })

	It("needs a parent for Create and Mkdir, makes parents with MkdirAll", func() {
		_, err := m.Create("/a/f")
		Expect(os.IsNotExist(err)).To(BeTrue())
		Expect(m.Mkdir("/a/b", 0o755)).To(MatchError(fs.ErrNotExist))
		Expect(m.MkdirAll("/a/b/c", 0o750)).To(Succeed())
		Expect(m.MkdirAll("/a/b/c", 0o750)).To(Succeed())
		Expect(m.Mkdir("/a/b/c", 0o750)).To(MatchError(fs.ErrExist))
		fi, err := m.Stat("/a/b")
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.IsDir()).To(BeTrue())
		Expect(fi.Mode()).To(Equal(fs.ModeDir | 0o750))
		write(m, "/a/f", nil)
		Expect(m.MkdirAll("/a/f/g", 0o755)).To(MatchError(syscall.ENOTDIR))
		_, err = m.Create("/a/f/g")
		Expect(err).To(MatchError(syscall.ENOTDIR))
	})

	It("cleans names: relative from the root, dots resolved", func() {
		Expect(m.MkdirAll("a/b", 0o755)).To(Succeed())
		write(m, "a/./b/../b/f", []byte("x"))
		Expect(string(read(m, "/a/b/f"))).To(Equal("x"))
		Expect(string(read(m, "/../a//b/f"))).To(Equal("x"))
		fi, err := m.Stat("/")
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Name()).To(Equal("/"))
		_, err = m.Stat("")
		Expect(err).To(MatchError(fs.ErrNotExist))
	})

	It("removes only empty directories with Remove, everything with RemoveAll", func() {
		Expect(m.MkdirAll("/a/b/c", 0o755)).To(Succeed())
		write(m, "/a/b/c/f", []byte("x"))
		write(m, "/a/g", []byte("y"))
		Expect(m.Remove("/a/b")).To(MatchError(syscall.ENOTEMPTY))
		Expect(m.Remove("/nothing")).To(MatchError(fs.ErrNotExist))

		d, err := m.Open("/a/b/c")
		Expect(err).NotTo(HaveOccurred())
		f, err := m.OpenFile("/a/b/c/f", os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.RemoveAll("/a/b")).To(Succeed())
		Expect(m.RemoveAll("/a/b")).To(Succeed())
		Expect(m.RemoveAll("/nothing/at/all")).To(Succeed())
		_, err = m.Stat("/a/b/c/f")
		Expect(os.IsNotExist(err)).To(BeTrue())
		Expect(string(read(m, "/a/g"))).To(Equal("y"))
		Expect(f.WriteString("z")).To(Equal(1))
		Expect(string(readAll(f))).To(Equal("z"), "a removed file lives on for its handle")
		_, err = d.Readdir(-1)
		Expect(err).To(MatchError(fs.ErrNotExist), "a removed directory cannot be listed, as on Linux")
		Expect(m.Usage().Logical).To(Equal(int64(1)))

		Expect(m.RemoveAll("/")).To(Succeed())
		names, err := afero.ReadDir(m, "/")
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(BeEmpty())
	})

	It("renames directories with everything below them, but not into themselves or onto a directory", func() {
		Expect(m.MkdirAll("/a/b", 0o755)).To(Succeed())
		write(m, "/a/b/f", []byte("x"))
		d, err := m.Open("/a/b")
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Rename("/a", "/z")).To(Succeed())
		Expect(string(read(m, "/z/b/f"))).To(Equal("x"))
		names, err := d.Readdirnames(-1)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(Equal([]string{"f"}))

		Expect(m.Rename("/z", "/z/b/y")).To(MatchError(fs.ErrInvalid))
		Expect(m.Mkdir("/empty", 0o755)).To(Succeed())
		err = m.Rename("/z", "/empty")
		Expect(err).To(MatchError(fs.ErrExist)) // as os.Rename, which refuses a directory as the target
		var le *os.LinkError
		Expect(errors.As(err, &le)).To(BeTrue())
		Expect(m.Rename("/nothing", "/x")).To(MatchError(fs.ErrNotExist))
	})

	It("lists directories sorted, count at a time", func() {
		Expect(m.Mkdir("/d", 0o755)).To(Succeed())
		for _, name := range []string{"c", "a", "e", "b", "d"} {
			write(m, "/d/"+name, []byte(name+name))
		}
		Expect(m.Mkdir("/d/sub", 0o700)).To(Succeed())
		d, err := m.Open("/d")
		Expect(err).NotTo(HaveOccurred())
		infos, err := d.Readdir(4)
		Expect(err).NotTo(HaveOccurred())
		Expect(infos).To(HaveLen(4))
		Expect(infos[0].Name()).To(Equal("a"))
		Expect(infos[0].Size()).To(Equal(int64(2)))
		Expect(m.Remove("/d/e")).To(Succeed()) // skipped, as os skips an entry gone since the listing
		names, err := d.Readdirnames(4)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(Equal([]string{"sub"}))
		names, err = d.Readdirnames(4)
		Expect(err).To(Equal(io.EOF))
		Expect(names).To(BeEmpty())
		names, err = d.Readdirnames(-1)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(BeEmpty())
		Expect(d.Seek(0, io.SeekStart)).To(Equal(int64(0)))
		names, err = d.Readdirnames(0)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(Equal([]string{"a", "b", "c", "d", "sub"}))

		f, err := m.Open("/d/a")
		Expect(err).NotTo(HaveOccurred())
		_, err = f.Readdir(-1)
		Expect(err).To(MatchError(syscall.ENOTDIR))
		_, err = d.Read(make([]byte, 1))
		Expect(err).To(MatchError(syscall.EISDIR))
	})

	It("takes modification times from the clock it is given, the epoch without one", func() {
		fi, err := m.Stat("/")
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.ModTime()).To(Equal(time.Unix(0, 0).UTC()))

		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		m = memfs.New(memfs.Options{Now: func() time.Time { return now }})
		f, err := m.Create("/f")
		Expect(err).NotTo(HaveOccurred())
		fi, err = m.Stat("/f")
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.ModTime()).To(Equal(now))
		now = now.Add(time.Hour)
		Expect(f.WriteString("x")).To(Equal(1))
		fi, err = f.Stat()
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.ModTime()).To(Equal(now))

		then := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		Expect(m.Chtimes("/f", then, then)).To(Succeed())
		Expect(m.Chtimes("/f", time.Time{}, time.Time{})).To(Succeed())
		fi, err = m.Stat("/f")
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.ModTime()).To(Equal(then))
	})

	It("changes modes and checks owners' files exist, as Lstat sees", func() {
		Expect(m.Mkdir("/d", 0o755)).To(Succeed())
		Expect(m.Chmod("/d", 0o700|fs.ModeSticky)).To(Succeed())
		fi, ok, err := m.LstatIfPossible("/d")
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeTrue())
		Expect(fi.Mode()).To(Equal(fs.ModeDir | fs.ModeSticky | 0o700))
		Expect(m.Chown("/d", 1, 2)).To(Succeed())
		Expect(m.Chown("/nothing", 1, 2)).To(MatchError(fs.ErrNotExist))
		Expect(m.Chmod("/nothing", 0o600)).To(MatchError(fs.ErrNotExist))
		_, _, err = m.LstatIfPossible("/nothing")
		Expect(os.IsNotExist(err)).To(BeTrue())
	})
})

var _ = Describe("Generation", func() {
	It("moves on at every change of contents, sizes, names or the tree, and not when read", func() {
		fsys := memfs.New(memfs.Options{})
		changes := func(what string, do func() error) {
			GinkgoHelper()
			before := fsys.Generation()
			Expect(do()).To(Succeed(), what)
			Expect(fsys.Generation()).To(BeNumerically(">", before), what)
		}
		same := func(what string, do func() error) {
			GinkgoHelper()
			before := fsys.Generation()
			Expect(do()).To(Succeed(), what)
			Expect(fsys.Generation()).To(Equal(before), what)
		}
		changes("mkdir", func() error { return fsys.MkdirAll("/a/b", 0o755) })
		var f afero.File
		changes("create", func() (err error) { f, err = fsys.Create("/a/b/f"); return err })
		changes("write", func() error { _, err := f.Write([]byte("data")); return err })
		changes("write at", func() error { _, err := f.WriteAt([]byte("D"), 0); return err })
		changes("truncate", func() error { return f.Truncate(2) })
		same("close", f.Close)
		same("read", func() error { _, err := afero.ReadFile(fsys, "/a/b/f"); return err })
		same("stat", func() error { _, err := fsys.Stat("/a/b/f"); return err })
		same("list", func() error { _, err := afero.ReadDir(fsys, "/a/b"); return err })
		changes("rename", func() error { return fsys.Rename("/a/b/f", "/a/g") })
		changes("copy", func() error { return fsys.CopyFile("/a/g", "/a/h") })
		changes("open truncating", func() error {
			f, err := fsys.OpenFile("/a/h", os.O_WRONLY|os.O_TRUNC, 0)
			if err == nil {
				err = f.Close()
			}
			return err
		})
		changes("remove", func() error { return fsys.Remove("/a/h") })
		changes("remove all", func() error { return fsys.RemoveAll("/a") })
	})
})
