package csmserve

import (
	"errors"
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
// directories, symbolic links, files with more than one hard link, names
// with blanks or NUL - is refused with an *os.PathError wrapping
// ErrRefused. Only the root "/" itself may be opened as a directory, and
// its listing shows only the CMS files.
//
// It does not rely on afero.BasePathFs: every name is checked here, links
// are refused by Lstat, on Unix by opening with O_NOFOLLOW, and by the
// link count of the file actually opened.
//
// A truncating open for writing (STOR) writes a temporary beside the file
// and renames it into place on Close: it replaces the file, never writes
// through whatever the name pointed to, and readers see the old file until
// the new one is complete. Appends and resumed uploads write in place.
type StagingFs struct {
	base     afero.Fs
	receipts *Receipts
}

// NewStagingFs confines base; base's "/" is the staging area. Its
// receipts are its own.
func NewStagingFs(base afero.Fs) *StagingFs { return &StagingFs{base: base, receipts: NewReceipts()} }

// Receipt is the receipt of name if the file is still as it was stored.
func (s *StagingFs) Receipt(name string) (Receipt, bool) { return s.receipts.Of(s.base, name) }

var _ afero.Fs = (*StagingFs)(nil)

// tmpPrefix names the temporaries of uploads in progress: hidden from
// listings, and tidied by sim/cmsfs (its ".tmp" prefix) after a crash.
const tmpPrefix = ".tmp-csmserve-"

// refusal is why the staging area refuses a name or a file, phrased to
// follow the name in a reply: "LINK.TXT has more than one link; ...".
type refusal struct{ why string }

func (r *refusal) Error() string        { return "refused: " + r.why }
func (r *refusal) Is(target error) bool { return target == ErrRefused }

func refuse(op, name, why string) error {
	return &os.PathError{Op: op, Path: name, Err: &refusal{why}}
}

// Why a file is refused.
const (
	whyLink      = "is a link; the staging area holds only files"
	whyDir       = "is a directory; the staging area holds only files"
	whyIrregular = "is not a regular file"
	whyLinks     = "has more than one link; CSMSERVE serves only files of its own staging disk"
)

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
		return "", refuse(op, name, "is refused: "+err.Error())
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
	if why := refused(fi); why != "" {
		return nil, refuse(op, name, why)
	}
	return fi, nil
}

// refused says why fi is not a file the staging area serves, "" if it is.
// A hard link could name a file outside the staging area: a file with
// more than one link is refused.
func refused(fi os.FileInfo) string {
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return whyLink
	case fi.IsDir():
		return whyDir
	case !fi.Mode().IsRegular():
		return whyIrregular
	case links(fi) > 1:
		return whyLinks
	}
	return ""
}

// checkOpen refuses a file just opened that is not one the staging area
// serves: a link planted between the check by name and the open.
func checkOpen(op, name string, f afero.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if why := refused(fi); why != "" {
		return refuse(op, name, why)
	}
	return nil
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
	if write {
		s.receipts.drop(p)
	}
	if write && flag&(os.O_WRONLY|os.O_RDWR) != 0 && flag&os.O_TRUNC != 0 {
		return s.replace(p)
	}
	f, err := s.base.OpenFile(p, flag|oNoFollow, 0o644&perm|0o600)
	if err != nil {
		if isLoop(err) {
			return nil, refuse("open", name, whyLink)
		}
		return nil, err
	}
	if err := checkOpen("open", name, f); err != nil {
		_ = f.Close()
		return nil, err
	}
	if !write {
		return readOnly{f}, nil
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &upload{File: f, fs: s, target: p, size0: fi.Size()}, nil
}

// replace opens the temporary a STOR of p writes; Close puts it in place.
func (s *StagingFs) replace(p string) (afero.File, error) {
	f, err := afero.TempFile(s.base, "/", tmpPrefix+strings.TrimPrefix(p, "/")+"-*")
	if err != nil {
		return nil, err
	}
	return &upload{File: f, fs: s, target: p, tmp: f.Name(), digest: &digest{}}, nil
}

// upload is a staging file opened for writing: a temporary that replaces
// the file on Close (tmp set), or the file itself (an append or a resumed
// upload). An upload whose write failed - the disk is full - leaves the
// staging area as it was: the temporary is removed, a write in place cut
// back to the size it had. Abort makes Close drop the upload too, but
// leaves a write in place where it stopped.
type upload struct {
	afero.File
	fs      *StagingFs
	target  string // "/FN.FT"
	tmp     string // the temporary; "" when writing in place
	size0   int64  // in place: the file's size when opened
	failed  error  // the first write that failed, or Abort's reason
	aborted bool
	digest  *digest // a whole upload's, hashed as it is written; nil in place
}

func (u *upload) Write(p []byte) (int, error) {
	n, err := u.File.Write(p)
	u.digest.wrote(p[:n])
	if err != nil && u.failed == nil {
		u.failed = err
	}
	return n, err
}

// WriteAt and Seek are not how a transfer writes; after either the
// digest no longer describes the file, and the upload gets no receipt.
func (u *upload) WriteAt(p []byte, off int64) (int, error) {
	if u.digest != nil {
		u.digest.broken = true
	}
	return u.File.WriteAt(p, off)
}

func (u *upload) Seek(off int64, whence int) (int64, error) {
	if u.digest != nil && (off != 0 || whence != io.SeekCurrent) {
		u.digest.broken = true
	}
	return u.File.Seek(off, whence)
}

func (u *upload) WriteString(s string) (int, error) { return u.Write([]byte(s)) }

// Abort makes Close drop the upload, and return why.
func (u *upload) Abort(why error) {
	if u.failed == nil {
		u.failed, u.aborted = why, true
	}
}

// Close commits the upload: the temporary, synced, takes the file's
// place. Any other ending (a dropped connection) commits what arrived, so
// that the client can resume it; a failed or aborted upload is dropped.
func (u *upload) Close() error {
	if u.tmp == "" {
		if u.failed != nil && !u.aborted {
			_ = u.File.Truncate(u.size0)
		}
		err := u.File.Close()
		if u.failed != nil {
			return u.failed
		}
		return err
	}
	err := u.File.Sync()
	if cerr := u.File.Close(); err == nil {
		err = cerr
	}
	if err == nil && u.failed == nil {
		// as a file created in place would be, not the temporary's 0600
		if err = u.fs.base.Chmod(u.tmp, 0o644); err == nil {
			err = u.fs.base.Rename(u.tmp, u.target)
		}
		if err == nil && u.digest != nil && !u.digest.broken {
			if fi, serr := u.fs.base.Stat(u.target); serr == nil && fi.Size() == u.digest.Size() {
				u.fs.receipts.put(u.target, Receipt{Size: fi.Size(), SHA256: u.digest.Sum(), mtime: fi.ModTime()})
			}
		}
	}
	if err != nil || u.failed != nil {
		_ = u.fs.base.Remove(u.tmp)
	}
	if u.failed != nil {
		return u.failed
	}
	return err
}

func (s *StagingFs) Remove(name string) error {
	p, err := s.resolve("remove", name)
	if err != nil {
		return err
	}
	if _, err := s.checkFile("remove", name, p); err != nil {
		return err
	}
	s.receipts.drop(p)
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
	s.receipts.drop(from, to)
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
// else in the base directory (dot files and temporaries, directories,
// links, files with more than one link, other names) is not shown.
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
		if refused(fi) != "" {
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
