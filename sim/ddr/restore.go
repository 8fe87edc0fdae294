package ddr

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"

	"github.com/csmsim/csmsim/sim/ckd"
)

// All, as from and to of RestoreCylinders, means every dumped cylinder.
const All = -1

// dumpName is the dump's file name if the reader has one (afero.File and
// os.File do), for error messages.
func dumpName(r io.Reader) string {
	if n, ok := r.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "(dump)"
}

// reader reads a dump sequentially, hashing what it reads and counting
// the offset for error messages.
type reader struct {
	c   ctx
	r   io.Reader
	sum hash.Hash
	off int64
}

// read fills p; hashed says whether p counts towards the whole-file hash.
func (d *reader) read(p []byte, hashed bool, pos *Pos, what string) error {
	n, err := io.ReadFull(d.r, p)
	if hashed && d.sum != nil {
		d.sum.Write(p[:n])
	}
	d.off += int64(n)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return d.c.fail(d.off, pos, ErrTruncated, "the dump ends inside %s; the file is truncated: transfer it again (in binary) or make it again", what)
	case err != nil:
		return d.c.failIO(d.off, pos, err, "reading the dump")
	}
	return nil
}

// readHeader reads and checks the header at the reader's start.
func readHeader(d *reader) (Header, error) {
	b := make([]byte, HeaderSize)
	n, err := io.ReadFull(d.r, b)
	if d.sum != nil {
		d.sum.Write(b[:n])
	}
	d.off = int64(n)
	if !bytes.HasPrefix([]byte(Magic), b[:min(n, len(Magic))]) || n == 0 {
		if bytes.HasPrefix(b[:n], []byte("CKD_P370")) {
			return Header{}, d.c.fail(0, nil, ErrBadFormat, "this is a CKD volume image, not a DDR dump; give the dump file, or COPY the volume")
		}
		return Header{}, d.c.fail(0, nil, ErrBadFormat, "no %q magic at the start; this is not a DDR dump", Magic)
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return Header{}, d.c.fail(int64(n), nil, ErrTruncated, "the dump ends inside its %d-byte header; the file is truncated: transfer it again or make it again", HeaderSize)
	} else if err != nil {
		return Header{}, d.c.failIO(int64(n), nil, err, "reading the dump")
	}
	return unmarshalHeader(d.c, b)
}

