package servlink

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
)

// blockSize is the tar block: headers are one block, content is padded to
// a whole number of blocks.
const blockSize = 512

func padded(n int64) int64 { return (n + blockSize - 1) &^ (blockSize - 1) }

// Reader reads a SERVLINK stream in one pass, verifying as it goes. It holds
// the manifest and one buffer, never a part.
type Reader struct {
	cr      countingReader
	tr      *tar.Reader
	m       Manifest
	label   string
	members []string
	index   map[string]int // member name -> part index
	next    int            // index of the next part
	off     int64          // header offset of the current member
	dataOff int64          // offset of the current part's content
	nextOff int64          // header offset of the next member
	cur     *partReader
	err     error // sticky; io.EOF after the last part
	buf     []byte
	hash    hash.Hash
	trusted bool // the stream's own SHA-256 matched: parts are not hashed again
}

// NewTrustedReader is NewReader for a stream whose SHA-256 as a whole
// already matched a manifest that lists it (a SERVLINK whose receipt
// matched its package manifest): it checks the structure and every size
// as NewReader does, but not each part's SHA-256 again, which the
// stream's sum already vouches for.
func NewTrustedReader(r io.Reader) (*Reader, error) {
	sr, err := NewReader(r)
	if sr != nil {
		sr.trusted = true
	}
	return sr, err
}

