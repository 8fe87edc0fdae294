package cmsfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
)

// RawFs is the minidisk's file area as a plain afero.Fs of FN.FT files,
// for a server that writes files as they arrive (CSMSERVE's FTP root).
// Its writes are charged to the disk's block ledger as bytes arrive, like
// the file area's own: a write, create or truncation that would pass the
// disk's capacity fails with a *cms.Error wrapping cms.ErrDiskFull and
// writes nothing. Removing, truncating or replacing a file releases its
// blocks. The world's metadata files cannot be touched through it, and the
// disk has no directories.
func (m *Minidisk) RawFs() afero.Fs {
	return &rawFs{base: afero.NewBasePathFs(m.w.fs, m.dir), m: m}
}

// rawFs charges m's ledgers for what passes through it. Every change of a
// file's size is made under the World's mu, with the charge computed from
// the file's real size, so concurrent writers keep the ledger exact.
type rawFs struct {
	base afero.Fs
	m    *Minidisk
}

var (
	_ afero.Fs      = (*rawFs)(nil)
	_ afero.Lstater = (*rawFs)(nil)
)

// FreeBlocks is what the disk has left, for messages such as CSMSERVE's
// 552 reply.
func (r *rawFs) FreeBlocks() int64 { return max(r.m.CapacityBlocks()-r.m.UsedBlocks(), 0) }

func (r *rawFs) Name() string { return "minidisk " + r.m.name }

// metadata refuses the world's own files: they are not charged, and
// changing them through a server would corrupt the disk's description.
func metadata(op, name string) error {
	switch path.Base(path.Clean("/" + name)) {
	case ".minidisk.json", modesFile:
		return &os.PathError{Op: op, Path: name, Err: fs.ErrPermission}
	}
	return nil
}

// sizeOf is name's size, -1 if it does not exist or is not a regular file
// (which holds no blocks).
func (r *rawFs) sizeOf(name string) int64 {
	fi, err := r.lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	return fi.Size()
}

func (r *rawFs) lstat(name string) (os.FileInfo, error) {
	if l, ok := r.base.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(name)
		return fi, err
	}
	return r.base.Stat(name)
}

// heldBy is what a file of size bytes holds; a missing file (-1) none.
func heldBy(size int64) int64 {
	if size < 0 {
		return 0
	}
	return cms.BlocksFor(size)
}

// chargeLocked charges the change of a file from size from to size to,
// naming what for the message. The World's mu must be held.
func (r *rawFs) chargeLocked(name string, from, to int64) error {
	return charge(r.m.ledgers, r.m.name, "write of "+strings.TrimPrefix(name, "/"), heldBy(to)-heldBy(from))
}

func (r *rawFs) Create(name string) (afero.File, error) {
	return r.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

func (r *rawFs) Mkdir(name string, _ os.FileMode) error {
	return &os.PathError{Op: "mkdir", Path: name, Err: errors.New("a minidisk has no directories")}
}

func (r *rawFs) MkdirAll(name string, perm os.FileMode) error {
	if path.Clean("/"+name) == "/" {
		return nil
	}
	return r.Mkdir(name, perm)
}

func (r *rawFs) Open(name string) (afero.File, error) { return r.base.Open(name) }

func (r *rawFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) == 0 {
		return r.base.OpenFile(name, flag, perm)
	}
	if err := metadata("open", name); err != nil {
		return nil, err
	}
	w := r.m.w
	w.mu.Lock()
	defer w.mu.Unlock()
	before := r.sizeOf(name)
	if before < 0 && flag&os.O_CREATE != 0 {
		// claim the new file's first block before it exists, so a full
		// disk refuses the create itself
		if err := r.chargeLocked(name, -1, 0); err != nil {
			return nil, err
		}
	}
	f, err := r.base.OpenFile(name, flag, perm)
	if err != nil {
		if before < 0 && flag&os.O_CREATE != 0 {
			_ = r.chargeLocked(name, 0, -1)
		}
		return nil, err
	}
	if before >= 0 && flag&os.O_TRUNC != 0 {
		_ = r.chargeLocked(name, before, 0) // a release never fails
	}
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return f, nil
	}
	return &rawFile{File: f, fs: r, name: name, appending: flag&os.O_APPEND != 0}, nil
}

