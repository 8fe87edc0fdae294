package memfs

import (
	"io/fs"
	"slices"
	"sync"
	"time"
	"unique"
	"unsafe"
)

// PageSize is the unit in which file contents are kept, shared and copied on
// write. 64 KiB holds a 3390 track (56664 bytes) in one or two pages while
// keeping the page table of a 1 GiB file at 16384 slots.
const PageSize = 64 << 10

// MaxSize is the largest file size: the page table costs 32 bytes per page
// of size, holes included, so a 1 TiB file already needs 512 MiB of it.
const MaxSize = 1 << 40

// page is one PageSize slice of a file. At most one of priv and sealed is
// set; neither set is a hole, which reads as zeros. Both kinds may be
// shorter than PageSize: the bytes up to PageSize read as zeros.
type page struct {
	// priv is mutable, owned by this file alone. Bytes between len and cap
	// are zero, so reslicing up to cap needs no clearing.
	priv []byte
	// sealed is immutable and may be shared by any file in the process.
	// Trailing zeros are trimmed before interning, so a page's content has
	// one canonical string and partly used pages cost only what they use.
	sealed unique.Handle[string]
}

func (p *page) isSealed() bool { return p.sealed != unique.Handle[string]{} }

// node is a file or a directory. Directories' children are guarded by the
// Fs's tree lock; everything else by mu.
type node struct {
	dir      bool // fixed at creation
	children map[string]*node
	// dead marks a removed directory: Readdir on a handle still open on it
	// fails with ENOENT, as getdents does on Linux.
	dead bool

	mu    sync.Mutex
	mode  fs.FileMode
	mtime time.Time
	size  int64
	pages []page
	// dirty lists the index of every private page, each once, so sealing
	// costs O(private pages) rather than O(pages) for a large sparse file.
	dirty []int
}

func newFile(perm fs.FileMode, now time.Time) *node {
	return &node{mode: perm & chmodBits, mtime: now}
}

func newDir(perm fs.FileMode, now time.Time) *node {
	return &node{dir: true, children: map[string]*node{}, mode: fs.ModeDir | perm&chmodBits, mtime: now}
}

// pagesFor is the number of pages a file of size bytes spans.
func pagesFor(size int64) int { return int((size + PageSize - 1) / PageSize) }

// grow extends the file to size with a hole: only the page table grows.
// The bytes between the old and new size already read as zeros, since
// truncate clears everything past the size it leaves.
func (n *node) grow(size int64) {
	if np := pagesFor(size); np > len(n.pages) {
		// slices.Grow may copy the table's spare capacity along: truncate
		// leaves it zero, so the new slots are holes.
		n.pages = slices.Grow(n.pages, np-len(n.pages))[:np]
	}
	n.size = size
}

// truncate sets the size, clearing everything past it so a later grow
// reads zeros there.
func (n *node) truncate(size int64) {
	if size >= n.size {
		n.grow(size)
		return
	}
	np := pagesFor(size)
	clear(n.pages[np:])
	n.pages = n.pages[:np]
	if cap(n.pages) > 2*np+64 { // give a large table back after a big shrink
		n.pages = slices.Clone(n.pages)
	}
	n.dirty = slices.DeleteFunc(n.dirty, func(i int) bool { return i >= np })
	if r := int(size % PageSize); r != 0 {
		p := &n.pages[np-1]
		switch {
		case p.priv != nil:
			if len(p.priv) > r {
				clear(p.priv[r:])
				p.priv = p.priv[:r]
			}
		case p.isSealed():
			if s := p.sealed.Value(); len(s) > r {
				*p = intern(s[:r])
			}
		}
	}
	n.size = size
}

// writeAt writes b at off, growing the file if needed. Only the pages b
// touches are copied (if sealed) or allocated (if holes).
func (n *node) writeAt(b []byte, off int64) {
	if end := off + int64(len(b)); end > n.size {
		n.grow(end)
	}
	for len(b) > 0 {
		i, lo := int(off/PageSize), int(off%PageSize)
		k := min(len(b), PageSize-lo)
		copy(n.private(i, lo+k)[lo:], b[:k])
		b, off = b[k:], off+int64(k)
	}
}

