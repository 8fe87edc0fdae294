package cmsfs

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
)

func (p *FilePool) dirPath(d cms.DirID) string {
	return filepath.Join(append([]string{p.root, d.Space()}, d.Names()...)...)
}

func (p *FilePool) dirExists(d cms.DirID) bool {
	ok, err := afero.DirExists(p.w.fs, p.dirPath(d))
	return ok && err == nil
}

// lookupLocked checks that d belongs to this pool and to an enrolled file
// space, returning the ledgers a write into d is charged to.
// p.w.mu must be held.
func (p *FilePool) lookupLocked(d cms.DirID) ([]*ledger, error) {
	if d.IsZero() {
		return nil, &cms.NameError{Part: "directory", Reason: "empty"}
	}
	if d.Pool() != p.name {
		return nil, &cms.Error{Object: d.String(), Err: cms.ErrNoFilePool, Detail: "this is file pool " + p.name}
	}
	l, err := p.spaceLocked(d.Space())
	if err != nil {
		return nil, err
	}
	return []*ledger{l, p.ledger}, nil
}

// existingLocked is lookupLocked for a directory that must exist.
func (p *FilePool) existingLocked(d cms.DirID) ([]*ledger, error) {
	ls, err := p.lookupLocked(d)
	if err == nil && !p.dirExists(d) {
		err = &cms.Error{Object: d.String(), Err: cms.ErrNotFound}
	}
	return ls, err
}

// mayChange lets a file space's owner or an administrator change its
// directories. p.w.mu must be held.
func (p *FilePool) mayChange(d cms.DirID, by, what string) error {
	if strings.EqualFold(by, d.Space()) || p.isAdminLocked(by) {
		return nil
	}
	return &cms.Error{Object: d.String(), Err: cms.ErrNotAuthorized,
		Detail: fmt.Sprintf("%s may not %s: only %s or a file pool administrator may", strings.ToUpper(by), what, d.Space())}
}

// CreateDir is CREATE DIRECTORY; the parent must exist.
func (p *FilePool) CreateDir(d cms.DirID, by string) error {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if _, err := p.lookupLocked(d); err != nil {
		return err
	}
	if err := p.mayChange(d, by, "create directories"); err != nil {
		return err
	}
	if p.dirExists(d) {
		return &cms.Error{Object: d.String(), Err: cms.ErrExists}
	}
	if parent, _ := d.Parent(); !p.dirExists(parent) {
		return &cms.Error{Object: parent.String(), Err: cms.ErrNotFound, Detail: "create it before " + d.String()}
	}
	return p.w.fs.Mkdir(p.dirPath(d), 0o755)
}

// Dir is the file area of an existing directory.
func (p *FilePool) Dir(d cms.DirID) (cms.FileArea, error) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	ls, err := p.existingLocked(d)
	if err != nil {
		return nil, err
	}
	return &area{w: p.w, name: d.String(), dir: p.dirPath(d), ledgers: ls}, nil
}

// ListDirs lists every directory below under, parents before children and
// siblings in name order.
func (p *FilePool) ListDirs(under cms.DirID) ([]cms.DirID, error) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if _, err := p.existingLocked(under); err != nil {
		return nil, err
	}
	return p.subtreeLocked(under)
}

func (p *FilePool) subtreeLocked(d cms.DirID) ([]cms.DirID, error) {
	names, err := p.w.subdirs(p.dirPath(d))
	if err != nil {
		return nil, err
	}
	var out []cms.DirID
	for _, n := range names { // afero.ReadDir sorts by name
		c, err := d.Child(n)
		if err != nil {
			return nil, fmt.Errorf("%s: foreign directory %q in the fs: %w", d, n, err)
		}
		sub, err := p.subtreeLocked(c)
		if err != nil {
			return nil, err
		}
		out = append(append(out, c), sub...)
	}
	return out, nil
}

// erasable checks what EraseDir and EraseTree share. p.w.mu must be held.
func (p *FilePool) erasable(d cms.DirID, by string) ([]*ledger, error) {
	ls, err := p.existingLocked(d)
	if err != nil {
		return nil, err
	}
	if err := p.mayChange(d, by, "erase directories"); err != nil {
		return nil, err
	}
	if d.IsTop() {
		return nil, &cms.Error{Object: d.String(), Err: cms.ErrNotAuthorized,
			Detail: "a top directory goes only with its file space (DELETE USER)"}
	}
	return ls, nil
}

// EraseDir is ERASE DIRECTORY of an empty directory.
func (p *FilePool) EraseDir(d cms.DirID, by string) error {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if _, err := p.erasable(d, by); err != nil {
		return err
	}
	infos, err := afero.ReadDir(p.w.fs, p.dirPath(d))
	if err != nil {
		return err
	}
	var files, dirs int
	for _, fi := range infos {
		switch {
		case strings.HasPrefix(fi.Name(), "."):
		case fi.IsDir():
			dirs++
		default:
			files++
		}
	}
	if files+dirs > 0 {
		return &cms.Error{Object: d.String(), Err: cms.ErrDirNotEmpty,
			Detail: fmt.Sprintf("it holds %d files and %d directories; erase them first or erase the whole tree", files, dirs)}
	}
	return p.w.fs.RemoveAll(p.dirPath(d))
}

// EraseTree erases d with every file and directory below it.
func (p *FilePool) EraseTree(d cms.DirID, by string) error {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	ls, err := p.erasable(d, by)
	if err != nil {
		return err
	}
	path := p.dirPath(d)
	before, err := p.w.treeBlocks(path)
	if err != nil {
		return err
	}
	err = p.w.fs.RemoveAll(path)
	left, _ := p.w.treeBlocks(path) // what a failed RemoveAll did not remove
	_ = charge(ls, d.String(), "", left-before)
	return err
}
