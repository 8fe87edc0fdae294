// Package hostfs is an afero.Fs of a directory on the host that says
// where its files are, for what afero has no call for: hard links and
// extended attributes (sim/extents stores a CSMSERVE upload's large
// members as files of their own and links them into place).
package hostfs

import (
	"path/filepath"

	"github.com/spf13/afero"
)

// Fs is afero's BasePathFs over its OsFs, rooted at a host directory.
type Fs struct {
	*afero.BasePathFs
	root string
}

var _ afero.Fs = (*Fs)(nil)

// New is the host directory root as an afero.Fs.
func New(root string) *Fs {
	return &Fs{BasePathFs: afero.NewBasePathFs(afero.NewOsFs(), root).(*afero.BasePathFs), root: root}
}

// HostPath is where name is on the host; names outside the root are
// refused, as the Fs refuses them.
func (f *Fs) HostPath(name string) (string, error) { return f.RealPath(name) }

// Pather is an afero.Fs whose files are host files.
type Pather interface {
	HostPath(name string) (string, error)
}

// Sub is dir of fsys as an Fs of its own: a host directory stays one (so
// its files keep their host paths), anything else is a BasePathFs.
func Sub(fsys afero.Fs, dir string) afero.Fs {
	switch f := fsys.(type) {
	case *Fs:
		if p, err := f.HostPath(dir); err == nil {
			return New(p)
		}
	case *afero.OsFs:
		if p, err := filepath.Abs(dir); err == nil {
			return New(p)
		}
	}
	return afero.NewBasePathFs(fsys, dir)
}
