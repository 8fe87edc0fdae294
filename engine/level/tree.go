package level

import (
	"io"
	"slices"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
)

// rebase maps a directory under from to the same place under to.
func rebase(x, from, to cms.DirID) (cms.DirID, error) {
	rel := x.Names()[len(from.Names()):]
	return cms.NewDirID(to.Pool(), to.Space(), append(slices.Clone(to.Names()), rel...)...)
}

// copyTree creates to (whose parent must exist) as a copy of from's
// subdirectories and files, streaming each file. Callers check the quota
// first, so a failure here is an I/O error.
func copyTree(p cms.FilePool, from, to cms.DirID, by string, skip func(cms.DirID) bool) error {
	dirs, err := p.ListDirs(from)
	if err != nil {
		return err
	}
	if err := p.CreateDir(to, by); err != nil {
		return err
	}
	for _, x := range append([]cms.DirID{from}, dirs...) {
		if skip != nil && skip(x) {
			continue
		}
		y, err := rebase(x, from, to)
		if err != nil {
			return err
		}
		if x != from {
			if err := p.CreateDir(y, by); err != nil {
				return err
			}
		}
		// A table's previous generation is the old level's history, not
		// the new level's.
		if err := copyFiles(p, x, y, func(id cms.FileID) bool { return !table.IsPrevious(id) }); err != nil {
			return err
		}
	}
	return nil
}

// copyFiles copies the files of directory x into y; keep, when given,
// selects them.
func copyFiles(p cms.FilePool, x, y cms.DirID, keep func(cms.FileID) bool) error {
	src, err := p.Dir(x)
	if err != nil {
		return err
	}
	dst, err := p.Dir(y)
	if err != nil {
		return err
	}
	files, err := src.List()
	if err != nil {
		return err
	}
	for _, f := range files {
		if keep != nil && !keep(f.ID) {
			continue
		}
		if err := copyFile(src, dst, f.ID); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst cms.FileArea, id cms.FileID) error {
	r, err := src.Open(id)
	if err != nil {
		return err
	}
	defer r.Close()
	return cms.WriteFile(dst, id, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
}
