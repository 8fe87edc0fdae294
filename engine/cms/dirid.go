package cms

import (
	"fmt"
	"strings"
)

// SFS limits on directory ids.
const (
	MaxDirDepth   = 8  // directory levels below the file space's top directory
	MaxDirNameLen = 16 // characters in one directory name
)

// DirID names an SFS directory: filepool:filespace.dir1.dir2...
// The top directory of a file space is written "POOL:SPACE." as CMS does.
// DirID is comparable; a non-zero DirID is always valid and upper case.
type DirID struct {
	pool, space string
	path        string // directory names below the top joined by '.', "" for the top
}

// ParseDirID parses "VMPSFS:CSM720.BASE.CP", "VMPSFS:CSM720." or
// "VMPSFS:CSM720" (the last two name the top directory).
func ParseDirID(s string) (DirID, error) {
	pool, rest, ok := strings.Cut(s, ":")
	if !ok {
		return DirID{}, &NameError{"filepool", "", fmt.Sprintf("missing in %q (write POOL:SPACE.DIR, e.g. VMPSFS:CSM720.BASE)", s)}
	}
	space, sub, _ := strings.Cut(rest, ".")
	var names []string
	if sub != "" {
		names = strings.Split(sub, ".")
	}
	if len(names) > MaxDirDepth {
		return DirID{}, depthError(s, len(names))
	}
	return NewDirID(pool, space, names...)
}

func depthError(id string, depth int) error {
	return &NameError{"directory", id, fmt.Sprintf("%d levels below the top; at most %d allowed", depth, MaxDirDepth)}
}

// ParseFilePool validates a file pool name (1-8 name characters other than
// ':') and folds it to upper case.
func ParseFilePool(s string) (string, error) {
	if strings.ContainsRune(s, ':') {
		return "", &NameError{"filepool", s, "character ':' not allowed (it ends the filepool name)"}
	}
	return checkName("filepool", s, 8)
}

// NewDirID builds a DirID from a file pool, a file space and the directory
// names below the top.
func NewDirID(pool, space string, names ...string) (DirID, error) {
	p, err := ParseFilePool(pool)
	if err != nil {
		return DirID{}, err
	}
	sp, err := checkName("filespace", space, 8)
	if err != nil {
		return DirID{}, err
	}
	d := DirID{pool: p, space: sp}
	for _, n := range names {
		if d, err = d.Child(n); err != nil {
			return DirID{}, err
		}
	}
	return d, nil
}

// MustParseDirID is ParseDirID for constants; it panics on an invalid id.
func MustParseDirID(s string) DirID {
	d, err := ParseDirID(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Pool is the file pool name.
func (d DirID) Pool() string { return d.pool }

// Space is the file space (the owning userid).
func (d DirID) Space() string { return d.space }

// Names are the directory names below the top, outermost first.
func (d DirID) Names() []string {
	if d.path == "" {
		return nil
	}
	return strings.Split(d.path, ".")
}

// Depth is the number of directory levels below the top (0 for the top).
func (d DirID) Depth() int {
	if d.path == "" {
		return 0
	}
	return strings.Count(d.path, ".") + 1
}

// IsTop reports whether d is the top directory of its file space.
func (d DirID) IsTop() bool { return d.path == "" }

// IsZero reports whether d is the zero DirID (no directory).
func (d DirID) IsZero() bool { return d.pool == "" }

// Top is the top directory of d's file space.
func (d DirID) Top() DirID { return DirID{pool: d.pool, space: d.space} }

func (d DirID) String() string {
	return d.pool + ":" + d.space + "." + d.path
}

// Parent is the directory that holds d; false for a top directory.
func (d DirID) Parent() (DirID, bool) {
	if d.path == "" {
		return DirID{}, false
	}
	i := strings.LastIndexByte(d.path, '.')
	if i < 0 {
		return d.Top(), true
	}
	return DirID{pool: d.pool, space: d.space, path: d.path[:i]}, true
}

// Child is the subdirectory name of d, refused when the name is invalid or
// the result would lie more than MaxDirDepth levels below the top.
func (d DirID) Child(name string) (DirID, error) {
	n, err := checkName("directory", name, MaxDirNameLen)
	if err != nil {
		return DirID{}, err
	}
	if d.Depth() >= MaxDirDepth {
		return DirID{}, depthError(d.String()+"."+n, d.Depth()+1)
	}
	if d.path != "" {
		n = d.path + "." + n
	}
	return DirID{pool: d.pool, space: d.space, path: n}, nil
}
