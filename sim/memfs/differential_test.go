package memfs_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/memfs"
)

// The reference is afero.OsFs under a temporary directory, not
// afero.MemMapFs: MemMapFs creates missing parents on Create, removes
// non-empty directories, lets a handle be used and closed again after
// Close, reads through write-only handles, starts O_APPEND handles at the
// end and fails O_EXCL without O_CREATE, none of which os does, and memfs
// is meant to behave as os does on Linux, errors included.
var _ = Describe("memfs compared with the OS file system", func() {
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8} {
		It(fmt.Sprintf("agrees on 400 random operations on a tree, seed %d", seed), func() {
			newDiff(seed, GinkgoT().TempDir(), tree).run(400)
		})
		It(fmt.Sprintf("agrees on 400 random operations on two files' contents, seed %d", seed), func() {
			newDiff(seed, GinkgoT().TempDir(), contents).run(400)
		})
	}
})

// tree is where the random operations look for the tree's sake: names
// that are sometimes files, sometimes directories, at depths 1 to 3.
var tree = []string{"/a", "/b", "/f", "/g", "/a/a", "/a/b", "/a/f", "/a/g", "/b/f", "/b/a", "/a/b/f", "/a/a/g", "/b/a/f", "/b/a/a"}

// contents is where they look for the pages' sake: two files only, so most
// operations read and change them (cutting a page and growing it again,
// writing over sealed pages, sealing with handles open).
var contents = []string{"/f", "/g"}

// side is one file system and its open handles.
type side struct {
	fs    afero.Fs
	root  string // prefix of every name on this side
	files []afero.File
}

func (s *side) p(name string) string { return s.root + name }

// slot is what both sides agree on about an open handle.
type slot struct {
	closed bool
	dir    bool
	// listed is a directory handle Readdir has read to the end: ext4 then
	// leaves its offset at 1<<63-1, where read(2) fails with EINVAL
	// instead of EISDIR, a quirk of the disk, not of os.
	listed bool
}

// outcome is everything an operation shows; both sides must show the same.
type outcome struct {
	Err   string
	N     int64
	Data  []byte
	List  []string
	Extra string
}

type diff struct {
	r        *rand.Rand
	chacha   *rand.ChaCha8
	mem, ref *side
	pool     []string
	slots    []slot
	history  []string
}

func newDiff(seed uint64, dir string, pool []string) *diff {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	chacha := rand.NewChaCha8(key)
	return &diff{
		r:      rand.New(chacha),
		chacha: chacha,
		pool:   pool,
		mem:    &side{fs: memfs.New(memfs.Options{})},
		ref:    &side{fs: afero.NewOsFs(), root: dir},
	}
}

// kind is an error as far as os defines it: the operation, the errno or
// sentinel, and the text of anything else, without the path (the sides'
// paths differ by their root).
func kind(err error) string {
	switch {
	case err == nil:
		return ""
	case err == io.EOF:
		return "EOF"
	}
	op := ""
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(err, &pe) {
		op = pe.Op
	} else if errors.As(err, &le) {
		op = le.Op
	}
	if errors.Is(err, fs.ErrClosed) {
		return op + ": closed"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return op + ": " + errno.Error()
	}
	for errors.Unwrap(err) != nil {
		err = errors.Unwrap(err)
	}
	return op + ": " + err.Error()
}

func (d *diff) note(format string, args ...any) {
	d.history = append(d.history, fmt.Sprintf(format, args...))
}

// trail is the operations so far, for a failure's message.
func (d *diff) trail() string {
	h := d.history
	if len(h) > 40 {
		h = h[len(h)-40:]
	}
	open := make([]string, len(d.mem.files))
	for i, f := range d.mem.files {
		open[i] = fmt.Sprintf("files[%d] %s", i, f.Name())
		if i < len(d.slots) {
			open[i] += fmt.Sprintf(" %+v", d.slots[i])
		}
	}
	return "after:\n  " + strings.Join(h, "\n  ") + "\nwith:\n  " + strings.Join(open, "\n  ")
}

// both applies op to each side and requires the same outcome.
func (d *diff) both(op func(s *side) outcome) outcome {
	want := op(d.ref)
	got := op(d.mem)
	ExpectWithOffset(1, got).To(Equal(want), d.trail)
	return want
}

func (d *diff) path() string { return d.pool[d.r.IntN(len(d.pool))] }

// data is n bytes that are zeros, one repeated byte or random, so pages
// become holes, shared or private when sealed.
func (d *diff) data(n int) []byte {
	b := make([]byte, n)
	switch d.r.IntN(4) {
	case 0:
	case 1:
		for i := range b {
			b[i] = "xy"[n%2]
		}
	default:
		_, _ = d.chacha.Read(b)
	}
	return b
}

// offset is often near a page boundary, sometimes far past the end of
// anything written yet, rarely negative.
func (d *diff) offset() int64 {
	switch d.r.IntN(20) {
	case 0:
		return -1 - d.r.Int64N(10)
	case 1, 2, 3, 4, 5, 6:
		return int64(d.r.IntN(4))*memfs.PageSize + d.r.Int64N(17) - 8
	default:
		return d.r.Int64N(3*memfs.PageSize + 2000)
	}
}

// offsetIn is an offset for handle i: half the time near the end of its
// file, or anywhere in it, so that files are cut inside a page and written
// again just past the cut.
func (d *diff) offsetIn(i int) int64 {
	fi, err := d.ref.files[i].Stat()
	if err != nil || fi.IsDir() || d.r.IntN(2) == 0 {
		return d.offset()
	}
	size := fi.Size()
	if d.r.IntN(2) == 0 {
		return max(0, size+d.r.Int64N(400)-200)
	}
	return d.r.Int64N(size + 1)
}

func (d *diff) length() int {
	switch d.r.IntN(8) {
	case 0:
		return 0
	case 1, 2, 3:
		return 1 + d.r.IntN(200)
	default:
		return d.r.IntN(memfs.PageSize + memfs.PageSize/2)
	}
}

func (d *diff) flags() int {
	f := []int{os.O_RDONLY, os.O_WRONLY, os.O_RDWR}[d.r.IntN(3)]
	for _, extra := range []int{os.O_CREATE, os.O_EXCL, os.O_TRUNC, os.O_APPEND} {
		if d.r.IntN(3) == 0 {
			f |= extra
		}
	}
	return f
}

func flagString(f int) string {
	s := []string{"RDONLY", "WRONLY", "RDWR"}[f&3]
	for _, x := range []struct {
		bit  int
		name string
	}{{os.O_CREATE, "CREATE"}, {os.O_EXCL, "EXCL"}, {os.O_TRUNC, "TRUNC"}, {os.O_APPEND, "APPEND"}} {
		if f&x.bit != 0 {
			s += "|" + x.name
		}
	}
	return s
}

// info is what both sides must agree on about a file: not modes, which the
// OS's umask changes, nor times, nor directory sizes.
func info(fi fs.FileInfo) string {
	if fi.IsDir() {
		return fi.Name() + " dir"
	}
	return fmt.Sprintf("%s %d", fi.Name(), fi.Size())
}

// open adds a handle to both sides when both open it.
func (d *diff) open(name string, flag int) {
	d.note("OpenFile(%s, %s)", name, flagString(flag))
	out := d.both(func(s *side) outcome {
		f, err := s.fs.OpenFile(s.p(name), flag, 0o644)
		if err != nil {
			return outcome{Err: kind(err)}
		}
		s.files = append(s.files, f)
		fi, err := f.Stat()
		Expect(err).NotTo(HaveOccurred())
		out := outcome{Extra: info(fi) + " " + strings.TrimPrefix(f.Name(), s.root)}
		if fi.IsDir() {
			out.N = 1
		}
		return out
	})
	if out.Err == "" {
		d.slots = append(d.slots, slot{dir: out.N == 1})
	}
}

