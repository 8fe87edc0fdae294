package cmsfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
)

// area is a directory of CMS files charged to a set of ledgers; it is both
// an SFS directory and the file area of a minidisk.
type area struct {
	w       *World
	name    string // for messages: "VMPSFS:CSM720.BASE", "MAINT 0190"
	dir     string // path in the fs
	ledgers []*ledger
}

var _ cms.FileArea = (*area)(nil)

func (a *area) String() string { return a.name }

func fileName(id cms.FileID) string { return id.FN() + "." + id.FT() }

func (a *area) path(id cms.FileID) string { return filepath.Join(a.dir, fileName(id)) }

func (a *area) object(id cms.FileID) string { return id.Name() + " in " + a.name }

func (a *area) notFound(id cms.FileID) error {
	return &cms.Error{Object: a.object(id), Err: cms.ErrNotFound}
}

// check fails if the area's directory is gone (an erased SFS directory).
func (a *area) check() error {
	if ok, err := afero.DirExists(a.w.fs, a.dir); err != nil || !ok {
		return &cms.Error{Object: a.name, Err: cms.ErrNotFound, Detail: "the directory no longer exists"}
	}
	return nil
}

func checkID(id cms.FileID) error {
	if id.IsZero() {
		return &cms.NameError{Part: "fileid", Reason: "empty"}
	}
	return nil
}

// blocksOf is the blocks id holds now, 0 if it does not exist.
func (a *area) blocksOf(id cms.FileID) int64 {
	fi, err := a.w.fs.Stat(a.path(id))
	if err != nil {
		return 0
	}
	return cms.BlocksFor(fi.Size())
}

func modeNumber(id cms.FileID, dflt int) int {
	if id.FM().IsZero() {
		return dflt
	}
	return id.FM().Number()
}

func (a *area) Open(id cms.FileID) (io.ReadCloser, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	f, err := a.w.fs.Open(a.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, a.notFound(id)
	}
	return f, err
}

func (a *area) Stat(id cms.FileID) (cms.FileInfo, error) {
	if err := checkID(id); err != nil {
		return cms.FileInfo{}, err
	}
	fi, err := a.w.fs.Stat(a.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return cms.FileInfo{}, a.notFound(id)
	} else if err != nil {
		return cms.FileInfo{}, err
	}
	modes, err := a.w.modes(a.dir)
	if err != nil {
		return cms.FileInfo{}, err
	}
	return info(id, fi.Size(), modes), nil
}

func info(id cms.FileID, size int64, modes map[string]int) cms.FileInfo {
	n, ok := modes[fileName(id)]
	if !ok {
		n = 1
	}
	return cms.FileInfo{ID: id, ModeNumber: n, Bytes: size, Blocks: cms.BlocksFor(size)}
}

// parseFileName turns an fs name "FN.FT" back into a FileID.
func parseFileName(name string) (cms.FileID, error) {
	fn, ft, _ := strings.Cut(name, ".")
	return cms.NewFileID(fn, ft, "")
}

func (a *area) List() ([]cms.FileInfo, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	infos, err := afero.ReadDir(a.w.fs, a.dir)
	if err != nil {
		return nil, err
	}
	modes, err := a.w.modes(a.dir)
	if err != nil {
		return nil, err
	}
	var out []cms.FileInfo
	for _, fi := range infos {
		if fi.IsDir() || strings.HasPrefix(fi.Name(), ".") {
			continue
		}
		id, err := parseFileName(fi.Name())
		if err != nil {
			return nil, fmt.Errorf("%s: foreign file %q in the fs: %w", a.name, fi.Name(), err)
		}
		out = append(out, info(id, fi.Size(), modes))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID.Less(out[j].ID) })
	return out, nil
}

func (a *area) Erase(id cms.FileID) error {
	if err := checkID(id); err != nil {
		return err
	}
	a.w.mu.Lock()
	defer a.w.mu.Unlock()
	fi, err := a.w.fs.Stat(a.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return a.notFound(id)
	} else if err != nil {
		return err
	}
	if err := a.w.fs.Remove(a.path(id)); err != nil {
		return err
	}
	_ = charge(a.ledgers, a.name, "", -cms.BlocksFor(fi.Size()))
	// A stale entry would be harmless: every commit sets the mode number.
	return a.w.setModes(a.dir, map[string]int{fileName(id): 1})
}

func (a *area) Rename(from, to cms.FileID) error {
	if err := checkID(from); err != nil {
		return err
	}
	if err := checkID(to); err != nil {
		return err
	}
	a.w.mu.Lock()
	defer a.w.mu.Unlock()
	if ok, _ := afero.Exists(a.w.fs, a.path(from)); !ok {
		return a.notFound(from)
	}
	modes, err := a.w.modes(a.dir)
	if err != nil {
		return err
	}
	old := info(from, 0, modes).ModeNumber
	if from.Name() == to.Name() { // only the mode number changes
		return a.w.setModes(a.dir, map[string]int{fileName(to): modeNumber(to, old)})
	}
	if ok, _ := afero.Exists(a.w.fs, a.path(to)); ok {
		return &cms.Error{Object: a.object(to), Err: cms.ErrExists, Detail: "erase it first or pick another name"}
	}
	if err := a.w.fs.Rename(a.path(from), a.path(to)); err != nil {
		return err
	}
	if err := a.w.setModes(a.dir, map[string]int{fileName(from): 1, fileName(to): modeNumber(to, old)}); err != nil {
		_ = a.w.fs.Rename(a.path(to), a.path(from)) // put the file back as it was
		return err
	}
	return nil
}

func (a *area) Create(id cms.FileID) (cms.FileWriter, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	a.w.mu.Lock()
	defer a.w.mu.Unlock()
	if err := a.check(); err != nil {
		return nil, err
	}
	f, err := afero.TempFile(a.w.fs, a.dir, tmpPrefix+"-"+fileName(id)+"-*")
	if err != nil {
		return nil, err
	}
	wr := &writer{a: a, id: id, mode: modeNumber(id, 1), f: f, tmp: f.Name(), credit: a.blocksOf(id)}
	// Even an empty file holds a block: claim it now so a full area
	// refuses the create itself.
	if err := wr.reserveLocked(0); err != nil {
		_ = f.Close()
		_ = a.w.fs.Remove(f.Name())
		return nil, err
	}
	return wr, nil
}
