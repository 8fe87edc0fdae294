package ckd

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Count is a record's count field: CCHHR, key length and data length.
// DDR REORDER keeps the source CCHH here while the track itself moves.
type Count struct {
	Cyl, Head uint16
	Rec       uint8
}

// Record is one count-key-data record.
type Record struct {
	Count
	Key  []byte
	Data []byte
}

// Track is a parsed track image. Cyl and Head come from the home address,
// which must always be the track's real position on the volume.
type Track struct {
	Cyl, Head uint16
	Records   []Record // user records R1..Rn; R0 is implied (8 zero bytes)
}

// TrackError reports a malformed track image and where.
type TrackError struct {
	Cyl, Head int
	Offset    int // byte offset within the track image
	Reason    string
}

func (e *TrackError) Error() string {
	return fmt.Sprintf("track cyl %d head %d: offset %d: %s", e.Cyl, e.Head, e.Offset, e.Reason)
}

// ParseTrack decodes a track image that should sit at cyl/head. It checks
// the home address and R0 against that position, as Hercules' cckdcdsk does.
func ParseTrack(buf []byte, cyl, head int) (*Track, error) {
	t := &Track{Cyl: uint16(cyl), Head: uint16(head)}
	_, err := walkTrack(buf, cyl, head, func(c Count, key, data []byte) {
		t.Records = append(t.Records, Record{Count: c, Key: append([]byte(nil), key...), Data: append([]byte(nil), data...)})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// CheckTrackImage validates a raw track image for position cyl/head without
// copying it: home address and R0 of that position, well-formed records,
// an end-of-track marker, and records that fit on a track of g. It returns
// the image length up to and including the end-of-track marker.
func (g *Geometry) CheckTrackImage(buf []byte, cyl, head int) (used int, err error) {
	cells, n := 0, 0
	used, err = walkTrack(buf, cyl, head, func(_ Count, key, data []byte) {
		n++
		cells += g.RecordCells(len(key), len(data))
	})
	if err == nil && cells > g.TrackCells() {
		err = &TrackError{Cyl: cyl, Head: head, Reason: fmt.Sprintf("%d records do not fit on one %s track (%d of %d capacity units)", n, g.Type, cells, g.TrackCells())}
	}
	return used, err
}

// RelocateTrackImage gives a checked track image the home address and R0
// of another position and zeros what follows its end-of-track marker. User
// records keep their count fields: this is DDR REORDER.
func RelocateTrackImage(buf []byte, used, cyl, head int) {
	binary.BigEndian.PutUint16(buf[1:], uint16(cyl))
	binary.BigEndian.PutUint16(buf[3:], uint16(head))
	binary.BigEndian.PutUint16(buf[haSize:], uint16(cyl))
	binary.BigEndian.PutUint16(buf[haSize+2:], uint16(head))
	clear(buf[used:])
}

// walkTrack checks the image's frame and calls rec for each user record,
// whose key and data alias buf. It returns the used length.
func walkTrack(buf []byte, cyl, head int, rec func(c Count, key, data []byte)) (int, error) {
	bad := func(off int, format string, a ...any) error {
		return &TrackError{Cyl: cyl, Head: head, Offset: off, Reason: fmt.Sprintf(format, a...)}
	}
	if len(buf) < haSize+countSize+r0DataSize+eotSize {
		return 0, bad(0, "track image is %d bytes, too short", len(buf))
	}
	if buf[0] != 0 {
		return 0, bad(0, "home address flag byte is %#x, want 0", buf[0])
	}
	hc, hh := binary.BigEndian.Uint16(buf[1:]), binary.BigEndian.Uint16(buf[3:])
	if int(hc) != cyl || int(hh) != head {
		return 0, bad(1, "home address says cyl %d head %d", hc, hh)
	}
	r0 := buf[haSize:]
	if binary.BigEndian.Uint16(r0) != hc || binary.BigEndian.Uint16(r0[2:]) != hh || r0[4] != 0 {
		return 0, bad(haSize, "record 0 count field does not match the home address")
	}
	if r0[5] != 0 || binary.BigEndian.Uint16(r0[6:]) != r0DataSize {
		return 0, bad(haSize, "record 0 must have no key and %d data bytes", r0DataSize)
	}
	off := haSize + countSize + r0DataSize
	for {
		if off+eotSize > len(buf) {
			return 0, bad(off, "no end-of-track marker")
		}
		if bytes.Equal(buf[off:off+eotSize], endOfTrack[:]) {
			return off + eotSize, nil
		}
		c := buf[off:]
		kl, dl := int(c[5]), int(binary.BigEndian.Uint16(c[6:]))
		end := off + countSize + kl + dl
		if end > len(buf)-eotSize {
			return 0, bad(off, "record %d (key %d, data %d bytes) runs past the track", c[4], kl, dl)
		}
		rec(Count{Cyl: binary.BigEndian.Uint16(c), Head: binary.BigEndian.Uint16(c[2:]), Rec: c[4]},
			buf[off+countSize:off+countSize+kl], buf[off+countSize+kl:end])
		off = end
	}
}

// Encode writes the track image for geometry g into buf (ImageTrackSize
// bytes), zero-filling past the end-of-track marker as Hercules does.
func (t *Track) Encode(g *Geometry, buf []byte) error {
	if len(buf) != g.ImageTrackSize() {
		return fmt.Errorf("track buffer is %d bytes, want %d", len(buf), g.ImageTrackSize())
	}
	if err := t.checkCapacity(g); err != nil {
		return err
	}
	clear(buf)
	binary.BigEndian.PutUint16(buf[1:], t.Cyl)
	binary.BigEndian.PutUint16(buf[3:], t.Head)
	off := haSize
	off += putCount(buf[off:], Count{Cyl: t.Cyl, Head: t.Head}, 0, r0DataSize)
	off += r0DataSize
	for _, r := range t.Records {
		off += putCount(buf[off:], r.Count, len(r.Key), len(r.Data))
		off += copy(buf[off:], r.Key)
		off += copy(buf[off:], r.Data)
	}
	copy(buf[off:], endOfTrack[:])
	return nil
}

func (t *Track) checkCapacity(g *Geometry) error {
	cells := 0
	for i, r := range t.Records {
		if len(r.Key) > 255 {
			return &TrackError{Cyl: int(t.Cyl), Head: int(t.Head), Reason: fmt.Sprintf("record %d key is %d bytes, at most 255", i+1, len(r.Key))}
		}
		if len(r.Data) > g.TrackBytes {
			return &TrackError{Cyl: int(t.Cyl), Head: int(t.Head), Reason: fmt.Sprintf("record %d data is %d bytes, at most %d on a %s", i+1, len(r.Data), g.TrackBytes, g.Type)}
		}
		cells += g.RecordCells(len(r.Key), len(r.Data))
	}
	if cells > g.TrackCells() {
		return &TrackError{Cyl: int(t.Cyl), Head: int(t.Head), Reason: fmt.Sprintf("%d records do not fit on one %s track (%d of %d capacity units)", len(t.Records), g.Type, cells, g.TrackCells())}
	}
	return nil
}

func putCount(b []byte, c Count, kl, dl int) int {
	binary.BigEndian.PutUint16(b, c.Cyl)
	binary.BigEndian.PutUint16(b[2:], c.Head)
	b[4] = c.Rec
	b[5] = byte(kl)
	binary.BigEndian.PutUint16(b[6:], uint16(dl))
	return countSize
}
