// Package memfs is an afero.Fs kept in memory, for worlds where many
// emulated systems each hold large, mostly empty or mostly identical files
// (a DASD image per system, one envelope sent to every node).
//
// afero.MemMapFs keeps each file as one []byte: growing a file allocates all
// of it, writing into the middle moves the tail, and 54 copies of the same
// bytes cost 54 times the memory. Here a file is a table of PageSize pages:
//
//   - A page never written is a hole: it reads as zeros and costs nothing,
//     so a 1 GiB file truncated into being costs its page table only.
//   - A write copies only the pages it touches, so its cost is in the bytes
//     written and pages touched, and it never moves the rest of the file.
//   - When a handle is closed or synced, every page written since the last
//     seal is sealed: an all-zero page becomes a hole, any other is interned
//     with unique.Make, so identical pages in any file of any Fs in the
//     process share one copy. The runtime frees a sealed page once no file
//     refers to it; there is no refcount and no table of our own.
//   - Writing to a sealed page first copies that page to a private buffer
//     (copy on write), so sharing is never visible.
//
// A sealed page is kept without its trailing zeros, so a small file, or a
// partly used last page, costs what it holds; private pages likewise start
// small and grow to PageSize.
//
// Errors are those os gives on Linux (*os.PathError or *os.LinkError
// around a syscall.Errno), so errors.Is(err, fs.ErrNotExist) and
// os.IsNotExist work as with afero.OsFs; EINVAL is also fs.ErrInvalid, and
// using a closed handle is both fs.ErrClosed and afero.ErrFileClosed. The
// few places where memfs departs from os are listed on Fs.
package memfs

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unique"

	"github.com/spf13/afero"
)

// chmodBits are the mode bits Chmod may change, as for os.Chmod.
const chmodBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// Options configure an Fs.
type Options struct {
	// Now is the clock for modification times. Nil means a fixed time (the
	// Unix epoch), never the wall clock, so runs stay deterministic.
	Now func() time.Time
}

// Fs is the in-memory file system. It is safe for concurrent use.
//
// It follows os on Linux, except that: there are no symlinks, hard links,
// owners, access times or umask (Chown only checks that the file exists,
// and modes are kept as given); a trailing slash is cleaned away rather
// than requiring a directory; relative names are taken from the root;
// directories report size 0 and list in order of name; Readdir on a closed
// handle reports fs.ErrClosed; files may not grow beyond MaxSize (EFBIG);
// and RemoveAll("/") empties the file system instead of failing.
type Fs struct {
	clock func() time.Time
	gen   atomic.Uint64 // changes so far (Generation)

	mu   sync.RWMutex // guards the tree: every directory's children
	root *node
}

// now is the time of a change being made: every caller changes the file
// system, so it also counts the change.
func (fsys *Fs) now() time.Time {
	fsys.gen.Add(1)
	return fsys.clock()
}

// Generation counts the changes made so far: contents, sizes, names and
// the tree (not modes or times). A reader that saw the same Generation
// before and after reading saw a state nothing changed meanwhile; the
// simulator skips re-reading a system whose Generation has not moved.
func (fsys *Fs) Generation() uint64 { return fsys.gen.Load() }

// SparseFiles says that holes cost no memory and read as zeros
// (ckd.SparseFs): a CKD image here holds only the tracks written.
func (*Fs) SparseFiles() bool { return true }

var (
	_ afero.Fs      = (*Fs)(nil)
	_ afero.Lstater = (*Fs)(nil)
)

// New is an empty Fs holding only the root directory.
func New(opts Options) *Fs {
	now := opts.Now
	if now == nil {
		now = func() time.Time { return time.Unix(0, 0).UTC() }
	}
	return &Fs{clock: now, root: newDir(0o755, now())}
}

// Name is the name of this file system type.
func (*Fs) Name() string { return "memfs" }

// split cleans name into its components below the root; "" names nothing,
// as for os.
func split(name string) ([]string, error) {
	if name == "" {
		return nil, syscall.ENOENT
	}
	p := path.Clean("/" + filepath.ToSlash(name))
	if p == "/" {
		return nil, nil
	}
	return strings.Split(p[1:], "/"), nil
}

