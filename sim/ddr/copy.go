package ddr

import (
	"fmt"
	"path/filepath"

	"github.com/csmsim/csmsim/sim/ckd"
)

// Copy copies cylinders from..to of src onto dst: to the same relative
// cylinders if reorderTo < 0, else starting at reorderTo. src and dst may
// be the same volume with overlapping ranges (copied like memmove). Every
// check, including a parse of every source track, runs before the first
// write; any failure before then leaves dst unchanged.
func Copy(src ckd.Extent, from, to int, dst ckd.Extent, reorderTo int) (Summary, error) {
	c := ctx{op: "copy", object: "?"}
	tc := ctx{op: "copy onto", object: "?"}
	if src.Volume != nil {
		c.object = src.Volume.Path()
	}
	if dst.Volume != nil {
		tc.object = dst.Volume.Path()
	}
	if err := checkExtent(c, src); err != nil {
		return Summary{}, err
	}
	if err := checkExtent(tc, dst); err != nil {
		return Summary{}, err
	}
	if err := checkRange(c, src, from, to); err != nil {
		return Summary{}, err
	}
	g := src.Volume.Geometry()
	if dg := dst.Volume.Geometry(); dg.Type != g.Type {
		return Summary{}, tc.fail(-1, nil, ErrDeviceMismatch, "the volume is a %s and the source is a %s; copy onto a %s volume", dg.Type, g.Type, g.Type)
	}
	target := from
	if reorderTo >= 0 {
		target = reorderTo
	}
	if err := checkTarget(tc, dst, from, to, target, reorderTo >= 0); err != nil {
		return Summary{}, err
	}

	buf := make([]byte, g.ImageTrackSize())
	// read gives the source track at relative cylinder rel, checked, and
	// its used length.
	read := func(rel, head int) (int, error) {
		pos := &Pos{src.Start + rel, head}
		if err := src.Volume.ReadTrackImage(pos.Cyl, head, buf); err != nil {
			return 0, c.failIO(-1, pos, err, "reading the source volume")
		}
		used, err := g.CheckTrackImage(buf, pos.Cyl, head)
		if err != nil {
			return 0, c.fail(-1, pos, ErrBadFormat, "the source track is damaged (%v); repair or reformat the volume, or copy around it", err)
		}
		return used, nil
	}
	for rel := from; rel <= to; rel++ {
		for head := range g.Heads {
			if _, err := read(rel, head); err != nil {
				return Summary{}, err
			}
		}
	}

	// On one volume, a target above the source is copied from the top
	// down so no source track is overwritten before it is read.
	n := to - from + 1
	down := sameVolume(src.Volume, dst.Volume) && dst.Start+target > src.Start+from
	written := 0
	for i := range n {
		k := i
		if down {
			k = n - 1 - i
		}
		for head := range g.Heads {
			used, err := read(from+k, head)
			if err != nil {
				return Summary{}, err
			}
			cyl := dst.Start + target + k
			ckd.RelocateTrackImage(buf, used, cyl, head)
			if err := dst.Volume.WriteTrackImage(cyl, head, buf); err != nil {
				return Summary{}, tc.failIO(-1, &Pos{cyl, head}, err, fmt.Sprintf("writing the track (%d tracks written before it)", written))
			}
			written++
		}
	}
	return Summary{DevType: g.Type, Tracks: n * g.Heads, FirstCyl: from, LastCyl: to, TargetFirst: target, TargetLast: target + n - 1}, nil
}

// sameVolume also catches one image opened twice.
func sameVolume(a, b *ckd.Volume) bool {
	return a == b || filepath.Clean(a.Path()) == filepath.Clean(b.Path())
}
