package extents

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"syscall"
)

// openRead opens the file at host path p: a split file as the stream it
// holds, any other as it is.
func openRead(p, name string, flag int) (*namedReader, error) {
	f, err := os.OpenFile(p, flag, 0)
	if err != nil {
		return nil, pathErr(err, name)
	}
	r, err := newReader(f, p)
	if err != nil {
		_ = f.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return &namedReader{reader: r, name: name}, nil
}

type namedReader struct {
	*reader
	name string
}

func (n *namedReader) Name() string { return n.name }

// heldExtent is an extent of a split file being read, its file open: the
// bytes stay readable whatever happens to the names meanwhile.
type heldExtent struct {
	Extent
	path string
	f    *os.File
}

// reader reads a split file as the stream it holds: the skeleton's bytes,
// and each extent's where it has a hole. A file that is not split reads
// through as it is. Read-only.
type reader struct {
	*os.File // the skeleton
	ext      []heldExtent
	pos      int64
}

func newReader(f *os.File, path string) (*reader, error) {
	r := &reader{File: f}
	ix, split, err := fgetIndex(f)
	if err != nil {
		return nil, damaged(err)
	}
	if !split {
		return r, nil
	}
	for i, e := range ix.ext {
		p := extentPath(path, ix.id, i)
		ef, err := os.Open(p)
		if err == nil {
			var fi os.FileInfo
			if fi, err = ef.Stat(); err == nil && fi.Size() != e.Size {
				err = fmt.Errorf("extent %s has %d bytes, the index says %d", p, fi.Size(), e.Size)
			}
			if err != nil {
				_ = ef.Close()
			}
		}
		if err != nil {
			_ = r.Close()
			return nil, damaged(err)
		}
		r.ext = append(r.ext, heldExtent{Extent: e, path: p, f: ef})
	}
	return r, nil
}

// damaged is why a split file cannot be read: not "not found", which
// would say the file is not there.
func damaged(cause error) error {
	return fmt.Errorf("the file is damaged (%v): send it again", cause)
}

func (r *reader) Close() error {
	for _, e := range r.ext {
		_ = e.f.Close()
	}
	r.ext = nil
	return r.File.Close()
}

// extentAt is the extent that is exactly size bytes at off.
func (r *reader) extentAt(off, size int64) (heldExtent, bool) {
	i := sort.Search(len(r.ext), func(i int) bool { return r.ext[i].Off >= off })
	if i < len(r.ext) && r.ext[i].Off == off && r.ext[i].Size == size {
		return r.ext[i], true
	}
	return heldExtent{}, false
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &os.PathError{Op: "readat", Path: r.File.Name(), Err: errors.New("negative offset")}
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		// the first extent that ends after at
		i := sort.Search(len(r.ext), func(i int) bool { return r.ext[i].End() > at })
		var m int
		var err error
		switch {
		case i < len(r.ext) && r.ext[i].Off <= at:
			e := r.ext[i]
			m, err = e.f.ReadAt(p[n:min(len(p), n+int(e.End()-at))], at-e.Off)
			if err == io.EOF && m > 0 {
				err = nil
			}
		case i < len(r.ext):
			m, err = r.File.ReadAt(p[n:min(len(p), n+int(r.ext[i].Off-at))], at)
		default:
			m, err = r.File.ReadAt(p[n:], at)
		}
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

func (r *reader) Read(p []byte) (int, error) {
	if len(r.ext) == 0 {
		return r.File.Read(p)
	}
	n, err := r.ReadAt(p, r.pos)
	r.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (r *reader) Seek(off int64, whence int) (int64, error) {
	if len(r.ext) == 0 {
		return r.File.Seek(off, whence)
	}
	switch whence {
	case io.SeekCurrent:
		off += r.pos
	case io.SeekEnd:
		fi, err := r.File.Stat()
		if err != nil {
			return 0, err
		}
		off += fi.Size()
	}
	if off < 0 {
		return 0, &os.PathError{Op: "seek", Path: r.File.Name(), Err: syscall.EINVAL}
	}
	r.pos = off
	return off, nil
}

// WriteTo streams what is left through Read: the skeleton's own WriteTo,
// which io.Copy would find, would send its holes in place of the extents.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	if len(r.ext) == 0 {
		return r.File.WriteTo(w)
	}
	return io.Copy(w, struct{ io.Reader }{r})
}

var errReadOnly = errors.New("opened for reading only")

func (r *reader) Write([]byte) (int, error)          { return 0, errReadOnly }
func (r *reader) WriteAt([]byte, int64) (int, error) { return 0, errReadOnly }
func (r *reader) WriteString(string) (int, error)    { return 0, errReadOnly }
func (r *reader) Truncate(int64) error               { return errReadOnly }
func (r *reader) ReadFrom(io.Reader) (int64, error)  { return 0, errReadOnly }
