package extents

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

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

// openSplit opens the file at path (a host path) with flag, never through
// a link planted there, and reads its index; split false: it has none,
// and f is nil.
func openSplit(path string, flag int) (f *os.File, ix index, split bool, err error) {
	if f, err = os.OpenFile(path, flag|noFollow, 0); err != nil {
		return nil, ix, false, err
	}
	if ix, split, err = fgetIndex(f); err != nil || !split {
		_ = f.Close()
		return nil, ix, false, err
	}
	return f, ix, true, nil
}

// fill writes n bytes of an extent's file into its hole in the skeleton.
func fill(skeleton *os.File, e Extent, from *os.File, n int64) error {
	_, err := io.Copy(io.NewOffsetWriter(skeleton, e.Off), io.NewSectionReader(from, 0, n))
	return err
}

// release makes the split file at path (a host path) an ordinary file
// whose bytes no longer count: its index goes, then its extents. For a
// file about to be truncated.
func release(path string) error {
	f, ix, split, err := openSplit(path, os.O_RDONLY)
	if !split {
		return err
	}
	defer f.Close()
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
	f, ix, split, err := openSplit(path, os.O_RDWR)
	if !split {
		return err
	}
	defer f.Close()
	for i, e := range ix.ext {
		ef, err := os.Open(extentPath(path, ix.id, i))
		if err != nil {
			return err
		}
		err = fill(f, e, ef, e.Size)
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

// Names lists the extent files of the split files in dir (a host
// directory), sorted; none when no file there was ever split.
func Names(dir string) ([]string, error) {
	ents, err := os.ReadDir(extentDir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, err
}

// tidy removes the extents in dir/.extents that no file in dir names.
func tidy(dir string) error {
	names, err := Names(dir)
	if err != nil || len(names) == 0 {
		return err
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	live := map[string]int{} // id -> extents
	for _, f := range files {
		if ix, split, _ := pathIndex(filepath.Join(dir, f.Name())); split {
			live[ix.id] = len(ix.ext)
		}
	}
	for _, name := range names {
		id, i, _ := strings.Cut(name, ".")
		if n, err := strconv.Atoi(i); err == nil && n >= 0 && n < live[id] {
			continue
		}
		if err := os.Remove(filepath.Join(extentDir(dir), name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
