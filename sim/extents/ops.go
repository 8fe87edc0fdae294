package extents

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func dirOf(p string) string { return filepath.Dir(p) }

// syncDir makes the names in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeExtents removes the extents of a split file that is gone. An
// extent linked elsewhere lives on there.
func removeExtents(path string, ix index) {
	for i := range ix.ext {
		_ = os.Remove(extentPath(path, ix.id, i))
	}
}

// release makes the split file at path (a host path) an ordinary file
// whose bytes no longer count: its index goes, then its extents. For a
// file about to be truncated.
func release(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	ix, split, err := fgetIndex(f)
	if err != nil || !split {
		return err
	}
	if err := fremoveIndex(f); err != nil {
		return err
	}
	removeExtents(path, ix)
	return nil
}

// Materialize makes the split file at path (a host path) whole: each
// extent's bytes are written into the skeleton's hole, made durable, and
// only then the index and the extents go. A crash in between leaves a
// split file that reads the same. A file that is not split is left as it
// is.
func Materialize(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|noFollow, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	ix, split, err := fgetIndex(f)
	if err != nil || !split {
		return err
	}
	for i, e := range ix.ext {
		ef, err := os.Open(extentPath(path, ix.id, i))
		if err != nil {
			return err
		}
		_, err = io.Copy(io.NewOffsetWriter(f, e.Off), io.NewSectionReader(ef, 0, e.Size))
		_ = ef.Close()
		if err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := fremoveIndex(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	removeExtents(path, ix)
	return nil
}

// tidy removes the extents in dir/.extents that no file in dir names.
func tidy(dir string) error {
	names, err := readNames(filepath.Join(dir, DirName))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(names) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	files, err := readNames(dir)
	if err != nil {
		return err
	}
	live := map[string]int{} // id -> extents
	for _, n := range files {
		if ix, split, _ := pathIndex(filepath.Join(dir, n)); split {
			live[ix.id] = len(ix.ext)
		}
	}
	for _, n := range names {
		id, i, ok := strings.Cut(n, ".")
		if count, isLive := live[id]; ok && isLive && extentNumber(i) >= 0 && extentNumber(i) < count {
			continue
		}
		if err := os.Remove(filepath.Join(dir, DirName, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func extentNumber(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' || n > 1<<20 {
			return -1
		}
		n = n*10 + int(r-'0')
	}
	if s == "" {
		return -1
	}
	return n
}

func readNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}