func (r *rawFs) Remove(name string) error {
	if err := metadata("remove", name); err != nil {
		return err
	}
	w := r.m.w
	w.mu.Lock()
	defer w.mu.Unlock()
	size := r.sizeOf(name)
	if err := r.base.Remove(name); err != nil {
		return err
	}
	return r.chargeLocked(name, size, -1)
}

func (r *rawFs) RemoveAll(name string) error {
	if path.Clean("/"+name) == "/" {
		return &os.PathError{Op: "removeall", Path: name, Err: errors.New("the file area itself cannot be removed")}
	}
	if _, err := r.lstat(name); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return r.Remove(name)
}

func (r *rawFs) Rename(oldname, newname string) error {
	if err := metadata("rename", oldname); err != nil {
		return err
	}
	if err := metadata("rename", newname); err != nil {
		return err
	}
	w := r.m.w
	w.mu.Lock()
	defer w.mu.Unlock()
	replaced := r.sizeOf(newname)
	if a, err := r.lstat(oldname); err == nil {
		if b, err := r.lstat(newname); err == nil && os.SameFile(a, b) {
			replaced = -1 // the same file: nothing is freed
		}
	}
	if err := r.base.Rename(oldname, newname); err != nil {
		return err
	}
	return r.chargeLocked(newname, replaced, -1) // the replaced file's blocks are free
}

func (r *rawFs) Stat(name string) (os.FileInfo, error) { return r.base.Stat(name) }

func (r *rawFs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	if l, ok := r.base.(afero.Lstater); ok {
		return l.LstatIfPossible(name)
	}
	fi, err := r.base.Stat(name)
	return fi, false, err
}

func (r *rawFs) Chmod(name string, mode os.FileMode) error {
	if err := metadata("chmod", name); err != nil {
		return err
	}
	return r.base.Chmod(name, mode)
}

func (r *rawFs) Chown(name string, uid, gid int) error {
	if err := metadata("chown", name); err != nil {
		return err
	}
	return r.base.Chown(name, uid, gid)
}

func (r *rawFs) Chtimes(name string, atime, mtime time.Time) error {
	return r.base.Chtimes(name, atime, mtime)
}

// rawFile is a file of a rawFs opened for writing: each change of its
// size is charged before it is made.
type rawFile struct {
	afero.File
	fs        *rawFs
	name      string
	appending bool
}

// grow makes room for the file to reach at least end bytes, writes with
// write, and settles the charge against the size the file then has.
func (f *rawFile) grow(end func(size int64) int64, write func() (int, error)) (int, error) {
	w := f.fs.m.w
	w.mu.Lock()
	defer w.mu.Unlock()
	fi, err := f.File.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	want := max(size, end(size))
	if err := f.fs.chargeLocked(f.name, size, want); err != nil {
		return 0, err
	}
	n, werr := write()
	if fi, err := f.File.Stat(); err == nil && fi.Size() != want {
		_ = f.fs.chargeLocked(f.name, want, fi.Size()) // a short write: give back what it did not use
	}
	return n, werr
}

func (f *rawFile) Write(p []byte) (int, error) {
	return f.grow(func(size int64) int64 {
		if f.appending {
			return size + int64(len(p))
		}
		pos, err := f.File.Seek(0, io.SeekCurrent)
		if err != nil {
			return size + int64(len(p)) // the most it can be
		}
		return pos + int64(len(p))
	}, func() (int, error) { return f.File.Write(p) })
}

func (f *rawFile) WriteAt(p []byte, off int64) (int, error) {
	return f.grow(func(int64) int64 { return off + int64(len(p)) },
		func() (int, error) { return f.File.WriteAt(p, off) })
}

func (f *rawFile) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

func (f *rawFile) Truncate(size int64) error {
	w := f.fs.m.w
	w.mu.Lock()
	defer w.mu.Unlock()
	fi, err := f.File.Stat()
	if err != nil {
		return err
	}
	if err := f.fs.chargeLocked(f.name, fi.Size(), size); err != nil {
		return err
	}
	if err := f.File.Truncate(size); err != nil {
		_ = f.fs.chargeLocked(f.name, size, fi.Size())
		return err
	}
	return nil
}