// handle picks an open handle, or opens one if there is none.
func (d *diff) handle() (int, bool) {
	if len(d.slots) == 0 {
		d.open(d.path(), d.flags())
		return 0, false
	}
	return d.r.IntN(len(d.slots)), true
}

// forget drops handle i from both sides, closing it if need be.
func (d *diff) forget(i int) {
	for _, s := range []*side{d.mem, d.ref} {
		if !d.slots[i].closed {
			Expect(s.files[i].Close()).To(Succeed())
		}
		s.files = slices.Delete(s.files, i, i+1)
	}
	d.slots = slices.Delete(d.slots, i, i+1)
}

func (d *diff) run(steps int) {
	for i := range steps {
		if len(d.slots) > 8 {
			d.forget(0)
		}
		d.step()
		d.compareNames()
		if i%25 == 0 {
			d.compareTrees()
		}
	}
	for len(d.slots) > 0 {
		d.forget(0)
	}
	d.compareTrees()
	u := d.mem.fs.(*memfs.Fs).Usage()
	Expect(u.Private).To(BeZero(), "every page is sealed once every handle is closed")
	Expect(u.Sealed).To(BeNumerically("<=", u.Logical), "sealed pages hold no bytes past a file's end")
}

func (d *diff) step() {
	op := d.r.IntN(100)
	if len(d.pool) == len(contents) && op >= 69 && op < 92 {
		op = 5 + d.r.IntN(64) // opening and using handles rather than changing the tree
	}
	switch {
	case op < 12:
		d.open(d.path(), d.flags())
	case op < 15:
		name := d.path()
		d.note("Create(%s)", name)
		out := d.both(func(s *side) outcome {
			f, err := s.fs.Create(s.p(name))
			if err != nil {
				return outcome{Err: kind(err)}
			}
			s.files = append(s.files, f)
			return outcome{}
		})
		if out.Err == "" {
			d.slots = append(d.slots, slot{})
		}
	case op < 25:
		i, ok := d.handle()
		if !ok {
			return
		}
		b := d.data(d.length())
		str := d.r.IntN(4) == 0
		d.note("files[%d].Write(%d bytes, string %v)", i, len(b), str)
		d.both(func(s *side) outcome {
			var n int
			var err error
			if str {
				n, err = s.files[i].WriteString(string(b))
			} else {
				n, err = s.files[i].Write(b)
			}
			return outcome{Err: kind(err), N: int64(n)}
		})
	case op < 35:
		i, ok := d.handle()
		if !ok {
			return
		}
		b, off := d.data(d.length()), d.offsetIn(i)
		d.note("files[%d].WriteAt(%d bytes, %d)", i, len(b), off)
		d.both(func(s *side) outcome {
			n, err := s.files[i].WriteAt(b, off)
			return outcome{Err: kind(err), N: int64(n)}
		})
	case op < 41:
		i, ok := d.handle()
		if !ok || d.slots[i].listed {
			return
		}
		n := d.length()
		d.note("files[%d].Read(%d)", i, n)
		d.both(func(s *side) outcome {
			b := garbage(n)
			n, err := s.files[i].Read(b)
			return outcome{Err: kind(err), N: int64(n), Data: nonEmpty(b[:n])}
		})
	case op < 47:
		i, ok := d.handle()
		if !ok || d.slots[i].listed {
			return
		}
		n, off := d.length(), d.offsetIn(i)
		d.note("files[%d].ReadAt(%d, %d)", i, n, off)
		d.both(func(s *side) outcome {
			b := garbage(n)
			n, err := s.files[i].ReadAt(b, off)
			return outcome{Err: kind(err), N: int64(n), Data: nonEmpty(b[:n])}
		})
	case op < 49:
		i, ok := d.handle()
		if !ok || d.slots[i].listed {
			return
		}
		d.note("io.Copy(buffer, files[%d])", i)
		d.both(func(s *side) outcome {
			var buf bytes.Buffer
			n, err := io.Copy(&buf, s.files[i])
			return outcome{Err: kind(err), N: n, Data: nonEmpty(buf.Bytes())}
		})
	case op < 54:
		i, ok := d.handle()
		// os restarts a directory's listing on Seek in ways memfs does
		// not copy; the semantics spec covers directories.
		if !ok || d.slots[i].dir {
			return
		}
		off, whence := d.offset()-memfs.PageSize, []int{0, 1, 2, 7}[d.r.IntN(4)] // 3 and 4 are Linux's SEEK_DATA and SEEK_HOLE
		d.note("files[%d].Seek(%d, %d)", i, off, whence)
		d.both(func(s *side) outcome {
			n, err := s.files[i].Seek(off, whence)
			return outcome{Err: kind(err), N: n}
		})
	case op < 59:
		i, ok := d.handle()
		if !ok {
			return
		}
		size := d.offsetIn(i)
		d.note("files[%d].Truncate(%d)", i, size)
		d.both(func(s *side) outcome { return outcome{Err: kind(s.files[i].Truncate(size))} })
	case op < 65:
		i, ok := d.handle()
		if !ok {
			return
		}
		d.note("files[%d].Close()", i)
		d.both(func(s *side) outcome { return outcome{Err: kind(s.files[i].Close())} })
		d.slots[i].closed = true
		if d.r.IntN(2) == 0 {
			d.forget(i)
		}
	case op < 67:
		i, ok := d.handle()
		if !ok {
			return
		}
		d.note("files[%d].Sync()", i)
		d.both(func(s *side) outcome { return outcome{Err: kind(s.files[i].Sync())} })
	case op < 69:
		i, ok := d.handle()
		if !ok {
			return
		}
		d.note("files[%d].Stat()", i)
		d.both(func(s *side) outcome {
			fi, err := s.files[i].Stat()
			if err != nil {
				return outcome{Err: kind(err)}
			}
			return outcome{Extra: info(fi)}
		})
	case op < 70:
		i, ok := d.handle()
		// os's Readdir on a closed handle fails with poll's "use of
		// closed file" rather than fs.ErrClosed; memfs reports
		// fs.ErrClosed (see the semantics spec).
		if !ok || d.slots[i].closed {
			return
		}
		n := d.r.IntN(3)
		d.slots[i].listed = true
		d.note("files[%d].Readdirnames(%d)", i, n)
		// Only the count: os lists in the directory's order, so after a
		// partial listing the rest differs too; the Readdir operation
		// below compares whole listings.
		d.both(func(s *side) outcome {
			names, err := s.files[i].Readdirnames(n)
			return outcome{Err: kind(err), N: int64(len(names))}
		})
	case op < 73:
		name := d.path()
		d.note("Stat(%s)", name)
		d.both(func(s *side) outcome { return stat(s, name) })
	case op < 77:
		name := d.path()
		d.note("Mkdir(%s)", name)
		d.both(func(s *side) outcome { return outcome{Err: kind(s.fs.Mkdir(s.p(name), 0o755))} })
	case op < 80:
		name := d.path()
		d.note("MkdirAll(%s)", name)
		d.both(func(s *side) outcome { return outcome{Err: kind(s.fs.MkdirAll(s.p(name), 0o755))} })
	case op < 84:
		name := d.path()
		d.note("Remove(%s)", name)
		d.both(func(s *side) outcome { return outcome{Err: kind(s.fs.Remove(s.p(name)))} })
	case op < 86:
		name := d.path()
		d.note("RemoveAll(%s)", name)
		d.both(func(s *side) outcome { return outcome{Err: kind(s.fs.RemoveAll(s.p(name)))} })
	case op < 92:
		from, to := d.path(), d.path()
		d.note("Rename(%s, %s)", from, to)
		d.both(func(s *side) outcome { return outcome{Err: kind(s.fs.Rename(s.p(from), s.p(to)))} })
	case op < 97:
		name, count := d.path(), d.r.IntN(5)-1
		d.note("Readdir(%s, %d)", name, count)
		d.both(func(s *side) outcome { return readdir(s, name, count) })
	case op < 98:
		name, mode := d.path(), []fs.FileMode{0o600, 0o644, 0o700, 0o755}[d.r.IntN(4)]
		d.note("Chmod(%s, %o)", name, mode)
		d.both(func(s *side) outcome {
			if err := s.fs.Chmod(s.p(name), mode); err != nil {
				return outcome{Err: kind(err)}
			}
			fi, err := s.fs.Stat(s.p(name))
			Expect(err).NotTo(HaveOccurred())
			return outcome{Extra: fmt.Sprint(fi.Mode().Perm(), fi.IsDir())}
		})
	default:
		name, mtime := d.path(), time.Unix(1_000_000_000+d.r.Int64N(1000), 0)
		d.note("Chtimes(%s, %v)", name, mtime)
		d.both(func(s *side) outcome {
			if err := s.fs.Chtimes(s.p(name), mtime, mtime); err != nil {
				return outcome{Err: kind(err)}
			}
			fi, err := s.fs.Stat(s.p(name))
			Expect(err).NotTo(HaveOccurred())
			return outcome{N: fi.ModTime().Unix()}
		})
	}
}

