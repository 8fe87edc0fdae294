//go:build !linux

package extents

import (
	"errors"
	"os"
)

// Elsewhere than Linux files are never split: no index is ever found.
var errUnsupported = errors.New("extents: not supported on this system")

const (
	maxIndex = 3 << 10
	noFollow = 0
)

func fgetIndex(*os.File) (index, bool, error) { return index{}, false, nil }
func pathIndex(string) (index, bool, error)   { return index{}, false, nil }
func fsetIndex(*os.File, index) error         { return errUnsupported }
func fremoveIndex(*os.File) error             { return nil }
func inode(os.FileInfo) (string, bool)        { return "", false }
func notLinkable(err error) bool              { return true }