// NewReader reads the manifest member and checks it (Manifest.Check). Errors
// are *Error: ReasonNotTar, ReasonNoManifest, ReasonBadManifest,
// ReasonUnsupported, ReasonBadName, ReasonDuplicate.
func NewReader(r io.Reader) (*Reader, error) {
	sr := &Reader{}
	sr.cr.r = r
	sr.tr = tar.NewReader(&sr.cr)
	hdr, err := sr.tr.Next()
	switch {
	case err == io.EOF:
		return nil, sr.fail("", ReasonNotTar, nil, "empty tar stream (%d bytes): no manifest", sr.cr.n)
	case err != nil:
		return nil, sr.fail("", ReasonNotTar, err, "%v", err)
	case hdr.Name != ManifestName || !isRegular(hdr):
		return nil, sr.fail(hdr.Name, ReasonNoManifest, nil, "found %s", describe(hdr))
	case hdr.Size > MaxManifestSize:
		return nil, sr.fail(ManifestName, ReasonBadManifest, nil, "%d bytes; at most %d allowed", hdr.Size, MaxManifestSize)
	}
	sr.nextOff = sr.cr.n + padded(hdr.Size)
	data, err := io.ReadAll(sr.tr)
	if err != nil {
		return nil, sr.fail(ManifestName, ReasonNotTar, err, "manifest cut short: %v", err)
	}

	// The format number and kind first, leniently, so that a manifest of
	// another format is reported as such rather than as malformed.
	var probe struct {
		Format int  `json:"format"`
		Kind   Kind `json:"kind"`
		Name   string
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, sr.fail(ManifestName, ReasonBadManifest, err, "%v", err)
	}
	sr.label = strings.TrimSpace(string(probe.Kind) + " " + probe.Name)
	if probe.Format != FormatVersion {
		return nil, sr.fail(ManifestName, ReasonUnsupported, nil, "format %d; this release reads format %d", probe.Format, FormatVersion)
	}
	if !slices.Contains(Kinds(), probe.Kind) {
		return nil, sr.fail(ManifestName, ReasonUnsupported, nil, "kind %q; known kinds are RSU, COR, LOCALMOD, SERVLINK, PACKAGE", probe.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, sr.fail(ManifestName, ReasonBadManifest, err, "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, sr.fail(ManifestName, ReasonBadManifest, err, "data after the JSON object")
	}
	if e := m.check(); e != nil {
		return nil, e
	}
	sr.m = m
	sr.label = m.Label()
	sr.members = make([]string, len(m.Parts))
	sr.index = make(map[string]int, len(m.Parts))
	for i, p := range m.Parts {
		sr.members[i] = p.Member()
		sr.index[sr.members[i]] = i
	}
	return sr, nil
}

// Manifest returns a copy of the stream's manifest.
func (r *Reader) Manifest() Manifest { return r.m.Clone() }

// Offset is the byte offset of the first header block of the current member:
// the part most recently returned by Next, or the manifest (0) before.
func (r *Reader) Offset() int64 { return r.off }

// ContentOffset is the byte offset of the current part's content (the
// part most recently returned by Next) in the stream.
func (r *Reader) ContentOffset() int64 { return r.dataOff }

// Next returns the next part and a reader of its content, io.EOF after the
// last part once the end of the archive has been checked. The content reader
// verifies size and SHA-256 as it is read and returns an *Error instead of
// io.EOF at the end if they differ. Next first reads (and verifies) whatever
// the caller left unread of the previous part, so every byte is checked.
// Errors are *Error and sticky.
func (r *Reader) Next() (Part, io.Reader, error) {
	if r.err != nil {
		return Part{}, nil, r.err
	}
	if r.cur != nil {
		if r.trusted && r.cur.err == nil {
			// Nothing to verify: archive/tar skips the rest, by a seek
			// where the stream can, and still finds a stream cut short.
			r.cur.err = io.EOF
		} else if err := r.cur.drain(); err != nil {
			return Part{}, nil, err
		}
		r.cur = nil
	}
	if r.next == len(r.members) {
		r.end()
		return Part{}, nil, r.err
	}
	want, wantName := r.m.Parts[r.next], r.members[r.next]
	r.off = r.nextOff
	hdr, err := r.tr.Next()
	switch {
	case err == io.EOF:
		return Part{}, nil, r.fail(wantName, ReasonMissing, nil, "the stream ends after %d of %d parts", r.next, len(r.members))
	case err != nil:
		return Part{}, nil, r.fail("", ReasonNotTar, err, "%v where member %s should start", err, wantName)
	case hdr.Name != wantName:
		j, known := r.index[hdr.Name]
		switch {
		case !known:
			return Part{}, nil, r.fail(hdr.Name, ReasonOutOfOrder, nil, "not in the manifest; expected %s (part %d of %d) here", wantName, r.next+1, len(r.members))
		case j < r.next:
			return Part{}, nil, r.fail(hdr.Name, ReasonOutOfOrder, nil, "appears again; it is part %d, expected %s (part %d of %d) here", j+1, wantName, r.next+1, len(r.members))
		default:
			return Part{}, nil, r.fail(hdr.Name, ReasonOutOfOrder, nil, "is part %d of %d; expected %s (part %d) here", j+1, len(r.members), wantName, r.next+1)
		}
	case !isRegular(hdr):
		return Part{}, nil, r.fail(hdr.Name, ReasonOutOfOrder, nil, "%s; parts are regular files", describe(hdr))
	case hdr.Size != want.Size:
		return Part{}, nil, r.fail(hdr.Name, ReasonSize, nil, "member has %d bytes, manifest says %d", hdr.Size, want.Size)
	}
	r.dataOff = r.cr.n
	r.nextOff = r.cr.n + padded(hdr.Size)
	if r.buf == nil {
		r.buf = make([]byte, bufSize)
	}
	pr := &partReader{r: r, part: want, name: wantName, off: r.off, left: want.Size}
	if !r.trusted {
		if r.hash == nil {
			r.hash = sha256.New()
		}
		r.hash.Reset()
		pr.h = r.hash
	}
	r.cur = pr
	r.next++
	return want, pr, nil
}

// end checks that nothing but end-of-archive blocks (and zero padding to a
// tar record) follows the last part.
func (r *Reader) end() {
	r.off = r.nextOff
	hdr, err := r.tr.Next()
	switch {
	case err == nil:
		r.fail(hdr.Name, ReasonExtra, nil, "%s after the last part of the manifest", describe(hdr))
		return
	case err != io.EOF:
		r.fail("", ReasonNotTar, err, "%v after the last part", err)
		return
	case r.cr.n-r.off < 2*blockSize:
		r.fail("", ReasonNotTar, nil, "the stream ends without the end-of-archive blocks; it was cut short")
		return
	}
	if r.buf == nil {
		r.buf = make([]byte, bufSize)
	}
	for {
		start := r.cr.n
		n, err := r.cr.Read(r.buf)
		for i, c := range r.buf[:n] {
			if c != 0 {
				r.off = start + int64(i)
				r.fail("", ReasonExtra, nil, "data after the end-of-archive blocks")
				return
			}
		}
		if err == io.EOF {
			r.err = io.EOF
			return
		}
		if err != nil {
			r.fail("", ReasonNotTar, err, "reading after the end of the archive: %v", err)
			return
		}
	}
}

func (r *Reader) fail(member string, reason ReasonCode, cause error, format string, a ...any) error {
	e := &Error{Package: r.label, Member: member, Offset: r.off, Reason: reason, Detail: fmt.Sprintf(format, a...), Err: cause}
	r.err = e
	return e
}

// partReader is the content of one part, verified as it is read.
type partReader struct {
	r    *Reader
	part Part
	name string
	off  int64
	left int64
	h    hash.Hash // nil when the Reader is trusted
	err  error     // sticky: io.EOF when verified, or an *Error
}

func (p *partReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.r.cur != p {
		return 0, errors.New("servlink: part reader used after Reader.Next")
	}
	n, err := p.r.tr.Read(b)
	if n > 0 {
		if p.h != nil {
			p.h.Write(b[:n])
		}
		p.left -= int64(n)
	}
	switch {
	case err == io.EOF:
		p.err = p.verify()
	case err != nil:
		p.err = p.r.fail(p.name, ReasonNotTar, err, "content cut short, %d of %d bytes missing: %v", p.left, p.part.Size, err)
	}
	return n, p.err
}

func (p *partReader) verify() error {
	if p.left != 0 {
		return p.r.fail(p.name, ReasonSize, nil, "content has %d bytes, manifest says %d", p.part.Size-p.left, p.part.Size)
	}
	if p.h == nil {
		return io.EOF // trusted: the stream's sum vouches for the content
	}
	var sum [sha256.Size]byte
	if got := hex.EncodeToString(p.h.Sum(sum[:0])); got != p.part.SHA256 {
		return p.r.fail(p.name, ReasonSHA256, nil, "content hashes to %s, manifest says %s", got, p.part.SHA256)
	}
	return io.EOF
}

// drain reads the rest of the part through the verifier.
func (p *partReader) drain() error {
	for {
		_, err := p.Read(p.r.buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Validate reads a whole stream once, as a managed system does before loading
// anything: the manifest, every part in order with its name, size and
// SHA-256, and nothing after the last part but the end-of-archive blocks. It
// returns the first failure as an *Error, and the manifest when it was read.
func Validate(r io.Reader) (Manifest, error) {
	sr, err := NewReader(r)
	if err != nil {
		return Manifest{}, err
	}
	for {
		_, _, err := sr.Next()
		if err == io.EOF {
			return sr.Manifest(), nil
		}
		if err != nil {
			return sr.Manifest(), err
		}
	}
}

func isRegular(h *tar.Header) bool {
	if h.Typeflag != tar.TypeReg {
		return false
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return false
		}
	}
	return true
}

func describe(h *tar.Header) string {
	kind := "a regular file"
	switch {
	case h.Typeflag == tar.TypeDir:
		kind = "a directory"
	case h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink:
		kind = "a link"
	case h.Typeflag == tar.TypeXGlobalHeader:
		kind = "a PAX global header"
	case h.Typeflag != tar.TypeReg:
		kind = fmt.Sprintf("a member of type %q", h.Typeflag)
	case !isRegular(h):
		kind = "a sparse file"
	}
	return fmt.Sprintf("%q, %s", h.Name, kind)
}
