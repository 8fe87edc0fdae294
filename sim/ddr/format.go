package ddr

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/csmsim/csmsim/sim/ckd"
)

// Dump file layout; docs/ddr-dump-format.md is the specification.
const (
	Magic        = "CSMDDUMP" // first 8 bytes of every dump
	TrailerMagic = "CSMDDEND" // first 8 bytes of the trailer
	Version      = 1

	HeaderSize      = 96 // 64 bytes of fields, then their SHA-256
	headerFields    = 64
	TrackHeaderSize = 8 // cyl, head, image length
	TrackSumSize    = sha256.Size
	TrailerSize     = 48 // magic, track count, reserved, SHA-256
	trailerFields   = 16

	maxCyl = 0xFFFF // CCHH cylinders are 16 bits

	// Fixed parts of a track image (Hercules CKD format): home address
	// (flag, CC, HH), R0 count field, R0 data, end-of-track marker.
)

var be = binary.BigEndian

// Header describes a dump: device, source range and track count.
type Header struct {
	Version        int
	DevType        string // "3390" or "3380"
	DevCode        byte   // Hercules device type byte (0x90, 0x80)
	Heads          int
	TrackBytes     int
	ImageTrackSize int
	Volser         string // the source volume's VOL1 serial, "" if none

	FirstCyl, LastCyl       int // source range, relative to the source extent
	FirstAbsCyl, LastAbsCyl int // the same range on the source volume
	RestoreCyl              int // where RESTORE without REORDER puts FirstCyl
	Tracks                  int
}

func (h *Header) marshal() []byte {
	b := make([]byte, HeaderSize)
	copy(b, Magic)
	be.PutUint16(b[8:], uint16(h.Version))
	b[10] = h.DevCode
	copy(b[12:20], fmt.Sprintf("%-8s", h.DevType))
	be.PutUint16(b[20:], uint16(h.Heads))
	be.PutUint32(b[24:], uint32(h.TrackBytes))
	be.PutUint32(b[28:], uint32(h.ImageTrackSize))
	copy(b[32:38], fmt.Sprintf("%-6s", h.Volser))
	be.PutUint16(b[40:], uint16(h.FirstCyl))
	be.PutUint16(b[42:], uint16(h.LastCyl))
	be.PutUint16(b[44:], uint16(h.FirstAbsCyl))
	be.PutUint16(b[46:], uint16(h.LastAbsCyl))
	be.PutUint16(b[48:], uint16(h.RestoreCyl))
	be.PutUint32(b[52:], uint32(h.Tracks))
	sum := sha256.Sum256(b[:headerFields])
	copy(b[headerFields:], sum[:])
	return b
}

