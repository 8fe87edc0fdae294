package servlink

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// bufSize is the one buffer a Writer or Reader streams content through.
const bufSize = 64 << 10

// maxUSTARSize is the largest member size a USTAR header can carry; larger
// parts get a PAX header.
const maxUSTARSize = 1<<33 - 1

// Writer writes a SERVLINK stream: the manifest first, then each part in
// manifest order. Headers are deterministic (USTAR, or PAX for members over
// 8 GiB; mtime Manifest.Time; uid/gid 0; mode 0644; no user or group names),
// so the same manifest and contents give the same bytes.
//
// The first failure is sticky: every later call returns it. The output of a
// failed Writer is garbage (a part may be cut short or carry the wrong
// content); the caller must discard it, never send it.
type Writer struct {
	cw      countingWriter
	tw      *tar.Writer
	m       Manifest
	members []string
	mtime   time.Time
	next    int   // index of the next part
	off     int64 // header offset of the member most recently started
	err     error
	buf     []byte
	h       hash.Hash
}

// NewWriter checks m (see Manifest.Check) and writes it as the first member.
// The Writer keeps its own copy of m.
func NewWriter(w io.Writer, m Manifest) (*Writer, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	m = m.Clone()
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the manifest: %w", m.Label(), err)
	}
	data = append(data, '\n')
	sw := &Writer{m: m, mtime: time.Unix(m.Time, 0), h: sha256.New()}
	sw.cw.w = w
	sw.tw = tar.NewWriter(&sw.cw)
	sw.members = make([]string, len(m.Parts))
	for i, p := range m.Parts {
		sw.members[i] = p.Member()
	}
	if err := sw.header(ManifestName, int64(len(data))); err != nil {
		return nil, err
	}
	if _, err := sw.tw.Write(data); err != nil {
		return nil, sw.ioErr(ManifestName, err)
	}
	return sw, nil
}

// Manifest returns a copy of the manifest being written.
func (w *Writer) Manifest() Manifest { return w.m.Clone() }

// Offset is the byte offset of the header of the member most recently
// started (0, the manifest, right after NewWriter).
func (w *Writer) Offset() int64 { return w.off }

// Written is the number of bytes written to the underlying writer so far.
func (w *Writer) Written() int64 { return w.cw.n }

func (w *Writer) header(name string, size int64) error {
	// Flush writes the padding of the previous member, so that the count
	// is then exactly where this header starts.
	if err := w.tw.Flush(); err != nil {
		return w.ioErr(name, err)
	}
	w.off = w.cw.n
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  w.mtime,
		Format:   tar.FormatUSTAR,
	}
	if size > maxUSTARSize {
		hdr.Format = tar.FormatPAX
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return w.ioErr(name, err)
	}
	return nil
}

func (w *Writer) ioErr(member string, err error) error {
	w.err = fmt.Errorf("%s: writing member %q at offset %d: %w", w.m.Label(), member, w.off, err)
	return w.err
}

func (w *Writer) fail(member string, r ReasonCode, format string, a ...any) error {
	w.err = &Error{Package: w.m.Label(), Member: member, Offset: w.off, Reason: r, Detail: fmt.Sprintf(format, a...)}
	return w.err
}

// WritePart writes the next part. p must be the manifest's next part
// (ReasonOutOfOrder otherwise; ReasonExtra when all parts are written); r
// must yield exactly p.Size bytes with SHA-256 p.SHA256 (ReasonSize,
// ReasonSHA256). Content is streamed through one buffer while hashing. A
// failure is reported after the bytes are written: the output is then
// garbage.
func (w *Writer) WritePart(p Part, r io.Reader) error {
	if w.err != nil {
		return w.err
	}
	if w.next >= len(w.m.Parts) {
		if err := w.tw.Flush(); err != nil {
			return w.ioErr(p.Member(), err)
		}
		w.off = w.cw.n
		return w.fail(p.Member(), ReasonExtra, "all %d parts of the manifest are written already", len(w.m.Parts))
	}
	want, name := w.m.Parts[w.next], w.members[w.next]
	switch {
	case p.Component != want.Component || p.Area != want.Area || p.File != want.File:
		return w.fail(p.Member(), ReasonOutOfOrder, "part %d of %d in the manifest is %s", w.next+1, len(w.m.Parts), name)
	case p.Size != want.Size:
		return w.fail(name, ReasonSize, "part says %d bytes, manifest says %d", p.Size, want.Size)
	case p.SHA256 != want.SHA256:
		return w.fail(name, ReasonSHA256, "part says %s, manifest says %s", p.SHA256, want.SHA256)
	case p != want:
		return w.fail(name, ReasonOutOfOrder, "part %+v differs from the manifest's %+v", p, want)
	}
	if err := w.header(name, want.Size); err != nil {
		return err
	}
	if w.buf == nil {
		w.buf = make([]byte, bufSize)
	}
	w.h.Reset()
	var n int64
	for n < want.Size {
		b := w.buf[:min(int64(len(w.buf)), want.Size-n)]
		k, err := r.Read(b)
		if k > 0 {
			w.h.Write(b[:k])
			if _, werr := w.tw.Write(b[:k]); werr != nil {
				return w.ioErr(name, werr)
			}
			n += int64(k)
		}
		if err == io.EOF {
			return w.fail(name, ReasonSize, "content ended after %d bytes, manifest says %d", n, want.Size)
		}
		if err != nil {
			w.err = fmt.Errorf("%s: reading content of member %q: %w", w.m.Label(), name, err)
			return w.err
		}
	}
	var one [1]byte
	if k, err := io.ReadFull(r, one[:]); k > 0 {
		return w.fail(name, ReasonSize, "content is longer than the manifest's %d bytes", want.Size)
	} else if err != io.EOF {
		w.err = fmt.Errorf("%s: reading content of member %q: %w", w.m.Label(), name, err)
		return w.err
	}
	var sum [sha256.Size]byte
	if got := hex.EncodeToString(w.h.Sum(sum[:0])); got != want.SHA256 {
		return w.fail(name, ReasonSHA256, "content hashes to %s, manifest says %s", got, want.SHA256)
	}
	w.next++
	return nil
}