// garbage is a buffer to read into that is not zeros already, as callers'
// reused buffers are not.
func garbage(n int) []byte { return bytes.Repeat([]byte{0xa5}, n) }

// nonEmpty is b, or nil if it is empty, so Equal does not tell the two
// apart.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func stat(s *side, name string) outcome {
	fi, err := s.fs.Stat(s.p(name))
	if err != nil {
		return outcome{Err: kind(err)}
	}
	return outcome{Extra: info(fi)}
}

// readdir lists name count entries at a time until the end, recording
// each call's length and error and then all entries in order of name (os
// lists in the directory's order; memfs, in order of name).
func readdir(s *side, name string, count int) outcome {
	f, err := s.fs.Open(s.p(name))
	if err != nil {
		return outcome{Err: kind(err)}
	}
	defer func() { Expect(f.Close()).To(Succeed()) }()
	var out outcome
	for range 20 {
		infos, err := f.Readdir(count)
		out.Extra += fmt.Sprintf("%d %q; ", len(infos), kind(err))
		for _, fi := range infos {
			out.List = append(out.List, info(fi))
		}
		if err != nil || count <= 0 {
			break
		}
	}
	slices.Sort(out.List)
	return out
}

// compareNames compares every name in the pool.
func (d *diff) compareNames() {
	for _, name := range d.pool {
		want, got := stat(d.ref, name), stat(d.mem, name)
		ExpectWithOffset(1, got).To(Equal(want), func() string { return "Stat(" + name + ") " + d.trail() })
	}
}

// compareTrees compares the whole trees, contents included, and memfs's
// Usage().Logical with the sizes.
func (d *diff) compareTrees() {
	tree := func(s *side) ([]string, int64) {
		var lines []string
		var total int64
		root := s.p("/")
		Expect(afero.Walk(s.fs, root, func(p string, fi fs.FileInfo, err error) error {
			Expect(err).NotTo(HaveOccurred())
			rel, err := filepath.Rel(root, p)
			Expect(err).NotTo(HaveOccurred())
			if fi.IsDir() {
				lines = append(lines, rel+"/")
				return nil
			}
			b, err := afero.ReadFile(s.fs, p)
			Expect(err).NotTo(HaveOccurred())
			Expect(b).To(HaveLen(int(fi.Size())))
			total += fi.Size()
			lines = append(lines, fmt.Sprintf("%s %d %x", rel, len(b), sha256.Sum256(b)))
			return nil
		})).To(Succeed())
		return lines, total
	}
	want, _ := tree(d.ref)
	got, total := tree(d.mem)
	ExpectWithOffset(1, got).To(Equal(want), d.trail)
	ExpectWithOffset(1, d.mem.fs.(*memfs.Fs).Usage().Logical).To(Equal(total))
}
