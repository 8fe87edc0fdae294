package ddr

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/csmsim/csmsim/sim/ckd"
)

// Summary reports what one operation did.
type Summary struct {
	DevType           string
	Tracks            int
	FirstCyl, LastCyl int // source cylinders, relative to the source extent
	// Target cylinders, relative to the target extent; for Dump, where a
	// RESTORE without REORDER will put them.
	TargetFirst, TargetLast int
	Bytes                   int64 // dump bytes written (Dump) or verified (Restore); 0 for Copy
}

func (s Summary) String() string {
	out := fmt.Sprintf("%s cylinders %d-%d to %d-%d, %d tracks", s.DevType, s.FirstCyl, s.LastCyl, s.TargetFirst, s.TargetLast, s.Tracks)
	if s.Bytes > 0 {
		out += fmt.Sprintf(", %d dump bytes", s.Bytes)
	}
	return out
}

// Dump writes cylinders from..to (relative to src) to w as a dump file.
func Dump(src ckd.Extent, from, to int, w io.Writer) (Summary, error) {
	return DumpReorder(src, from, to, -1, w)
}

// DumpReorder is DUMP cyl1 TO cyl2 REORDER TO cyl3: the dump records
// reorderTo (if >= 0) as the cylinder a plain RESTORE puts from on.
// On error w holds a partial dump, which Verify and Restore refuse.
func DumpReorder(src ckd.Extent, from, to, reorderTo int, w io.Writer) (Summary, error) {
	c := ctx{op: "dump", object: "?"}
	if src.Volume != nil {
		c.object = src.Volume.Path()
	}
	if err := checkExtent(c, src); err != nil {
		return Summary{}, err
	}
	if err := checkRange(c, src, from, to); err != nil {
		return Summary{}, err
	}
	restoreCyl := from
	if reorderTo >= 0 {
		restoreCyl = reorderTo
	}
	if restoreCyl+to-from > maxCyl {
		return Summary{}, c.fail(-1, nil, ErrRange, "REORDER TO %d leaves no room for %d cylinders (the highest is %d); choose a lower cylinder", reorderTo, to-from+1, maxCyl)
	}
	g := src.Volume.Geometry()
	volser := src.Volume.Volser()
	if !validVolser(volser) {
		volser = "" // a foreign label we could not store; the dump just has none
	}
	h := Header{
		Version: Version, DevType: g.Type, DevCode: g.Code, Heads: g.Heads,
		TrackBytes: g.TrackBytes, ImageTrackSize: g.ImageTrackSize(), Volser: volser,
		FirstCyl: from, LastCyl: to, FirstAbsCyl: src.Start + from, LastAbsCyl: src.Start + to,
		RestoreCyl: restoreCyl, Tracks: (to - from + 1) * g.Heads,
	}

	// Buffered, because records are written in small pieces; the file
	// hash sees exactly the bytes written.
	bw := bufio.NewWriterSize(w, 1<<16)
	fileSum := sha256.New()
	out := io.MultiWriter(bw, fileSum)
	var written int64
	put := func(b []byte) error {
		n, err := out.Write(b)
		written += int64(n)
		if err != nil {
			return c.failIO(written, nil, err, "writing the dump; check space and permissions")
		}
		return nil
	}
	if err := put(h.marshal()); err != nil {
		return Summary{}, err
	}

	buf := make([]byte, g.ImageTrackSize())
	var th [TrackHeaderSize]byte
	trackSum := sha256.New()
	for cyl := h.FirstAbsCyl; cyl <= h.LastAbsCyl; cyl++ {
		for head := range g.Heads {
			pos := &Pos{cyl, head}
			if err := src.Volume.ReadTrackImage(cyl, head, buf); err != nil {
				return Summary{}, c.failIO(-1, pos, err, "reading the source volume")
			}
			n, err := g.CheckTrackImage(buf, cyl, head)
			if err != nil {
				return Summary{}, c.fail(-1, pos, ErrBadFormat, "the source track is damaged (%v); repair or reformat the volume, or dump around it", err)
			}
			be.PutUint16(th[0:], uint16(cyl))
			be.PutUint16(th[2:], uint16(head))
			be.PutUint32(th[4:], uint32(n))
			trackSum.Reset()
			trackSum.Write(th[:])
			trackSum.Write(buf[:n])
			for _, b := range [][]byte{th[:], buf[:n], trackSum.Sum(nil)} {
				if err := put(b); err != nil {
					return Summary{}, err
				}
			}
		}
	}

	tr := make([]byte, TrailerSize)
	copy(tr, TrailerMagic)
	be.PutUint32(tr[8:], uint32(h.Tracks))
	if err := put(tr[:trailerFields]); err != nil {
		return Summary{}, err
	}
	// The final hash is of everything before it, so it goes past fileSum.
	n, err := bw.Write(fileSum.Sum(nil))
	written += int64(n)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return Summary{}, c.failIO(written, nil, err, "writing the dump; check space and permissions")
	}
	return Summary{
		DevType: g.Type, Tracks: h.Tracks, FirstCyl: from, LastCyl: to,
		TargetFirst: restoreCyl, TargetLast: restoreCyl + to - from, Bytes: written,
	}, nil
}
