package extents

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Extent is a byte range of a file whose bytes are in a file of their own.
type Extent struct{ Off, Size int64 }

// End is the offset just past the extent.
func (e Extent) End() int64 { return e.Off + e.Size }

// index is a split file's extended attribute: the name its extent files
// share and its extents, in order. Text, so that getfattr shows it:
// "csmsim-extents 1 <id> <off>+<size> ...".
type index struct {
	id  string
	ext []Extent
}

const indexMagic = "csmsim-extents 1"

func (ix index) encode() []byte {
	var b strings.Builder
	b.WriteString(indexMagic + " " + ix.id)
	for _, e := range ix.ext {
		fmt.Fprintf(&b, " %d+%d", e.Off, e.Size)
	}
	return []byte(b.String())
}

var errBadIndex = errors.New("damaged extent index")

func parseIndex(b []byte) (index, error) {
	f := strings.Fields(string(b))
	if len(f) < 3 || f[0]+" "+f[1] != indexMagic || !validID(f[2]) {
		return index{}, fmt.Errorf("%w %q", errBadIndex, b)
	}
	ix := index{id: f[2]}
	var end int64
	for _, s := range f[3:] {
		o, n, ok := strings.Cut(s, "+")
		off, err1 := strconv.ParseInt(o, 10, 64)
		size, err2 := strconv.ParseInt(n, 10, 64)
		if !ok || err1 != nil || err2 != nil || off < end || size <= 0 {
			return index{}, fmt.Errorf("%w %q", errBadIndex, b)
		}
		ix.ext = append(ix.ext, Extent{off, size})
		end = off + size
	}
	return ix, nil
}

// validID keeps an id to a number, as ids are made (the skeleton's inode
// number): it names files, so nothing in it may climb out of the
// directory.
func validID(id string) bool {
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil
}

// extentDir is the directory of the extents of split files in dir.
func extentDir(dir string) string { return filepath.Join(dir, DirName) }

// extentPath is where extent i of the split file at path (host paths) is.
func extentPath(path, id string, i int) string {
	return filepath.Join(extentDir(filepath.Dir(path)), id+"."+strconv.Itoa(i))
}
