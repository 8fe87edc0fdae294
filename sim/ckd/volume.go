package ckd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/afero"
	"github.com/spf13/afero/mem"
)

var (
	hercMagic  = []byte("CKD_P370")
	cckdMagic  = []byte("CKD_C370")
	volSerial  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@#$"
	ownerField = "CSMSIM"
)

// Error names the image, what was being done and why it failed.
type Error struct {
	Path   string
	Op     string
	Offset int64 // byte offset in the image, -1 if not about a place
	Reason string
}

func (e *Error) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("%s: %s: offset %d: %s", e.Path, e.Op, e.Offset, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.Path, e.Op, e.Reason)
}

// ErrOutOfRange is wrapped by every bounds error, for errors.Is.
var ErrOutOfRange = errors.New("out of range")

// Volume is an open CKD image. Methods are safe for concurrent use.
type Volume struct {
	path string
	// io serializes ReadAt/WriteAt: afero's in-memory files implement them
	// with a shared file offset.
	io   sync.Mutex
	f    afero.File
	geo  *Geometry
	cyls int
}

// Create makes a new image of cyls cylinders: every track gets its home
// address, R0 and end-of-track marker, and cylinder 0 track 0 the IPL
// records and a VOL1 label, as Hercules' dasdinit writes them. It refuses
// to overwrite an existing file.
func Create(fs afero.Fs, path, devType string, cyls int, volser string) (*Volume, error) {
	g, modelCyls, err := ParseDevType(devType)
	if err != nil {
		return nil, &Error{Path: path, Op: "create", Offset: -1, Reason: err.Error()}
	}
	if cyls == 0 {
		cyls = modelCyls
	}
	if cyls < 1 || cyls > maxCylinder+1 {
		return nil, &Error{Path: path, Op: "create", Offset: -1, Reason: fmt.Sprintf("cylinder count %d: give 1 to %d (or a model, e.g. 3390-3)", cyls, maxCylinder+1)}
	}
	vs, err := CheckVolser(volser)
	if err != nil {
		return nil, &Error{Path: path, Op: "create", Offset: -1, Reason: err.Error()}
	}
	f, err := fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, &Error{Path: path, Op: "create", Offset: -1, Reason: err.Error()}
	}
	v := &Volume{path: path, f: f, geo: g, cyls: cyls}
	sp, sparse := fs.(SparseFs)
	if err := v.format(vs, sparse && sp.SparseFiles()); err != nil {
		f.Close()
		_ = fs.Remove(path)
		return nil, err
	}
	return v, nil
}

func (v *Volume) format(volser string, sparse bool) error {
	hdr := make([]byte, HeaderSize)
	copy(hdr, hercMagic)
	binary.LittleEndian.PutUint32(hdr[8:], uint32(v.geo.Heads))
	binary.LittleEndian.PutUint32(hdr[12:], uint32(v.geo.ImageTrackSize()))
	hdr[16] = v.geo.Code
	if _, err := v.f.WriteAt(hdr, 0); err != nil {
		return v.err("create", 0, err.Error())
	}
	if sparse {
		// the label track, and holes that read as empty tracks
		if err := v.f.Truncate(HeaderSize + int64(v.cyls)*v.geo.CylinderBytes()); err != nil {
			return v.err("create", -1, err.Error())
		}
		return v.WriteTrack(labelTrack(volser))
	}
	if _, inMemory := v.f.(*mem.File); inMemory {
		return v.formatInOrder(volser)
	}
	// Sizing the file first keeps large volumes sparse on a real file system.
	if err := v.f.Truncate(HeaderSize + int64(v.cyls)*v.geo.CylinderBytes()); err != nil {
		return v.err("create", -1, err.Error())
	}
	empty := make([]byte, haSize+countSize+r0DataSize+eotSize)
	for c := 0; c < v.cyls; c++ {
		for h := 0; h < v.geo.Heads; h++ {
			if c == 0 && h == 0 {
				if err := v.WriteTrack(labelTrack(volser)); err != nil {
					return err
				}
				continue
			}
			emptyTrack(empty, c, h)
			if _, err := v.writeAt(empty, v.trackOffset(c, h)); err != nil {
				return v.err("create", v.trackOffset(c, h), err.Error())
			}
		}
	}
	return nil
}

// SparseFs is an optional capability of an afero.Fs whose files keep
// holes - bytes never written, or added by growing a file - without
// storing them, and read them as zeros (sim/memfs). A volume created on
// one holds only the tracks written: the image is sized, cylinder 0
// track 0 (the label) is written, and every other track is a hole until
// written, which reads as an empty track (see ReadTrackImage).
type SparseFs interface {
	SparseFiles() bool
}

// formatChunk bounds the bytes formatInOrder formats per write.
const formatChunk = 64 << 20

// formatInOrder formats an in-memory image in order, all of it in one
// write unless it is larger than formatChunk. Memory has no sparse files
// to keep, and afero's MemMapFs moves the rest of a file on every write
// in its middle and copies the whole file each time it grows: track by
// track into a sized image costs the square of the volume's size, and
// every pass over the image costs (seconds for one 3390 under the race
// detector).
func (v *Volume) formatInOrder(volser string) error {
	ts := v.geo.ImageTrackSize()
	per := max(1, int(formatChunk/v.geo.CylinderBytes()))
	for first := 0; first < v.cyls; first += per {
		n := min(per, v.cyls-first)
		buf := make([]byte, int64(n)*v.geo.CylinderBytes())
		for c := first; c < first+n; c++ {
			for h := 0; h < v.geo.Heads; h++ {
				track := buf[((c-first)*v.geo.Heads+h)*ts:][:ts]
				if c == 0 && h == 0 {
					if err := labelTrack(volser).Encode(v.geo, track); err != nil {
						return fmt.Errorf("%s: %w", v.path, err)
					}
					continue
				}
				emptyTrack(track, c, h)
			}
		}
		if _, err := v.writeAt(buf, v.trackOffset(first, 0)); err != nil {
			return v.err("create", v.trackOffset(first, 0), err.Error())
		}
	}
	return nil
}

// emptyTrack writes the start of an empty track cyl, head into dst: home
// address, R0 and the end-of-track marker.
func emptyTrack(dst []byte, c, h int) {
	dst[0] = 0
	binary.BigEndian.PutUint16(dst[1:], uint16(c))
	binary.BigEndian.PutUint16(dst[3:], uint16(h))
	putCount(dst[haSize:], Count{Cyl: uint16(c), Head: uint16(h)}, 0, r0DataSize)
	clear(dst[haSize+countSize : haSize+countSize+r0DataSize])
	copy(dst[haSize+countSize+r0DataSize:], endOfTrack[:])
}

// labelTrack is cylinder 0 track 0: IPL1, IPL2 and the VOL1 label.
func labelTrack(volser string) *Track {
	vol1 := make([]byte, 80)
	for i := range vol1 {
		vol1[i] = ebcdicSpace
	}
	copy(vol1, toEBCDIC("VOL1"))
	copy(vol1[4:], toEBCDIC(fmt.Sprintf("%-6s", volser)))
	copy(vol1[11:], []byte{0, 0, 0, 1, 1}) // VTOC at CCHHR 0000 0001 01
	copy(vol1[41:], toEBCDIC(fmt.Sprintf("%-10s", ownerField)))
	return &Track{Records: []Record{
		{Count: Count{Rec: 1}, Key: toEBCDIC("IPL1"), Data: make([]byte, 24)},
		{Count: Count{Rec: 2}, Key: toEBCDIC("IPL2"), Data: make([]byte, 144)},
		{Count: Count{Rec: 3}, Key: toEBCDIC("VOL1"), Data: vol1},
	}}
}

// CheckVolser validates a volume serial and folds it to upper case.
func CheckVolser(s string) (string, error) {
	s = strings.ToUpper(s)
	if len(s) < 1 || len(s) > 6 {
		return "", fmt.Errorf("volume serial %q must be 1 to 6 characters", s)
	}
	for _, r := range s {
		if !strings.ContainsRune(volSerial, r) {
			return "", fmt.Errorf("volume serial %q: character %q not allowed (use A-Z 0-9 @ # $)", s, r)
		}
	}
	return s, nil
}

// Open opens an existing single-file CKD image read-write.
func Open(fs afero.Fs, path string) (*Volume, error) { return open(fs, path, os.O_RDWR) }

// OpenReadOnly opens an image for reading only (DDR DUMP's input).
func OpenReadOnly(fs afero.Fs, path string) (*Volume, error) { return open(fs, path, os.O_RDONLY) }

func open(fs afero.Fs, path string, flag int) (*Volume, error) {
	f, err := fs.OpenFile(path, flag, 0)
	if err != nil {
		return nil, &Error{Path: path, Op: "open", Offset: -1, Reason: err.Error()}
	}
	v, err := readHeader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return v, nil
}

func readHeader(f afero.File, path string) (*Volume, error) {
	bad := func(off int64, format string, a ...any) error {
		return &Error{Path: path, Op: "open", Offset: off, Reason: fmt.Sprintf(format, a...)}
	}
	hdr := make([]byte, HeaderSize)
	if n, err := f.ReadAt(hdr, 0); n < HeaderSize {
		if err == nil || err == io.EOF {
			return nil, bad(int64(n), "image header truncated: %d of %d bytes; not a CKD image", n, HeaderSize)
		}
		return nil, bad(0, "%v", err)
	}
	switch {
	case bytes.Equal(hdr[:8], cckdMagic):
		return nil, bad(0, "compressed CKD (CCKD) image; convert it with cckd2ckd first")
	case !bytes.Equal(hdr[:8], hercMagic):
		return nil, bad(0, "header id %q is not CKD_P370; not a Hercules CKD image", printable(hdr[:8]))
	}
	g := geometryByCode(hdr[16])
	if g == nil {
		return nil, bad(16, "unknown device type byte %#02x; supported are %s", hdr[16], strings.Join(DevTypes(), ", "))
	}
	if heads := binary.LittleEndian.Uint32(hdr[8:]); int(heads) != g.Heads {
		return nil, bad(8, "%d heads per cylinder, a %s has %d; the header is corrupt", heads, g.Type, g.Heads)
	}
	if ts := binary.LittleEndian.Uint32(hdr[12:]); int(ts) != g.ImageTrackSize() {
		return nil, bad(12, "track size %d, a %s image has %d; the header is corrupt", ts, g.Type, g.ImageTrackSize())
	}
	if hdr[17] != 0 || binary.LittleEndian.Uint16(hdr[18:]) != 0 {
		return nil, bad(17, "part of a multi-file volume (sequence %d); join it into one file with dasdcopy", hdr[17])
	}
	st, err := f.Stat()
	if err != nil {
		return nil, bad(-1, "%v", err)
	}
	body := st.Size() - HeaderSize
	if body <= 0 || body%g.CylinderBytes() != 0 {
		return nil, bad(st.Size(), "image size %d is not a whole number of %s cylinders (%d bytes each); the image is truncated", st.Size(), g.Type, g.CylinderBytes())
	}
	return &Volume{path: path, f: f, geo: g, cyls: int(body / g.CylinderBytes())}, nil
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

func (v *Volume) readAt(b []byte, off int64) (int, error) {
	v.io.Lock()
	defer v.io.Unlock()
	return v.f.ReadAt(b, off)
}

func (v *Volume) writeAt(b []byte, off int64) (int, error) {
	v.io.Lock()
	defer v.io.Unlock()
	return v.f.WriteAt(b, off)
}

// Close releases the image file.
func (v *Volume) Close() error { return v.f.Close() }

// Sync flushes the image to stable storage.
func (v *Volume) Sync() error { return v.f.Sync() }

// Path is the image file name.
func (v *Volume) Path() string { return v.path }

// Geometry is the volume's device geometry.
func (v *Volume) Geometry() *Geometry { return v.geo }

// Cylinders is the number of cylinders in the image.
func (v *Volume) Cylinders() int { return v.cyls }

// Volser reads the volume serial from the VOL1 label, "" if there is none.
func (v *Volume) Volser() string {
	t, err := v.ReadTrack(0, 0)
	if err != nil {
		return ""
	}
	for _, r := range t.Records {
		if bytes.Equal(r.Key, toEBCDIC("VOL1")) && len(r.Data) >= 10 {
			return strings.TrimSpace(fromEBCDIC(r.Data[4:10]))
		}
	}
	return ""
}

func (v *Volume) trackOffset(cyl, head int) int64 {
	return HeaderSize + (int64(cyl)*int64(v.geo.Heads)+int64(head))*int64(v.geo.ImageTrackSize())
}

func (v *Volume) err(op string, off int64, reason string) error {
	return &Error{Path: v.path, Op: op, Offset: off, Reason: reason}
}

// CheckTrack reports whether cyl/head exists on this volume.
func (v *Volume) CheckTrack(cyl, head int) error {
	if cyl < 0 || cyl >= v.cyls || head < 0 || head >= v.geo.Heads {
		return fmt.Errorf("%s: cyl %d head %d is outside the volume (cylinders 0-%d, heads 0-%d): %w",
			v.path, cyl, head, v.cyls-1, v.geo.Heads-1, ErrOutOfRange)
	}
	return nil
}

// ReadTrackImage reads the raw image of one track into buf.
func (v *Volume) ReadTrackImage(cyl, head int, buf []byte) error {
	if err := v.CheckTrack(cyl, head); err != nil {
		return err
	}
	if len(buf) != v.geo.ImageTrackSize() {
		return fmt.Errorf("track buffer is %d bytes, want %d", len(buf), v.geo.ImageTrackSize())
	}
	if _, err := v.readAt(buf, v.trackOffset(cyl, head)); err != nil {
		return v.err("read", v.trackOffset(cyl, head), err.Error())
	}
	if (cyl != 0 || head != 0) && unwritten(buf) {
		emptyTrack(buf, cyl, head)
	}
	return nil
}

// unwritten says a track image is a hole of a sparse image (SparseFs):
// zeros where its home address and R0 belong, which no formatted track
// other than cylinder 0 track 0 has. It reads as the empty track.
func unwritten(buf []byte) bool {
	for _, b := range buf[:haSize+countSize+r0DataSize+eotSize] {
		if b != 0 {
			return false
		}
	}
	return true
}

// WriteTrackImage writes a raw track image. It must already be a valid
// track for this position (home address and R0); callers such as DDR
// verify before they write, so this only guards against misplacement.
func (v *Volume) WriteTrackImage(cyl, head int, buf []byte) error {
	if err := v.checkTrackImage(cyl, head, buf); err != nil {
		return err
	}
	if _, err := v.writeAt(buf, v.trackOffset(cyl, head)); err != nil {
		return v.err("write", v.trackOffset(cyl, head), err.Error())
	}
	return nil
}

// checkTrackImage is WriteTrackImage's check of a track image before it
// is written at cyl/head.
func (v *Volume) checkTrackImage(cyl, head int, buf []byte) error {
	if err := v.CheckTrack(cyl, head); err != nil {
		return err
	}
	if len(buf) != v.geo.ImageTrackSize() {
		return fmt.Errorf("track buffer is %d bytes, want %d", len(buf), v.geo.ImageTrackSize())
	}
	if _, err := v.geo.CheckTrackImage(buf, cyl, head); err != nil {
		return fmt.Errorf("%s: refusing to write: %w", v.path, err)
	}
	return nil
}

// ReadTrack reads and parses one track.
func (v *Volume) ReadTrack(cyl, head int) (*Track, error) {
	buf := make([]byte, v.geo.ImageTrackSize())
	if err := v.ReadTrackImage(cyl, head, buf); err != nil {
		return nil, err
	}
	t, err := ParseTrack(buf, cyl, head)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.path, err)
	}
	return t, nil
}

// WriteTrack formats the track at t.Cyl/t.Head with t's records.
func (v *Volume) WriteTrack(t *Track) error {
	if err := v.CheckTrack(int(t.Cyl), int(t.Head)); err != nil {
		return err
	}
	buf := make([]byte, v.geo.ImageTrackSize())
	if err := t.Encode(v.geo, buf); err != nil {
		return fmt.Errorf("%s: %w", v.path, err)
	}
	if _, err := v.writeAt(buf, v.trackOffset(int(t.Cyl), int(t.Head))); err != nil {
		return v.err("write", v.trackOffset(int(t.Cyl), int(t.Head)), err.Error())
	}
	return nil
}

// OpenExtent opens an image and returns cylinders start..start+count-1 of
// it as an extent; count < 0 means to the end of the volume.
func OpenExtent(fs afero.Fs, path string, start, count int, readOnly bool) (*Volume, Extent, error) {
	open := Open
	if readOnly {
		open = OpenReadOnly
	}
	v, err := open(fs, path)
	if err != nil {
		return nil, Extent{}, err
	}
	if count < 0 {
		count = v.cyls - start
	}
	e, err := v.Extent(start, count)
	if err != nil {
		v.Close()
		return nil, Extent{}, err
	}
	return v, e, nil
}

// Extent is a range of whole cylinders on a volume, such as a minidisk.
type Extent struct {
	Volume *Volume
	Start  int // first cylinder on the volume
	Count  int // number of cylinders
}

// Extent checks that cylinders start..start+count-1 lie on the volume.
func (v *Volume) Extent(start, count int) (Extent, error) {
	if count < 1 || start < 0 || start+count > v.cyls {
		return Extent{}, fmt.Errorf("%s: extent of %d cylinders at cylinder %d does not fit the volume's %d cylinders (0-%d): %w",
			v.path, count, start, v.cyls, v.cyls-1, ErrOutOfRange)
	}
	return Extent{Volume: v, Start: start, Count: count}, nil
}

// End is the last cylinder of the extent.
func (e Extent) End() int { return e.Start + e.Count - 1 }

// Blocks is the CMS 4K block capacity of the extent.
func (e Extent) Blocks() int { return e.Count * e.Volume.geo.BlocksPerCylinder() }