// private returns page i as a private buffer at least need bytes long,
// copying a sealed page first (copy on write).
func (n *node) private(i, need int) []byte {
	p := &n.pages[i]
	if p.priv != nil {
		if need > cap(p.priv) {
			buf := make([]byte, need, privateCap(need, cap(p.priv)))
			copy(buf, p.priv)
			p.priv = buf
		} else if need > len(p.priv) {
			p.priv = p.priv[:need]
		}
		return p.priv
	}
	var old string
	if p.isSealed() {
		old = p.sealed.Value()
	}
	l := max(need, len(old))
	buf := make([]byte, l, privateCap(l, 0))
	copy(buf, old)
	*p = page{priv: buf}
	n.dirty = append(n.dirty, i)
	return buf
}

// privateCap is the capacity for a private page that must hold need bytes
// and had old: small files stay small, doubling as they grow, but a page
// that is a quarter used gets all of PageSize at once, so a file written
// in large chunks is not copied as it grows.
func privateCap(need, old int) int {
	if c := max(need, 2*old); c < PageSize/4 {
		return c
	}
	return PageSize
}

// readAt fills b from off up to the end of the file and says how many bytes
// it filled.
func (n *node) readAt(b []byte, off int64) int {
	if off >= n.size {
		return 0
	}
	b = b[:min(int64(len(b)), n.size-off)]
	total := len(b)
	for len(b) > 0 {
		i, lo := int(off/PageSize), int(off%PageSize)
		k := min(len(b), PageSize-lo)
		p := &n.pages[i]
		c := 0
		switch {
		case p.priv != nil:
			if lo < len(p.priv) {
				c = copy(b[:k], p.priv[lo:])
			}
		case p.isSealed():
			if s := p.sealed.Value(); lo < len(s) {
				c = copy(b[:k], s[lo:])
			}
		}
		clear(b[c:k])
		b, off = b[k:], off+int64(k)
	}
	return total
}

// seal makes every private page immutable and shared: see the package doc.
func (n *node) seal() {
	for _, i := range n.dirty {
		if p := &n.pages[i]; p.priv != nil {
			b := p.priv
			if len(b) == 0 {
				*p = page{}
				continue
			}
			// unique.Make copies a string before it keeps it, so viewing
			// the buffer in place spares a 64 KiB copy per page; the
			// buffer is dropped here and never written again.
			*p = intern(unsafe.String(&b[0], len(b)))
		}
	}
	if cap(n.dirty) > 1024 {
		n.dirty = nil
	} else {
		n.dirty = n.dirty[:0]
	}
}

// intern is the sealed page holding s: a hole if s is all zeros, else the
// process-wide copy of s without its trailing zeros.
func intern(s string) page {
	s = trimZeros(s)
	if s == "" {
		return page{}
	}
	return page{sealed: unique.Make(s)}
}

// trimZeros drops trailing zero bytes, eight at a time while it can.
func trimZeros(s string) string {
	for len(s) >= 8 && s[len(s)-8:] == "\x00\x00\x00\x00\x00\x00\x00\x00" {
		s = s[:len(s)-8]
	}
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return s
}

// info describes n under the name base.
func (n *node) info(base string) *fileInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	fi := &fileInfo{name: base, mode: n.mode, mtime: n.mtime}
	if !n.dir {
		fi.size = n.size
	}
	return fi
}

// kill marks the tree at n removed, emptying its directories as removing
// them one by one would, so handles open in it see what they would on
// Linux. Callers hold the tree lock.
func (n *node) kill() {
	if !n.dir {
		return
	}
	n.dead = true
	for _, c := range n.children {
		c.kill()
	}
	clear(n.children)
}

func (n *node) touch(now time.Time) {
	n.mu.Lock()
	n.mtime = now
	n.mu.Unlock()
}

// fileInfo is a snapshot, as os's is: it does not follow later changes.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }
