package extents

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const block = 512

// writer writes a new file and splits it while the bytes come in order
// from the start: each tar member of MinExtent bytes or more goes to an
// extent file, the rest to the skeleton at its own offset. Anything out
// of order (a seek, WriteAt, Truncate, a read) makes the file whole and
// plain from then on. Bytes that are not a tar stream go to the skeleton
// as they are, so any bytes are stored exactly.
type writer struct {
	f    *os.File // the skeleton
	path string   // its host path
	name string   // its afero name
	id   string   // names the extents: the skeleton's inode

	pos   int64 // bytes written (the stream's size so far)
	plain bool  // no longer split: writes go straight to the file

	hdr     [block]byte // the header block being collected
	hn      int
	body    int64 // bytes left of the current member's content
	pad     int64 // padding bytes left after it
	toExt   bool  // the current content goes to an extent
	extHdr  bool  // the last header was an extended one (pax, GNU long name): the next header's size may not be the content's
	tail    bool  // the archive's end or bytes not tar: the rest goes to the skeleton
	cur     *os.File
	ext     []Extent
	files   []*os.File // the extents' files, open until Close
	indexed bool       // the index on the skeleton is the final one
	failed  error
}

func newWriter(f *os.File, path, name string) *writer {
	w := &writer{f: f, path: path, name: name}
	fi, err := f.Stat()
	if id, ok := inode(fi); err == nil && ok {
		w.id = id
	} else {
		w.plain = true
	}
	return w
}

func (w *writer) Name() string { return w.name }

func (w *writer) Write(p []byte) (int, error) {
	if w.failed != nil {
		return 0, w.failed
	}
	done := 0
	for done < len(p) {
		if w.plain { // not split (any more), or no index kept here: the rest as it comes
			n, err := w.f.Write(p[done:])
			w.pos += int64(n)
			return done + n, err
		}
		n, err := w.step(p[done:])
		done += n
		w.pos += int64(n)
		if err != nil {
			w.failed = err
			return done, err
		}
	}
	return done, nil
}

func (w *writer) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// step stores a prefix of p as the stream's state says, and moves the
// state on.
func (w *writer) step(p []byte) (int, error) {
	switch {
	case w.tail:
		return w.f.WriteAt(p, w.pos)
	case w.body > 0 && !w.toExt:
		n, err := w.f.WriteAt(p[:min(int64(len(p)), w.body)], w.pos)
		w.body -= int64(n)
		return n, err
	case w.body > 0:
		if w.cur == nil { // the content's first byte: its extent begins
			err := w.newExtent()
			if errors.Is(err, errNoIndex) {
				w.plain = true // Write goes on with the rest as it comes
				_, err = w.f.Seek(w.pos, io.SeekStart)
			}
			if err != nil || w.plain {
				return 0, err
			}
		}
		n, err := w.cur.Write(p[:min(int64(len(p)), w.body)])
		w.body -= int64(n)
		return n, err
	case w.pad > 0:
		n := int(min(int64(len(p)), w.pad))
		n, err := w.f.WriteAt(p[:n], w.pos)
		w.pad -= int64(n)
		return n, err
	}
	n := copy(w.hdr[w.hn:], p)
	n, err := w.f.WriteAt(p[:n], w.pos)
	w.hn += n
	if err != nil || w.hn < block {
		return n, err
	}
	w.hn = 0
	w.member()
	return n, nil
}

// member reads the header block just stored and says where the member's
// content goes.
func (w *writer) member() {
	size, typ, ok := parseHeader(w.hdr[:])
	if !ok {
		w.tail = true // the end-of-archive blocks, or not tar at all
		return
	}
	w.body, w.pad, w.cur = size, (block-size%block)%block, nil
	regular := typ == '0' || typ == 0
	w.toExt = regular && !w.extHdr && size >= MinExtent && len(w.ext) < MaxExtents
	w.extHdr = typ == 'x' || typ == 'g' || typ == 'L' || typ == 'K'
}

// newExtent starts the next extent at the stream's position, for the
// current member's content. A leftover of its name (from a file with the
// same inode number, removed by a crash) is removed, never truncated: it
// may be linked elsewhere.
func (w *writer) newExtent() error {
	i := len(w.ext)
	p := extentPath(w.path, w.id, i)
	if i == 0 {
		if err := os.Mkdir(filepath.Dir(p), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		// No index, no extents: probe that the file system keeps one
		// before the first extent is written.
		if err := fsetIndex(w.f, index{id: w.id}); err != nil {
			return fmt.Errorf("%w: %v", errNoIndex, err)
		}
	}
	// O_RDWR: read back if the file is made whole.
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) { // no tidy has run since the crash
		if err = os.Remove(p); err == nil {
			f, err = os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		}
	}
	if err != nil {
		return err
	}
	w.cur = f
	w.ext = append(w.ext, Extent{Off: w.pos, Size: w.body})
	w.files = append(w.files, f)
	return nil
}

var errNoIndex = errors.New("extended attributes not kept here")

// parseHeader reads a tar header block: the member's content size and
// type. ok is false for anything not a valid header (checksum, magic,
// size field), including the zero blocks that end an archive.
func parseHeader(b []byte) (size int64, typ byte, ok bool) {
	if string(b[257:262]) != "ustar" {
		return 0, 0, false
	}
	want, err := octal(b[148:156])
	if err != nil {
		return 0, 0, false
	}
	var sum int64
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	if sum != want {
		return 0, 0, false
	}
	f := b[124:136]
	if f[0]&0x80 != 0 { // base-256, for sizes of 8 GiB and more
		if f[0] != 0x80 {
			return 0, 0, false
		}
		for _, c := range f[1:4] {
			if c != 0 {
				return 0, 0, false
			}
		}
		for _, c := range f[4:] {
			size = size<<8 | int64(c)
		}
		return size, b[156], size >= 0
	}
	size, err = octal(f)
	return size, b[156], err == nil && size >= 0
}

func octal(f []byte) (int64, error) {
	s := strings.Trim(string(f), " \x00")
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 8, 64)
}

// whole makes the file plain: each extent's bytes written into the
// skeleton's hole, the extents and the index removed.
func (w *writer) whole() error {
	if w.plain {
		return nil
	}
	w.plain = true
	if len(w.ext) > 0 {
		for i, e := range w.ext {
			if err := fill(w.f, e, w.files[i], min(e.Size, w.pos-e.Off)); err != nil {
				return err
			}
		}
		if err := fremoveIndex(w.f); err != nil {
			return err
		}
		w.dropExtents()
	}
	_, err := w.f.Seek(w.pos, io.SeekStart)
	return err
}

func (w *writer) dropExtents() {
	for i, f := range w.files {
		_ = f.Close()
		_ = os.Remove(extentPath(w.path, w.id, i))
	}
	w.files, w.ext, w.cur = nil, nil, nil
}

func (w *writer) plainNow() error {
	if w.failed != nil {
		return w.failed
	}
	if err := w.whole(); err != nil {
		w.failed = err
		return err
	}
	return nil
}

func (w *writer) WriteAt(p []byte, off int64) (int, error) {
	if err := w.plainNow(); err != nil {
		return 0, err
	}
	n, err := w.f.WriteAt(p, off)
	w.pos = max(w.pos, off+int64(n))
	return n, err
}

// Seek to where the stream is already is no change (a writer asking its
// position); anything else makes the file plain.
func (w *writer) Seek(off int64, whence int) (int64, error) {
	if !w.plain && ((whence == io.SeekCurrent && off == 0) || (whence == io.SeekStart && off == w.pos)) {
		return w.pos, nil
	}
	if err := w.plainNow(); err != nil {
		return 0, err
	}
	n, err := w.f.Seek(off, whence)
	return n, err
}

func (w *writer) Truncate(size int64) error {
	if err := w.plainNow(); err != nil {
		return err
	}
	if err := w.f.Truncate(size); err != nil {
		return err
	}
	w.pos = size
	return nil
}

func (w *writer) Read(p []byte) (int, error) {
	if err := w.plainNow(); err != nil {
		return 0, err
	}
	return w.f.Read(p)
}

func (w *writer) ReadAt(p []byte, off int64) (int, error) {
	if err := w.plainNow(); err != nil {
		return 0, err
	}
	return w.f.ReadAt(p, off)
}

// Stat is the skeleton's, with the stream's size: the skeleton ends in a
// hole until Sync or Close sets its size.
func (w *writer) Stat() (os.FileInfo, error) {
	fi, err := w.f.Stat()
	if err != nil || w.plain {
		return fi, err
	}
	return sized{fi, w.pos}, nil
}

type sized struct {
	os.FileInfo
	size int64
}

func (s sized) Size() int64 { return s.size }

func (w *writer) Readdir(int) ([]os.FileInfo, error) {
	return nil, &os.PathError{Op: "readdir", Path: w.name, Err: errors.New("not a directory")}
}

func (w *writer) Readdirnames(int) ([]string, error) {
	return nil, &os.PathError{Op: "readdirnames", Path: w.name, Err: errors.New("not a directory")}
}

// finish gives the skeleton its full size and its index: the file reads
// as the stream from now on.
func (w *writer) finish() error {
	if w.plain || w.indexed {
		return nil
	}
	if fi, err := w.f.Stat(); err != nil {
		return err
	} else if fi.Size() < w.pos {
		if err := w.f.Truncate(w.pos); err != nil { // a stream that ends inside an extent
			return err
		}
	}
	if len(w.ext) == 0 {
		w.plain = true // nothing was split: a plain file (a probe's index, if any, goes)
		return fremoveIndex(w.f)
	}
	// A stream cut short inside an extent: the index says what arrived
	// (at least its first byte: an extent begins with it).
	if last := &w.ext[len(w.ext)-1]; last.End() > w.pos {
		last.Size = w.pos - last.Off
	}
	if err := fsetIndex(w.f, index{id: w.id, ext: w.ext}); err != nil {
		return err
	}
	w.indexed = true
	return nil
}

// Sync makes the file durable: the extents' bytes and names first, then
// the skeleton with its index.
func (w *writer) Sync() error {
	if w.failed != nil {
		return w.failed
	}
	if !w.plain {
		for _, f := range w.files {
			if err := f.Sync(); err != nil {
				return err
			}
		}
		if len(w.files) > 0 {
			if err := syncDir(extentDir(filepath.Dir(w.path))); err != nil {
				return err
			}
		}
		if err := w.finish(); err != nil {
			return err
		}
	}
	return w.f.Sync()
}

// Close keeps what was written, as a file closed without Sync would: a
// write that failed leaves no extents behind.
func (w *writer) Close() error {
	var err error
	if w.failed == nil {
		err = w.finish()
	}
	if w.failed != nil || err != nil {
		_ = fremoveIndex(w.f)
		w.dropExtents()
	}
	for _, f := range w.files {
		_ = f.Close()
	}
	w.files = nil
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