// unmarshalHeader checks everything a header alone can show; b is
// HeaderSize bytes read at offset 0.
func unmarshalHeader(c ctx, b []byte) (Header, error) {
	bad := func(off int64, format string, a ...any) (Header, error) {
		return Header{}, c.fail(off, nil, ErrBadFormat, format, a...)
	}
	if sum := sha256.Sum256(b[:headerFields]); !bytes.Equal(sum[:], b[headerFields:HeaderSize]) {
		return Header{}, c.fail(0, nil, ErrChecksum, "header SHA-256 mismatch; the dump is damaged, make it again")
	}
	h := Header{
		Version:        int(be.Uint16(b[8:])),
		DevCode:        b[10],
		DevType:        strings.TrimRight(string(b[12:20]), " "),
		Heads:          int(be.Uint16(b[20:])),
		TrackBytes:     int(be.Uint32(b[24:])),
		ImageTrackSize: int(be.Uint32(b[28:])),
		Volser:         strings.TrimRight(string(b[32:38]), " "),
		FirstCyl:       int(be.Uint16(b[40:])),
		LastCyl:        int(be.Uint16(b[42:])),
		FirstAbsCyl:    int(be.Uint16(b[44:])),
		LastAbsCyl:     int(be.Uint16(b[46:])),
		RestoreCyl:     int(be.Uint16(b[48:])),
		Tracks:         int(be.Uint32(b[52:])),
	}
	if h.Version != Version {
		return bad(8, "format version %d; this csmsim reads version %d: use the csmsim that made the dump", h.Version, Version)
	}
	for _, r := range []struct{ off, end int }{{11, 12}, {22, 24}, {38, 40}, {50, 52}, {56, 64}} {
		if !allZero(b[r.off:r.end]) {
			return bad(int64(r.off), "reserved bytes %d-%d are not zero; the dump is damaged or of a newer format", r.off, r.end-1)
		}
	}
	g, _, err := ckd.ParseDevType(h.DevType)
	if err != nil || g.Type != h.DevType || g.Code != h.DevCode {
		return bad(10, "device type %q (code %#02x) is not one csmsim knows (%s)", h.DevType, h.DevCode, strings.Join(ckd.DevTypes(), ", "))
	}
	if h.Heads != g.Heads || h.TrackBytes != g.TrackBytes || h.ImageTrackSize != g.ImageTrackSize() {
		return bad(20, "geometry %d heads, %d track bytes, %d image bytes per track is not a %s's (%d, %d, %d)",
			h.Heads, h.TrackBytes, h.ImageTrackSize, g.Type, g.Heads, g.TrackBytes, g.ImageTrackSize())
	}
	if h.Volser != "" && !validVolser(h.Volser) {
		return bad(32, "volume serial %q is not 1-6 characters of A-Z 0-9 @ # $", h.Volser)
	}
	n := h.LastCyl - h.FirstCyl
	switch {
	case n < 0:
		return bad(40, "first cylinder %d is after last cylinder %d", h.FirstCyl, h.LastCyl)
	case h.LastAbsCyl-h.FirstAbsCyl != n || h.FirstAbsCyl < h.FirstCyl:
		return bad(44, "absolute cylinders %d-%d do not match relative cylinders %d-%d", h.FirstAbsCyl, h.LastAbsCyl, h.FirstCyl, h.LastCyl)
	case h.RestoreCyl+n > maxCyl:
		return bad(48, "restore cylinder %d leaves no room for %d cylinders", h.RestoreCyl, n+1)
	case h.Tracks != (n+1)*h.Heads:
		return bad(52, "track count %d, but cylinders %d-%d of %d heads are %d tracks", h.Tracks, h.FirstCyl, h.LastCyl, h.Heads, (n+1)*h.Heads)
	}
	return h, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// validVolser accepts only a serial already in canonical (upper) case.
func validVolser(s string) bool {
	v, err := ckd.CheckVolser(s)
	return err == nil && v == s
}

// checkExtent refuses an extent that does not lie on its volume (a
// hand-built ckd.Extent can; Volume.Extent cannot make one).
func checkExtent(c ctx, e ckd.Extent) error {
	if e.Volume == nil {
		return c.fail(-1, nil, ErrBadExtent, "the extent has no volume")
	}
	if e.Start < 0 || e.Count < 1 || e.Start+e.Count > e.Volume.Cylinders() {
		return c.fail(-1, nil, ErrBadExtent, "extent of %d cylinders at cylinder %d does not fit the volume's cylinders 0-%d; fix the minidisk definition",
			e.Count, e.Start, e.Volume.Cylinders()-1)
	}
	return nil
}

// checkRange refuses a source range that is not inside the extent.
func checkRange(c ctx, e ckd.Extent, from, to int) error {
	switch {
	case from > to:
		return c.fail(-1, nil, ErrRange, "first cylinder %d is after last cylinder %d; give them in order", from, to)
	case from < 0 || to >= e.Count:
		return c.fail(-1, nil, ErrRange, "cylinders %d-%d are not all inside the extent (cylinders 0-%d); give cylinders inside it", from, to, e.Count-1)
	}
	return nil
}

// checkTarget refuses a target range that does not fit the extent.
func checkTarget(c ctx, dst ckd.Extent, from, to, target int, reorder bool) error {
	last := target + to - from
	if target >= 0 && last < dst.Count {
		return nil
	}
	if reorder {
		return c.fail(-1, nil, ErrTargetTooSmall, "cylinders %d-%d REORDER TO %d: the extent has cylinders 0-%d; choose a lower REORDER cylinder or a larger minidisk",
			from, to, target, dst.Count-1)
	}
	return c.fail(-1, nil, ErrTargetTooSmall, "cylinders %d-%d would go to %d-%d, the extent has cylinders 0-%d; use a larger minidisk or REORDER TO a lower cylinder",
		from, to, target, last, dst.Count-1)
}
