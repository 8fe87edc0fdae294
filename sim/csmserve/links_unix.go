//go:build unix

package csmserve

import (
	"errors"
	"os"
	"syscall"
)

// links is fi's hard link count; a file of the staging disk has one.
func links(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1 // a file system without link counts (MemMapFs) has no hard links
}

// isNoSpace says the host's disk under a disk-backed staging area is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