// scan reads the whole dump from the start and checks every byte of it.
// onHeader runs once the header is known good; onTrack (if not nil) gets
// each track after its hash, position and parse are checked, with img
// zero-filled to the image track size and used the length up to and
// including the end-of-track marker. wholeFile says whether to check the
// whole-file SHA-256 too (a second pass need not). It returns the bytes read.
func scan(c ctx, rs io.ReadSeeker, wholeFile bool, onHeader func(Header) error, onTrack func(Header, Pos, []byte, int) error) (Header, int64, error) {
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return Header{}, 0, c.failIO(0, nil, err, "rewinding the dump")
	}
	d := &reader{c: c, r: rs}
	// A dump in memory is read as it is: buffering would copy every
	// track once more.
	if _, inMemory := rs.(*bytes.Reader); !inMemory {
		d.r = bufio.NewReaderSize(rs, 1<<16)
	}
	if wholeFile {
		d.sum = sha256.New()
	}
	h, err := readHeader(d)
	if err != nil {
		return Header{}, d.off, err
	}
	if onHeader != nil {
		if err := onHeader(h); err != nil {
			return h, d.off, err
		}
	}
	g, _, err := ckd.ParseDevType(h.DevType)
	if err != nil {
		return h, d.off, c.fail(0, nil, ErrBadFormat, "%v", err)
	}
	buf := make([]byte, h.ImageTrackSize)
	var th [TrackHeaderSize]byte
	var got [TrackSumSize]byte
	trackSum := sha256.New()
	for i := range h.Tracks {
		pos := Pos{h.FirstAbsCyl + i/h.Heads, i % h.Heads}
		start := d.off
		if err := d.read(th[:], true, &pos, "a track record"); err != nil {
			return h, d.off, err
		}
		n := int(be.Uint32(th[4:]))
		if n < ckd.MinTrackImage || n > h.ImageTrackSize {
			return h, d.off, c.fail(start+4, &pos, ErrBadFormat, "track image length %d is not %d-%d; the dump is damaged, make it again", n, ckd.MinTrackImage, h.ImageTrackSize)
		}
		if err := d.read(buf[:n], true, &pos, "a track image"); err != nil {
			return h, d.off, err
		}
		if err := d.read(got[:], true, &pos, "a track's SHA-256"); err != nil {
			return h, d.off, err
		}
		trackSum.Reset()
		trackSum.Write(th[:])
		trackSum.Write(buf[:n])
		if !bytes.Equal(trackSum.Sum(nil), got[:]) {
			return h, d.off, c.fail(start, &pos, ErrChecksum, "SHA-256 mismatch; the dump is damaged, make it again")
		}
		if cyl, head := int(be.Uint16(th[0:])), int(be.Uint16(th[2:])); cyl != pos.Cyl || head != pos.Head {
			return h, d.off, c.fail(start, &pos, ErrBadFormat, "the record is for cyl %d head %d, out of order; the dump is damaged, make it again", cyl, head)
		}
		clear(buf[n:])
		used, err := g.CheckTrackImage(buf, pos.Cyl, pos.Head)
		if err != nil {
			return h, d.off, c.fail(start+TrackHeaderSize, &pos, ErrBadFormat, "the track image does not parse (%v); the dump is damaged, make it again", err)
		}
		if used != n {
			return h, d.off, c.fail(start+4, &pos, ErrBadFormat, "the end-of-track marker is at byte %d of the %d-byte image; the dump is damaged, make it again", used, n)
		}
		if onTrack != nil {
			if err := onTrack(h, pos, buf, n); err != nil {
				return h, d.off, err
			}
		}
	}
	if err := readTrailer(d, h); err != nil {
		return h, d.off, err
	}
	return h, d.off, nil
}

func readTrailer(d *reader, h Header) error {
	start := d.off
	tr := make([]byte, TrailerSize)
	if err := d.read(tr[:trailerFields], true, nil, "the trailer"); err != nil {
		return err
	}
	var want []byte
	if d.sum != nil {
		want = d.sum.Sum(nil)
	}
	if err := d.read(tr[trailerFields:], false, nil, "the trailer"); err != nil {
		return err
	}
	switch {
	case string(tr[:8]) != TrailerMagic:
		return d.c.fail(start, nil, ErrBadFormat, "no %q trailer after the last track; the dump is damaged, make it again", TrailerMagic)
	case int(be.Uint32(tr[8:])) != h.Tracks || !allZero(tr[12:16]):
		return d.c.fail(start+8, nil, ErrBadFormat, "the trailer does not match the header (%d tracks); the dump is damaged, make it again", h.Tracks)
	case want != nil && !bytes.Equal(want, tr[trailerFields:]):
		return d.c.fail(start+trailerFields, nil, ErrChecksum, "whole-file SHA-256 mismatch; the dump is damaged, make it again")
	}
	if extra, _ := io.Copy(io.Discard, d.r); extra > 0 {
		return d.c.fail(d.off, nil, ErrBadFormat, "%d bytes follow the trailer; the file is not one dump: make it again", extra)
	}
	return nil
}

// ReadHeader reads and checks just the header (a quick look; Verify
// checks everything).
func ReadHeader(dump io.ReadSeeker) (Header, error) {
	c := ctx{op: "read", object: dumpName(dump)}
	if _, err := dump.Seek(0, io.SeekStart); err != nil {
		return Header{}, c.failIO(0, nil, err, "rewinding the dump")
	}
	return readHeader(&reader{c: c, r: bufio.NewReader(dump)})
}

// Verify checks a whole dump without a target: header, every track's
// SHA-256, position and parse, the trailer and the whole-file SHA-256.
func Verify(dump io.ReadSeeker) (Header, error) {
	h, _, err := scan(ctx{op: "verify", object: dumpName(dump)}, dump, true, nil, nil)
	if err != nil {
		return Header{}, err
	}
	return h, nil
}

// Restore restores a whole dump onto dst. reorderTo < 0 puts the
// cylinders where the dump says (its source cylinders, or the DUMP's
// REORDER TO); otherwise the first dumped cylinder goes to reorderTo.
func Restore(dump io.ReadSeeker, dst ckd.Extent, reorderTo int) (Summary, error) {
	return RestoreCylinders(dump, All, All, dst, reorderTo)
}

// RestoreCylinders is RESTORE cyl1 TO cyl2 [REORDER TO cyl3]: from..to
// are source cylinders (relative, as the dump's header lists them), All
// for the whole dump. The whole dump is verified before the first track
// is written; any failure before then leaves dst unchanged.
func RestoreCylinders(dump io.ReadSeeker, from, to int, dst ckd.Extent, reorderTo int) (Summary, error) {
	name := dumpName(dump)
	c := ctx{op: "restore", object: name}
	tc := ctx{op: "restore onto", object: "?"}
	if dst.Volume != nil {
		tc.object = dst.Volume.Path()
	}
	if err := checkExtent(tc, dst); err != nil {
		return Summary{}, err
	}
	var s Summary
	target := 0 // where from goes, relative to dst
	plan := func(h Header) error {
		if from == All {
			from, to = h.FirstCyl, h.LastCyl
		}
		if from > to || from < h.FirstCyl || to > h.LastCyl {
			return c.fail(-1, nil, ErrRange, "cylinders %d-%d are not all in the dump, which holds cylinders %d-%d; restore cylinders inside it", from, to, h.FirstCyl, h.LastCyl)
		}
		if g := dst.Volume.Geometry(); g.Type != h.DevType {
			return tc.fail(-1, nil, ErrDeviceMismatch, "the volume is a %s and the dump is of a %s; restore onto a %s volume", g.Type, h.DevType, h.DevType)
		}
		target = h.RestoreCyl + from - h.FirstCyl
		if reorderTo >= 0 {
			target = reorderTo
		}
		s = Summary{DevType: h.DevType, Tracks: (to - from + 1) * h.Heads, FirstCyl: from, LastCyl: to, TargetFirst: target, TargetLast: target + to - from}
		return checkTarget(tc, dst, from, to, target, reorderTo >= 0)
	}

	// Pass 1: nothing is written until the whole dump checks out.
	_, n, err := scan(c, dump, true, plan, nil)
	if err != nil {
		return Summary{}, err
	}
	s.Bytes = n

	// Pass 2 checks every track's SHA-256 again while writing, so a dump
	// changed between passes stops at the first changed track.
	// The tracks go to the volume in runs of consecutive tracks (see
	// ckd.Run); what a run holds is written before any error is returned.
	run := dst.Volume.NewRun(s.Tracks)
	failWrite := func(cyl, head int, err error) error {
		if re, ok := errors.AsType[*ckd.RunError](err); ok {
			cyl, head = re.Cyl, re.Head
		}
		return tc.failIO(-1, &Pos{cyl, head}, err, "writing the track")
	}
	write := func(h Header, pos Pos, img []byte, used int) error {
		rel := pos.Cyl - h.FirstAbsCyl + h.FirstCyl
		if rel < from || rel > to {
			return nil
		}
		cyl := dst.Start + target + rel - from
		ckd.RelocateTrackImage(img, used, cyl, pos.Head)
		if err := run.Add(cyl, pos.Head, img); err != nil {
			return failWrite(cyl, pos.Head, err)
		}
		return nil
	}
	_, _, err = scan(c, dump, false, nil, write)
	if ferr := run.Flush(); err == nil && ferr != nil {
		err = failWrite(0, 0, ferr)
	}
	if err != nil {
		written := run.Written()
		if written == 0 {
			return Summary{}, err
		}
		return Summary{}, tc.fail(-1, nil, err, "stopped after %d tracks, the target is partly written (%v); restore again from a good dump", written, err)
	}
	return s, nil
}