// Close fails with ReasonMissing if parts are still to be written; else it
// writes the end-of-archive blocks. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.next < len(w.m.Parts) {
		if err := w.tw.Flush(); err != nil {
			return w.ioErr(w.members[w.next], err)
		}
		w.off = w.cw.n
		return w.fail(w.members[w.next], ReasonMissing, "%d of %d parts written", w.next, len(w.m.Parts))
	}
	if err := w.tw.Close(); err != nil {
		w.err = fmt.Errorf("%s: ending the archive: %w", w.m.Label(), err)
		return w.err
	}
	w.err = errors.New("servlink: Writer is closed")
	return nil
}

// WriteStream writes a whole stream from m and a function opening each part's
// content (called once per part, in order). It is NewWriter, WritePart for
// every part, Close.
func WriteStream(w io.Writer, m Manifest, open func(Part) (io.Reader, error)) error {
	sw, err := NewWriter(w, m)
	if err != nil {
		return err
	}
	for _, p := range m.Parts {
		r, err := open(p)
		if err != nil {
			return fmt.Errorf("%s: opening %s: %w", m.Label(), p.Member(), err)
		}
		err = sw.WritePart(p, r)
		if c, ok := r.(io.Closer); ok {
			c.Close()
		}
		if err != nil {
			return err
		}
	}
	return sw.Close()
}

// HashReader reads r to the end and returns its size and SHA-256 (lower-case
// hex), the values a manifest records for a part.
func HashReader(r io.Reader) (size int64, sum string, err error) {
	var d Digest
	if _, err := io.Copy(&d, r); err != nil {
		return d.Size(), "", err
	}
	return d.Size(), d.Sum(), nil
}

// Digest is a writer that measures what goes through it: its size and
// SHA-256, as a manifest records them for a part, a SERVLINK or a dump.
// The zero Digest is ready to use.
type Digest struct {
	h hash.Hash
	n int64
}

func (d *Digest) Write(p []byte) (int, error) {
	if d.h == nil {
		d.h = sha256.New()
	}
	d.n += int64(len(p))
	return d.h.Write(p)
}

// Size is the number of bytes written.
func (d *Digest) Size() int64 { return d.n }

// Sum is the SHA-256 of the bytes written, in lower-case hex.
func (d *Digest) Sum() string {
	if d.h == nil {
		d.h = sha256.New()
	}
	return hex.EncodeToString(d.h.Sum(nil))
}

// HashBytes is HashReader for content in memory.
func HashBytes(b []byte) (size int64, sum string) {
	s := sha256.Sum256(b)
	return int64(len(b)), hex.EncodeToString(s[:])
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var errNoSeek = errors.New("servlink: the stream cannot skip")

// Seek lets archive/tar skip content it is not asked for without reading
// it, when the stream below can (a file): only forward from where the
// count is, so the count stays the offset.
func (c *countingReader) Seek(off int64, whence int) (int64, error) {
	s, ok := c.r.(io.Seeker)
	if !ok || whence != io.SeekCurrent || off < 0 {
		return -1, errNoSeek
	}
	if off > 0 {
		if _, err := s.Seek(off, io.SeekCurrent); err != nil {
			return -1, err
		}
		c.n += off
	}
	return c.n, nil
}
