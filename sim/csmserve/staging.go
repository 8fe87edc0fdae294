package csmserve

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
)

// ErrRefused is the cause of every refusal of the staging area: a name
// that is not a CMS file name FN.FT, a directory, a link. ftpserverlib
// answers it with 550.
var ErrRefused = errors.New("refused")

// StagingFs confines an afero.Fs to a flat staging area of CMS files.
// Names are "FN.FT" or "/FN.FT" (fn and ft 1-8 characters of
// A-Z 0-9 $ # @ + - : _, folded to upper case); the base Fs holds them as
// "/FN.FT". Everything else - "..", sub-paths, absolute paths elsewhere,
// directories, symbolic links, names with blanks or NUL - is refused with
// an *os.PathError wrapping ErrRefused. Only the root "/" itself may be
// opened as a directory, and its listing shows only the CMS files.
//
// It does not rely on afero.BasePathFs: every name is checked here, links
// are refused by Lstat and, on Unix, by opening with O_NOFOLLOW.
type StagingFs struct {
	base afero.Fs
}

// NewStagingFs confines base; base's "/" is the staging area.
func NewStagingFs(base afero.Fs) *StagingFs { return &StagingFs{base: base} }

var _ afero.Fs = (*StagingFs)(nil)

func refuse(op, name, why string) error {
	return &os.PathError{Op: op, Path: name, Err: fmt.Errorf("%w: %s", ErrRefused, why)}
}

// FileName folds and checks a staging-area name: "FN.FT" or "/FN.FT".
// It returns "FN.FT" in upper case.
func FileName(name string) (string, error) {
	p := strings.TrimPrefix(name, "/")
	switch {
	case p == "":
		return "", errors.New("no file name")
	case strings.ContainsAny(p, "/\\"):
		return "", errors.New("not a flat CMS file name FN.FT: the staging area has no directories")
	case strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", errors.New("blanks and control characters are not allowed in CMS file names")
	}
	fn, ft, ok := strings.Cut(p, ".")
	if !ok {
		return "", errors.New("not a CMS file name FN.FT (no dot)")
	}
	id, err := cms.ParseFileID(fn + " " + ft)
	if err != nil {
		return "", err
	}
	return id.FN() + "." + id.FT(), nil
}

func isRoot(name string) bool {
	switch name {
	case "", "/", ".", "/.":
		return true
	}
	return false
}

// resolve maps a name to the base path "/FN.FT".
func (s *StagingFs) resolve(op, name string) (string, error) {
	n, err := FileName(name)
	if err != nil {
		return "", refuse(op, name, err.Error())
	}
	return "/" + n, nil
}

// lstat stats p without following a final link, when the base can.
func (s *StagingFs) lstat(p string) (os.FileInfo, error) {
	if l, ok := s.base.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(p)
		return fi, err
	}
	return s.base.Stat(p)
}

// checkFile refuses p if it exists and is not a regular file.
func (s *StagingFs) checkFile(op, name, p string) (os.FileInfo, error) {
	fi, err := s.lstat(p)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return nil, refuse(op, name, "a link; the staging area holds only files")
	case fi.IsDir():
		return nil, refuse(op, name, "a directory; the staging area holds only files")
	case !fi.Mode().IsRegular():
		return nil, refuse(op, name, "not a regular file")
	}
	return fi, nil
}

func (s *StagingFs) Name() string { return "csmserve staging area" }

