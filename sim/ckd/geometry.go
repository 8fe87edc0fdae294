// Package ckd stores count-key-data DASD volumes in the Hercules CKD image
// format, so images csmsim writes open in Hercules' utilities and images
// Hercules' dasdinit makes open here.
package ckd

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Geometry describes one device type as Hercules and CMS see it.
type Geometry struct {
	Type           string // "3390" or "3380"
	Code           byte   // device type byte in the image header
	Heads          int    // tracks per cylinder
	TrackBytes     int    // largest single record (R1) a track holds
	BlocksPerTrack int    // CMS 4K blocks per track
	Models         map[string]int

	// Track capacity formula parameters (IBM device references): a track
	// holds records whose cell counts add up to at most trackCells.
	cellSize   int
	formula    int
	f2, f3, f4 int
	f5, f6     int
}

// geometries are the device types csmsim knows, made afresh on each call:
// a caller may change the Geometry it gets without changing anyone else's.
func geometries() map[string]*Geometry {
	return map[string]*Geometry{
		"3390": {
			Type: "3390", Code: 0x90, Heads: 15, TrackBytes: 56664, BlocksPerTrack: 12,
			Models:   map[string]int{"1": 1113, "2": 2226, "3": 3339, "9": 10017, "27": 32760, "54": 65520},
			cellSize: 34, formula: 2, f2: 19, f3: 9, f4: 6, f5: 116, f6: 6,
		},
		"3380": {
			Type: "3380", Code: 0x80, Heads: 15, TrackBytes: 47476, BlocksPerTrack: 10,
			Models:   map[string]int{"1": 885, "J": 885, "2": 1770, "E": 1770, "3": 2655, "K": 2655},
			cellSize: 32, formula: 1, f2: 492, f3: 236,
		},
	}
}

// Header, home address, count field and end-of-track sizes of the image format.
const (
	HeaderSize  = 512
	haSize      = 5
	countSize   = 8
	r0DataSize  = 8
	eotSize     = 8
	maxCylinder = 0xFFFF
)

// MinTrackImage is the shortest track image: home address, R0 and the
// end-of-track marker.
const MinTrackImage = haSize + countSize + r0DataSize + eotSize

var endOfTrack = [eotSize]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}

// ImageTrackSize is the bytes one track occupies in the image: the largest
// possible track rounded up to 512, as Hercules computes it.
func (g *Geometry) ImageTrackSize() int {
	n := haSize + countSize + r0DataSize + countSize + g.TrackBytes + eotSize
	return (n + 511) &^ 511
}

// CylinderBytes is the image size of one cylinder.
func (g *Geometry) CylinderBytes() int64 { return int64(g.Heads) * int64(g.ImageTrackSize()) }

// BlocksPerCylinder is the CMS 4K block capacity of one cylinder.
func (g *Geometry) BlocksPerCylinder() int { return g.BlocksPerTrack * g.Heads }

// RecordCells is how many capacity units a user record with this key and
// data length takes on a track.
func (g *Geometry) RecordCells(keyLen, dataLen int) int {
	c := g.cellSize
	switch g.formula {
	case 1: // 3380
		n := ceilDiv(dataLen+g.f2, c)
		if keyLen > 0 {
			n += ceilDiv(keyLen+g.f3, c)
		}
		return n
	default: // 3390
		n := ceilDiv(c*g.f2+dataLen+g.f6+g.f4*ceilDiv(dataLen+g.f6, g.f5*2), c)
		if keyLen > 0 {
			n += ceilDiv(c*g.f3+keyLen+g.f6+g.f4*ceilDiv(keyLen+g.f6, g.f5*2), c)
		}
		return n
	}
}

// TrackCells is the capacity of a track: exactly one record of TrackBytes.
func (g *Geometry) TrackCells() int { return g.RecordCells(0, g.TrackBytes) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// ParseDevType accepts "3390", "3390-3", "3380-K" (case-insensitive) and
// returns the geometry and the model's cylinder count (0 if no model given).
func ParseDevType(s string) (*Geometry, int, error) {
	typ, model, hasModel := strings.Cut(strings.ToUpper(strings.TrimSpace(s)), "-")
	g, ok := geometries()[typ]
	if !ok {
		return nil, 0, fmt.Errorf("unknown device type %q: supported are %s", s, strings.Join(DevTypes(), ", "))
	}
	if !hasModel {
		return g, 0, nil
	}
	cyls, ok := g.Models[model]
	if !ok {
		return nil, 0, fmt.Errorf("unknown model %q of device type %s: models are %s", model, typ, strings.Join(g.modelNames(), ", "))
	}
	return g, cyls, nil
}

// geometryByCode maps the header's device type byte back to a geometry.
func geometryByCode(code byte) *Geometry {
	for _, g := range geometries() {
		if g.Code == code {
			return g
		}
	}
	return nil
}

// DevTypes lists the supported device types.
func DevTypes() []string {
	return slices.Sorted(maps.Keys(geometries()))
}

func (g *Geometry) modelNames() []string {
	out := make([]string, 0, len(g.Models))
	for k := range g.Models {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, errA := strconv.Atoi(out[i])
		b, errB := strconv.Atoi(out[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return out[i] < out[j]
	})
	return out
}
