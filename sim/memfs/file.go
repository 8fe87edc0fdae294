package memfs

import (
	"io"
	"io/fs"
	"slices"
	"sync"
	"syscall"
	"unsafe"

	"github.com/spf13/afero"
)

// File is an open handle. Each has its own offset; handles open on the
// same file see each other's writes at once. A File is safe for concurrent
// use.
type File struct {
	fsys        *Fs
	node        *node
	name        string // as given to OpenFile, as os.File.Name reports
	read, write bool
	append      bool

	mu      sync.Mutex // guards the fields below
	closed  bool
	off     int64
	listed  bool
	pending []string // names Readdir has yet to return
}

var (
	_ afero.File     = (*File)(nil)
	_ io.WriterTo    = (*File)(nil)
	_ fs.ReadDirFile = (*File)(nil)
)

// closedError is what os reports for a closed handle, fs.ErrClosed, and
// also afero.ErrFileClosed, which afero's own files report.
type closedError struct{}

func (closedError) Error() string { return "file already closed" }

func (closedError) Is(target error) bool {
	return target == fs.ErrClosed || target == afero.ErrFileClosed
}

// invalidError is an fs.ErrInvalid with os's words for it.
type invalidError string

func (e invalidError) Error() string { return string(e) }

func (invalidError) Is(target error) bool { return target == fs.ErrInvalid }

// einval is os's EINVAL that is also fs.ErrInvalid, which EINVAL alone
// is not, so callers may test for either.
type einval struct{}

func (einval) Error() string { return syscall.EINVAL.Error() }

func (einval) Is(target error) bool { return target == fs.ErrInvalid }

func (einval) Unwrap() error { return syscall.EINVAL }

const (
	errNegativeOffset invalidError = "negative offset"
	errAppendWriteAt  invalidError = "os: invalid use of WriteAt on file opened with O_APPEND"
)

func (f *File) err(op string, err error) error { return pathErr(op, f.name, err) }

// Name is the name the file was opened with, also after a rename.
func (f *File) Name() string { return f.name }

// Close seals the file's private pages (see the package doc). A second
// Close fails, as with os.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.err("close", closedError{})
	}
	f.closed, f.pending = true, nil
	f.seal()
	return nil
}

// Sync seals the file's private pages, so a writer can bound the memory
// that is not shared yet without closing.
func (f *File) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.err("sync", closedError{})
	}
	f.seal()
	return nil
}

func (f *File) seal() {
	if !f.node.dir {
		f.node.mu.Lock()
		f.node.seal()
		f.node.mu.Unlock()
	}
}

// Stat describes the file under the base of the name it was opened with.
func (f *File) Stat() (fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, f.err("stat", closedError{})
	}
	parts, _ := split(f.name)
	return f.node.info(base(parts)), nil
}

// readable checks, in os's order, what a read of n bytes needs.
func (f *File) readable(n int) (ok bool, err error) {
	switch {
	case f.closed:
		return false, f.err("read", closedError{})
	case n == 0:
		return false, nil
	case !f.read:
		return false, f.err("read", syscall.EBADF)
	case f.node.dir:
		return false, f.err("read", syscall.EISDIR)
	}
	return true, nil
}

// Read reads from the handle's offset; at the end of the file it returns
// 0, io.EOF.
func (f *File) Read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok, err := f.readable(len(b)); !ok {
		return 0, err
	}
	f.node.mu.Lock()
	n := f.node.readAt(b, f.off)
	f.node.mu.Unlock()
	if n == 0 {
		return 0, io.EOF
	}
	f.off += int64(n)
	return n, nil
}

// ReadAt reads len(b) bytes at off unless the file ends first, in which
// case it returns io.EOF with the bytes there were.
func (f *File) ReadAt(b []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// os checks the offset, and reads nothing for an empty b, before it
	// looks at the handle.
	switch {
	case off < 0:
		return 0, f.err("readat", errNegativeOffset)
	case len(b) == 0:
		return 0, nil
	}
	if ok, err := f.readable(len(b)); !ok {
		return 0, err
	}
	f.node.mu.Lock()
	n := f.node.readAt(b, off)
	f.node.mu.Unlock()
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// WriteTo writes the rest of the file to w from the handle's offset, page
// by page. Sealed pages go to w without being copied, so io.Copy from a
// File into a hash allocates no buffer: w sees the shared bytes
// themselves, which io.Writer's contract forbids it to modify or keep.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok, err := f.readable(1); !ok {
		return 0, err
	}
	var total int64
	var scratch []byte // for private pages and zeros, allocated if needed
	for {
		n := f.node
		n.mu.Lock()
		if f.off >= n.size {
			n.mu.Unlock()
			return total, nil
		}
		i, lo := int(f.off/PageSize), int(f.off%PageSize)
		hi := int(min(PageSize, n.size-int64(i)*PageSize))
		p := &n.pages[i]
		var data []byte
		var s string
		if p.priv != nil {
			// Private pages may change once the lock is released.
			if len(scratch) < hi-lo {
				scratch = make([]byte, PageSize)
			}
			data = scratch[:hi-lo]
			c := 0
			if lo < len(p.priv) {
				c = copy(data, p.priv[lo:])
			}
			clear(data[c:])
		} else if p.isSealed() {
			s = p.sealed.Value()
			s = s[min(lo, len(s)):min(hi, len(s))]
		}
		n.mu.Unlock()

		var c int
		var err error
		if data != nil {
			c, err = w.Write(data)
		} else {
			if s != "" {
				c, err = w.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
			}
			if z := hi - lo - len(s); err == nil && c == len(s) && z > 0 {
				if len(scratch) < z {
					scratch = make([]byte, PageSize)
				} else {
					clear(scratch[:z])
				}
				var cz int
				cz, err = w.Write(scratch[:z])
				c += cz
			}
		}
		f.off += int64(c)
		total += int64(c)
		if err != nil {
			return total, err
		}
		if c < hi-lo {
			return total, io.ErrShortWrite
		}
	}
}

// writable checks, in os's order, what a write of n bytes needs: at an
// offset (at) os checks the offset, and writes nothing for n == 0, before
// it looks at the handle.
func (f *File) writable(n int, off int64, at bool) (ok bool, err error) {
	switch {
	case at && f.append:
		return false, errAppendWriteAt // bare, as os returns it
	case at && off < 0:
		return false, f.err("writeat", errNegativeOffset)
	case at && n == 0:
		return false, nil
	case f.closed:
		return false, f.err("write", closedError{})
	case !f.write:
		return false, f.err("write", syscall.EBADF)
	case n == 0:
		return false, nil
	}
	return true, nil
}

// Write writes at the handle's offset, or at the end of the file if it
// was opened with O_APPEND.
func (f *File) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok, err := f.writable(len(b), 0, false); !ok {
		return 0, err
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if f.append {
		f.off = n.size
	}
	if f.off > MaxSize-int64(len(b)) {
		return 0, f.err("write", syscall.EFBIG)
	}
	n.writeAt(b, f.off)
	n.mtime = f.fsys.now()
	f.off += int64(len(b))
	return len(b), nil
}

// WriteString is Write of s, without copying s first.
func (f *File) WriteString(s string) (int, error) {
	return f.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// WriteAt writes b at off and leaves the handle's offset alone; os
// refuses it on an O_APPEND handle, and so does this.
func (f *File) WriteAt(b []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok, err := f.writable(len(b), off, true); !ok {
		return 0, err
	}
	if off > MaxSize-int64(len(b)) {
		return 0, f.err("write", syscall.EFBIG)
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	n.writeAt(b, off)
	n.mtime = f.fsys.now()
	return len(b), nil
}

// Seek sets the offset for the next Read or Write. Seeking a directory
// back to 0 restarts Readdir; any other offset in one is EISDIR.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, f.err("seek", closedError{})
	}
	var at int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		at = f.off
	case io.SeekEnd:
		f.node.mu.Lock()
		at = f.node.size
		f.node.mu.Unlock()
	default:
		return 0, f.err("seek", einval{})
	}
	if offset > 0 && at > 1<<63-1-offset || at+offset < 0 {
		return 0, f.err("seek", einval{})
	}
	at += offset
	if f.node.dir {
		f.listed, f.pending = false, nil
		if at != 0 {
			return 0, f.err("seek", syscall.EISDIR)
		}
	}
	f.off = at
	return at, nil
}

// Truncate sets the file's size; growing it adds a hole.
func (f *File) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closed:
		return f.err("truncate", closedError{})
	case size < 0 || !f.write:
		return f.err("truncate", einval{})
	case size > MaxSize:
		return f.err("truncate", syscall.EFBIG)
	}
	n := f.node
	n.mu.Lock()
	n.truncate(size)
	n.mtime = f.fsys.now()
	n.mu.Unlock()
	return nil
}

// Readdir returns the directory's entries sorted by name, count at a time
// as os.File.Readdir does: with count > 0 it returns io.EOF once none are
// left, with count <= 0 all that are left. The names are listed at the
// first call; entries removed since are skipped.
func (f *File) Readdir(count int) ([]fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return []fs.FileInfo{}, f.err("readdir", closedError{})
	}
	if !f.node.dir {
		return []fs.FileInfo{}, f.err("readdirent", syscall.ENOTDIR)
	}
	f.fsys.mu.RLock()
	defer f.fsys.mu.RUnlock()
	children := f.node.children
	if !f.listed {
		f.listed = true
		f.pending = make([]string, 0, len(children))
		for name := range children {
			f.pending = append(f.pending, name)
		}
		slices.Sort(f.pending)
	}
	// As os does, an entry removed since the listing is skipped but still
	// counts towards count.
	out := []fs.FileInfo{}
	taken := 0
	for len(f.pending) > 0 && (count <= 0 || taken < count) {
		name := f.pending[0]
		f.pending, taken = f.pending[1:], taken+1
		if c := children[name]; c != nil {
			out = append(out, c.info(name))
		}
	}
	switch {
	case count > 0 && taken == count:
		return out, nil
	case f.node.dead:
		return out, f.err("readdirent", syscall.ENOENT)
	case count > 0 && len(out) == 0:
		return out, io.EOF
	}
	return out, nil
}

// Readdirnames is Readdir's names.
func (f *File) Readdirnames(n int) ([]string, error) {
	infos, err := f.Readdir(n)
	names := make([]string, len(infos))
	for i, fi := range infos {
		names[i] = fi.Name()
	}
	return names, err
}

// ReadDir is Readdir for fs.ReadDirFile.
func (f *File) ReadDir(n int) ([]fs.DirEntry, error) {
	infos, err := f.Readdir(n)
	entries := make([]fs.DirEntry, len(infos))
	for i, fi := range infos {
		entries[i] = fs.FileInfoToDirEntry(fi)
	}
	return entries, err
}