// lookup finds the node at parts, with the errors a path walk gives.
// Callers hold mu.
func (fsys *Fs) lookup(parts []string) (*node, error) {
	n := fsys.root
	for _, c := range parts {
		if !n.dir {
			return nil, syscall.ENOTDIR
		}
		if n = n.children[c]; n == nil {
			return nil, syscall.ENOENT
		}
	}
	return n, nil
}

// parent finds the directory that holds (or would hold) the last of parts,
// which must not be empty. Callers hold mu.
func (fsys *Fs) parent(parts []string) (*node, string, error) {
	dir, err := fsys.lookup(parts[:len(parts)-1])
	if err == nil && !dir.dir {
		err = syscall.ENOTDIR
	}
	return dir, parts[len(parts)-1], err
}

// base is the name os.Stat reports for parts.
func base(parts []string) string {
	if len(parts) == 0 {
		return "/"
	}
	return parts[len(parts)-1]
}

func pathErr(op, name string, err error) error { return &os.PathError{Op: op, Path: name, Err: err} }

// Create creates or truncates name for reading and writing, as os.Create.
func (fsys *Fs) Create(name string) (afero.File, error) {
	return fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Open opens name for reading.
func (fsys *Fs) Open(name string) (afero.File, error) { return fsys.OpenFile(name, os.O_RDONLY, 0) }

// OpenFile opens name as os.OpenFile does on Linux: O_TRUNC truncates even
// with O_RDONLY, O_APPEND writes at the end but starts reading at 0, and
// flags other than the access mode, O_CREATE, O_EXCL, O_TRUNC and O_APPEND
// are ignored.
func (fsys *Fs) OpenFile(name string, flag int, perm fs.FileMode) (afero.File, error) {
	parts, err := split(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	f := &File{fsys: fsys, name: name, append: flag&os.O_APPEND != 0}
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_RDONLY:
		f.read = true
	case os.O_WRONLY:
		f.write = true
	case os.O_RDWR:
		f.read, f.write = true, true
	default:
		return nil, pathErr("open", name, einval{})
	}
	create := flag&os.O_CREATE != 0
	if create {
		fsys.mu.Lock()
		defer fsys.mu.Unlock()
	} else {
		fsys.mu.RLock()
		defer fsys.mu.RUnlock()
	}
	n := fsys.root
	if len(parts) > 0 {
		dir, b, err := fsys.parent(parts)
		if err != nil {
			return nil, pathErr("open", name, err)
		}
		if n = dir.children[b]; n == nil {
			if !create {
				return nil, pathErr("open", name, syscall.ENOENT)
			}
			now := fsys.now()
			f.node = newFile(perm, now)
			dir.children[b] = f.node
			dir.touch(now)
			return f, nil
		}
	}
	switch {
	case create && flag&os.O_EXCL != 0:
		return nil, pathErr("open", name, syscall.EEXIST)
	case n.dir && (f.write || create || flag&os.O_TRUNC != 0):
		return nil, pathErr("open", name, syscall.EISDIR)
	case flag&os.O_TRUNC != 0:
		n.mu.Lock()
		n.truncate(0)
		n.mtime = fsys.now()
		n.mu.Unlock()
	}
	f.node = n
	return f, nil
}

// Mkdir creates directory name; its parent must exist.
func (fsys *Fs) Mkdir(name string, perm fs.FileMode) error {
	parts, err := split(name)
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	if len(parts) == 0 {
		return pathErr("mkdir", name, syscall.EEXIST)
	}
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	dir, b, err := fsys.parent(parts)
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	if dir.children[b] != nil {
		return pathErr("mkdir", name, syscall.EEXIST)
	}
	now := fsys.now()
	dir.children[b] = newDir(perm, now)
	dir.touch(now)
	return nil
}

// MkdirAll creates directory name and any missing parents; it is not an
// error if name is already a directory.
func (fsys *Fs) MkdirAll(name string, perm fs.FileMode) error {
	parts, err := split(name)
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n := fsys.root
	for _, c := range parts {
		if !n.dir {
			return pathErr("mkdir", name, syscall.ENOTDIR)
		}
		child := n.children[c]
		if child == nil {
			now := fsys.now()
			child = newDir(perm, now)
			n.children[c] = child
			n.touch(now)
		}
		n = child
	}
	if !n.dir {
		return pathErr("mkdir", name, syscall.ENOTDIR)
	}
	return nil
}

// Remove removes a file or an empty directory. Open handles keep working
// on a removed file, as on Linux.
func (fsys *Fs) Remove(name string) error {
	parts, err := split(name)
	if err != nil {
		return pathErr("remove", name, err)
	}
	if len(parts) == 0 {
		return pathErr("remove", name, syscall.EBUSY)
	}
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	dir, b, err := fsys.parent(parts)
	if err != nil {
		return pathErr("remove", name, err)
	}
	n := dir.children[b]
	switch {
	case n == nil:
		return pathErr("remove", name, syscall.ENOENT)
	case n.dir && len(n.children) > 0:
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	n.kill()
	delete(dir.children, b)
	dir.touch(fsys.now())
	return nil
}

// RemoveAll removes name and everything below it. A name that does not
// exist is no error; one below a file is ENOTDIR, as with os.
func (fsys *Fs) RemoveAll(name string) error {
	parts, err := split(name)
	if err != nil {
		return nil
	}
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	if len(parts) == 0 {
		for _, c := range fsys.root.children {
			c.kill()
		}
		clear(fsys.root.children)
		fsys.root.touch(fsys.now())
		return nil
	}
	// os removes name, then opens its parent to remove name from it: so
	// which step fails decides the Op in the error.
	dir, err := fsys.lookup(parts[:len(parts)-1])
	switch {
	case err == syscall.ENOENT:
		return nil
	case err != nil:
		return pathErr("open", name, err)
	case !dir.dir:
		return pathErr("unlinkat", name, syscall.ENOTDIR)
	}
	b := parts[len(parts)-1]
	if n := dir.children[b]; n != nil {
		n.kill()
		delete(dir.children, b)
		dir.touch(fsys.now())
	}
	return nil
}

// Rename moves oldname to newname as os.Rename does on Linux: it replaces
// an existing file atomically, fails with EEXIST if newname is a
// directory, and moves a directory with everything below it. Open handles
// keep working on the moved file.
func (fsys *Fs) Rename(oldname, newname string) error {
	linkErr := func(err error) error { return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err} }
	op, err := split(oldname)
	if err != nil {
		return linkErr(err)
	}
	np, err := split(newname)
	if err != nil {
		return linkErr(err)
	}
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	// os.Rename refuses a directory as the target before asking the
	// kernel, so renaming onto even an empty directory fails.
	if nn, err := fsys.lookup(np); err == nil && nn.dir {
		if _, err := fsys.lookup(op); err != nil {
			return linkErr(err)
		}
		return linkErr(syscall.EEXIST)
	}
	if len(op) == 0 {
		return linkErr(syscall.EBUSY)
	}
	odir, ob, err := fsys.parent(op)
	if err != nil {
		return linkErr(err)
	}
	ndir, nb, err := fsys.parent(np)
	if err != nil {
		return linkErr(err)
	}
	n := odir.children[ob]
	if n == nil {
		return linkErr(syscall.ENOENT)
	}
	if n.dir && len(np) > len(op) && slices.Equal(np[:len(op)], op) {
		return linkErr(einval{}) // into itself
	}
	switch old := ndir.children[nb]; {
	case old == n:
		return nil
	case old != nil && n.dir:
		return linkErr(syscall.ENOTDIR)
	}
	delete(odir.children, ob)
	ndir.children[nb] = n
	now := fsys.now()
	odir.touch(now)
	ndir.touch(now)
	return nil
}

// Stat describes name.
func (fsys *Fs) Stat(name string) (fs.FileInfo, error) {
	parts, err := split(name)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	fsys.mu.RLock()
	defer fsys.mu.RUnlock()
	n, err := fsys.lookup(parts)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return n.info(base(parts)), nil
}

// LstatIfPossible is Stat: there are no symlinks, so Stat is also Lstat.
func (fsys *Fs) LstatIfPossible(name string) (fs.FileInfo, bool, error) {
	fi, err := fsys.Stat(name)
	if err != nil {
		err.(*os.PathError).Op = "lstat"
	}
	return fi, true, err
}

// node finds name for an operation op that changes only its attributes.
func (fsys *Fs) node(op, name string) (*node, error) {
	parts, err := split(name)
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	fsys.mu.RLock()
	defer fsys.mu.RUnlock()
	n, err := fsys.lookup(parts)
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	return n, nil
}

// Chmod sets the permission, setuid, setgid and sticky bits of name.
func (fsys *Fs) Chmod(name string, mode fs.FileMode) error {
	n, err := fsys.node("chmod", name)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.mode = n.mode&^chmodBits | mode&chmodBits
	n.mu.Unlock()
	return nil
}

// Chown only checks that name exists: owners are not kept.
func (fsys *Fs) Chown(name string, uid, gid int) error {
	_, err := fsys.node("chown", name)
	return err
}

// Chtimes sets the modification time of name unless mtime is zero (as for
// os.Chtimes); access times are not kept.
func (fsys *Fs) Chtimes(name string, atime, mtime time.Time) error {
	n, err := fsys.node("chtimes", name)
	if err != nil || mtime.IsZero() {
		return err
	}
	n.touch(mtime)
	return nil
}

// CopyFile makes dst a copy of file src that shares all of src's pages,
// sealing src's private pages first, so it costs O(pages) and no bytes.
// dst is replaced atomically, as by Rename: handles open on the old dst
// keep the old contents.
func (fsys *Fs) CopyFile(src, dst string) error {
	sp, err := split(src)
	if err != nil {
		return pathErr("copyfile", src, err)
	}
	dp, err := split(dst)
	if err != nil {
		return pathErr("copyfile", dst, err)
	}
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	sn, err := fsys.lookup(sp)
	if err == nil && sn.dir {
		err = syscall.EISDIR
	}
	if err != nil {
		return pathErr("copyfile", src, err)
	}
	if len(dp) == 0 {
		return pathErr("copyfile", dst, syscall.EISDIR)
	}
	dir, b, err := fsys.parent(dp)
	if err != nil {
		return pathErr("copyfile", dst, err)
	}
	switch old := dir.children[b]; {
	case old == sn:
		return nil
	case old != nil && old.dir:
		return pathErr("copyfile", dst, syscall.EISDIR)
	}
	now := fsys.now()
	sn.mu.Lock()
	sn.seal()
	dn := &node{mode: sn.mode, mtime: now, size: sn.size, pages: slices.Clone(sn.pages)}
	sn.mu.Unlock()
	dir.children[b] = dn
	dir.touch(now)
	return nil
}

// Usage is what an Fs's files hold, in bytes.
type Usage struct {
	// Logical is the sum of the files' sizes.
	Logical int64
	// Private is the memory held by pages written since their file was
	// last sealed (their capacity).
	Private int64
	// Sealed is the size of the distinct sealed pages the files refer to,
	// each counted once however many files share it. Pages shared with
	// other Fs instances are counted in each.
	Sealed int64
}

// Usage sums what the files in the tree hold; files removed but still open
// are not counted.
func (fsys *Fs) Usage() Usage {
	fsys.mu.RLock()
	defer fsys.mu.RUnlock()
	var u Usage
	seen := map[unique.Handle[string]]struct{}{}
	var walk func(n *node)
	walk = func(n *node) {
		if n.dir {
			for _, c := range n.children {
				walk(c)
			}
			return
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		u.Logical += n.size
		for i := range n.pages {
			p := &n.pages[i]
			switch {
			case p.priv != nil:
				u.Private += int64(cap(p.priv))
			case p.isSealed():
				if _, ok := seen[p.sealed]; !ok {
					seen[p.sealed] = struct{}{}
					u.Sealed += int64(len(p.sealed.Value()))
				}
			}
		}
	}
	walk(fsys.root)
	return u
}
