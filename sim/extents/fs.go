package extents

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/hostfs"
)

// Fs is a host directory whose chosen files are split as they are
// written. Every other call passes to the host directory.
type Fs struct {
	afero.Fs
	host  hostfs.Pather
	split func(name string) bool
}

var (
	_ afero.Fs      = (*Fs)(nil)
	_ afero.Lstater = (*Fs)(nil)
)

// New wraps base, splitting the files split names (afero names in base).
// A base that is not a host directory is returned as it is: memory file
// systems share pages their own way (sim/memfs).
func New(base afero.Fs, split func(name string) bool) afero.Fs {
	h, ok := base.(hostfs.Pather)
	if !ok {
		return base
	}
	return &Fs{Fs: base, host: h, split: split}
}

func (s *Fs) Name() string { return "extents over " + s.Fs.Name() }

func (s *Fs) hostPath(op, name string) (string, error) {
	p, err := s.host.HostPath(name)
	if err != nil {
		return "", &os.PathError{Op: op, Path: name, Err: os.ErrNotExist}
	}
	return p, nil
}

// LstatIfPossible passes to the host directory, which can.
func (s *Fs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	if l, ok := s.Fs.(afero.Lstater); ok {
		return l.LstatIfPossible(name)
	}
	fi, err := s.Fs.Stat(name)
	return fi, false, err
}

func (s *Fs) Create(name string) (afero.File, error) {
	return s.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (s *Fs) Open(name string) (afero.File, error) { return s.OpenFile(name, os.O_RDONLY, 0) }

// OpenFile opens a split file for reading as the stream it holds. Opened
// for writing, a split file is made whole first (or, truncated, loses its
// extents), and a new or empty file the Fs splits is split as it is
// written.
func (s *Fs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if !s.split(name) {
		return s.Fs.OpenFile(name, flag, perm)
	}
	p, err := s.hostPath("open", name)
	if err != nil {
		return nil, err
	}
	write := flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) != 0
	if !write {
		return openRead(p, name, flag)
	}
	switch {
	case flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL: // a new file: nothing to release
	case flag&os.O_TRUNC != 0:
		err = release(p)
	default:
		err = Materialize(p)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(p, flag, perm)
	if err != nil {
		return nil, pathErr(err, name)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, pathErr(err, name)
	}
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 || flag&os.O_APPEND != 0 || fi.Size() != 0 || !fi.Mode().IsRegular() {
		return named{f, name}, nil
	}
	return newWriter(f, p, name), nil
}

// Remove removes a split file with its extents.
func (s *Fs) Remove(name string) error {
	if !s.split(name) {
		return s.Fs.Remove(name)
	}
	p, err := s.hostPath("remove", name)
	if err != nil {
		return err
	}
	ix, split, _ := pathIndex(p)
	if err := s.Fs.Remove(name); err != nil {
		return err
	}
	if split {
		removeExtents(p, ix)
	}
	return nil
}

// RemoveAll removes a split file as Remove does; a directory goes with
// the extents inside it.
func (s *Fs) RemoveAll(name string) error {
	if s.split(name) {
		if fi, err := s.Fs.Stat(name); err == nil && fi.Mode().IsRegular() {
			return s.Remove(name)
		}
	}
	return s.Fs.RemoveAll(name)
}

// Rename moves a split file with its index; a split file it replaces
// loses its extents. A split file renamed to where the Fs does not split
// is made whole first.
func (s *Fs) Rename(oldname, newname string) error {
	if !s.split(oldname) && !s.split(newname) {
		return s.Fs.Rename(oldname, newname)
	}
	from, err := s.hostPath("rename", oldname)
	if err != nil {
		return err
	}
	to, err := s.hostPath("rename", newname)
	if err != nil {
		return err
	}
	if !s.split(newname) {
		if err := Materialize(from); err != nil {
			return err
		}
	}
	var replaced index
	var split bool
	if a, err := os.Lstat(from); err == nil {
		if b, err := os.Lstat(to); err == nil && !os.SameFile(a, b) {
			replaced, split, _ = pathIndex(to)
		}
	}
	if err := s.Fs.Rename(oldname, newname); err != nil {
		return err
	}
	if split {
		removeExtents(to, replaced)
	}
	return nil
}

// CanLinkRange reports whether size bytes at off of src, a file opened
// through an Fs, are one of its extents, which LinkRange links.
func (s *Fs) CanLinkRange(src io.Reader, off, size int64) bool {
	_, ok := extentOf(src, off, size)
	return ok
}

// extentOf is the extent that is exactly size bytes at off of src, if src
// is a split file opened through an Fs.
func extentOf(src io.Reader, off, size int64) (heldExtent, bool) {
	r, ok := src.(*namedReader)
	if !ok {
		return heldExtent{}, false
	}
	return r.extentAt(off, size)
}

// LinkRange puts size bytes at off of src, a split file opened through
// an Fs, in place as newname (which must not exist) by a hard link, when
// the range is one of src's extents. linked false: it is not, or the host
// cannot link here; copy instead.
func (s *Fs) LinkRange(src io.Reader, off, size int64, newname string) (linked bool, err error) {
	e, ok := extentOf(src, off, size)
	if !ok {
		return false, nil
	}
	to, err := s.hostPath("link", newname)
	if err != nil {
		return false, err
	}
	if err := os.Link(e.path, to); err != nil {
		if notLinkable(err) || errors.Is(err, fs.ErrNotExist) {
			return false, nil // no links here, or the file was replaced since it was opened
		}
		return false, err
	}
	// The name may have been reused since the file was opened: only the
	// very extent read is linked.
	fi, err := os.Stat(to)
	held, herr := e.f.Stat()
	if err != nil || herr != nil || !os.SameFile(fi, held) {
		_ = os.Remove(to)
		return false, nil
	}
	return true, nil
}

// Tidy removes the extents in dir (an afero name) that no split file in
// dir names any more: what a crash between writing a file and its index,
// or between removing a file and its extents, left. Only a process alone
// in the directory may tidy it.
func (s *Fs) Tidy(dir string) error {
	d, err := s.hostPath("tidy", dir)
	if err != nil {
		return err
	}
	return tidy(d)
}

// named is a host file under the name it was opened by, as afero's
// BasePathFs shows it.
type named struct {
	*os.File
	name string
}

func (n named) Name() string { return n.name }

func pathErr(err error, name string) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &os.PathError{Op: pe.Op, Path: name, Err: pe.Err}
	}
	return err
}