func (s *StagingFs) Create(name string) (afero.File, error) {
	return s.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

func (s *StagingFs) Mkdir(name string, _ os.FileMode) error {
	return refuse("mkdir", name, "the staging area has no directories")
}

func (s *StagingFs) MkdirAll(name string, _ os.FileMode) error {
	return refuse("mkdir", name, "the staging area has no directories")
}

func (s *StagingFs) Open(name string) (afero.File, error) {
	return s.OpenFile(name, os.O_RDONLY, 0)
}

func (s *StagingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	write := flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) != 0
	if isRoot(name) {
		if write {
			return nil, refuse("open", name, "the staging area itself cannot be written")
		}
		f, err := s.base.Open("/")
		if err != nil {
			return nil, err
		}
		return &rootDir{File: f, fs: s}, nil
	}
	p, err := s.resolve("open", name)
	if err != nil {
		return nil, err
	}
	if _, err := s.checkFile("open", name, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := s.base.OpenFile(p, flag|oNoFollow, 0o644&perm|0o600)
	if err != nil {
		if isLoop(err) {
			return nil, refuse("open", name, "a link; the staging area holds only files")
		}
		return nil, err
	}
	if !write {
		return readOnly{f}, nil
	}
	return f, nil
}

func (s *StagingFs) Remove(name string) error {
	p, err := s.resolve("remove", name)
	if err != nil {
		return err
	}
	if _, err := s.checkFile("remove", name, p); err != nil {
		return err
	}
	return s.base.Remove(p)
}

func (s *StagingFs) RemoveAll(name string) error {
	return s.Remove(name)
}

func (s *StagingFs) Rename(oldname, newname string) error {
	from, err := s.resolve("rename", oldname)
	if err != nil {
		return err
	}
	to, err := s.resolve("rename", newname)
	if err != nil {
		return err
	}
	if _, err := s.checkFile("rename", oldname, from); err != nil {
		return err
	}
	if _, err := s.checkFile("rename", newname, to); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return s.base.Rename(from, to)
}

func (s *StagingFs) Stat(name string) (os.FileInfo, error) {
	if isRoot(name) {
		fi, err := s.base.Stat("/")
		if err != nil {
			return nil, err
		}
		return renamed{fi, "/"}, nil
	}
	p, err := s.resolve("stat", name)
	if err != nil {
		return nil, err
	}
	return s.checkFile("stat", name, p)
}

// LstatIfPossible is Stat: links are refused anyway.
func (s *StagingFs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := s.Stat(name)
	return fi, true, err
}

func (s *StagingFs) Chmod(name string, mode os.FileMode) error {
	return refuse("chmod", name, "modes of staging files are not kept")
}

func (s *StagingFs) Chown(name string, uid, gid int) error {
	return refuse("chown", name, "owners of staging files are not kept")
}

func (s *StagingFs) Chtimes(name string, atime, mtime time.Time) error {
	p, err := s.resolve("chtimes", name)
	if err != nil {
		return err
	}
	if _, err := s.checkFile("chtimes", name, p); err != nil {
		return err
	}
	return s.base.Chtimes(p, atime, mtime)
}

// ReadDir lists the CMS files of the staging area, by name; anything
// else in the base directory (dot files, directories, links, other names)
// is not shown.
func (s *StagingFs) ReadDir(name string) ([]os.FileInfo, error) {
	if !isRoot(name) {
		return nil, refuse("readdir", name, "the staging area has no directories")
	}
	infos, err := afero.ReadDir(s.base, "/")
	if err != nil {
		return nil, err
	}
	return filterFiles(infos), nil
}

func filterFiles(infos []os.FileInfo) []os.FileInfo {
	out := infos[:0:0]
	for _, fi := range infos {
		if !fi.Mode().IsRegular() {
			continue
		}
		if n, err := FileName(fi.Name()); err != nil || n != fi.Name() {
			continue
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// rootDir is the staging area opened as a directory: its listings are
// filtered.
type rootDir struct {
	afero.File
	fs   *StagingFs
	once sync.Once
	list []os.FileInfo
	err  error
	pos  int
}

func (d *rootDir) Name() string { return "/" }

func (d *rootDir) Stat() (os.FileInfo, error) {
	fi, err := d.File.Stat()
	if err != nil {
		return nil, err
	}
	return renamed{fi, "/"}, nil
}

func (d *rootDir) Readdir(count int) ([]os.FileInfo, error) {
	d.once.Do(func() { d.list, d.err = d.fs.ReadDir("/") })
	if d.err != nil {
		return nil, d.err
	}
	rest := d.list[d.pos:]
	if count <= 0 {
		d.pos = len(d.list)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, errEOF
	}
	if count > len(rest) {
		count = len(rest)
	}
	d.pos += count
	return rest[:count], nil
}

func (d *rootDir) Readdirnames(n int) ([]string, error) {
	infos, err := d.Readdir(n)
	names := make([]string, len(infos))
	for i, fi := range infos {
		names[i] = fi.Name()
	}
	return names, err
}

func (d *rootDir) Write([]byte) (int, error)          { return 0, errReadOnly }
func (d *rootDir) WriteAt([]byte, int64) (int, error) { return 0, errReadOnly }
func (d *rootDir) WriteString(string) (int, error)    { return 0, errReadOnly }
func (d *rootDir) Truncate(int64) error               { return errReadOnly }

// readOnly is a file opened for reading: whatever the base Fs allows,
// it cannot be written through.
type readOnly struct{ afero.File }

var (
	errReadOnly = errors.New("opened for reading only")
	errEOF      = io.EOF
)

func (r readOnly) Write([]byte) (int, error)          { return 0, errReadOnly }
func (r readOnly) WriteAt([]byte, int64) (int, error) { return 0, errReadOnly }
func (r readOnly) WriteString(string) (int, error)    { return 0, errReadOnly }
func (r readOnly) Truncate(int64) error               { return errReadOnly }

type renamed struct {
	os.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }
