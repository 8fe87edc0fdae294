package extents

import (
	"errors"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// noFollow keeps release and Materialize from writing through a link
// planted where a split file was.
const noFollow = syscall.O_NOFOLLOW

// maxIndex bounds an index: one extended attribute block on ext4 holds
// about 4 KiB for all of a file's attributes.
const maxIndex = 3 << 10

func fgetIndex(f *os.File) (index, bool, error) {
	return getIndex(func(b []byte) (int, error) { return unix.Fgetxattr(int(f.Fd()), Attr, b) })
}

func pathIndex(path string) (index, bool, error) {
	return getIndex(func(b []byte) (int, error) { return unix.Lgetxattr(path, Attr, b) })
}

func getIndex(get func([]byte) (int, error)) (index, bool, error) {
	var buf [maxIndex]byte
	n, err := get(buf[:])
	switch {
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.ENOENT):
		return index{}, false, nil
	case err != nil:
		return index{}, false, err
	}
	ix, err := parseIndex(buf[:n])
	return ix, err == nil, err
}

func fsetIndex(f *os.File, ix index) error {
	return unix.Fsetxattr(int(f.Fd()), Attr, ix.encode(), 0)
}

func fremoveIndex(f *os.File) error {
	err := unix.Fremovexattr(int(f.Fd()), Attr)
	if errors.Is(err, unix.ENODATA) {
		return nil
	}
	return err
}

// inode names a file's extents: unique among the files that exist.
func inode(fi os.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return strconv.FormatUint(st.Ino, 10), true
}

// notLinkable reports a link(2) that cannot be made here (another file
// system, or one without hard links): the caller copies instead.
func notLinkable(err error) bool {
	return errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EMLINK) || errors.Is(err, unix.ENOTSUP)
}
