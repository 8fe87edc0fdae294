package ckd

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// CMSBlockSize is the CMS file system block size csmsim formats with.
const CMSBlockSize = 4096

// FillSeeded writes, on every track of cylinders from..to, as many 4K
// records as the device holds, with contents drawn from seed: reproducible
// test content such as a nucleus image, for DDR rehearsals.
func FillSeeded(v *Volume, from, to int, seed uint64) error {
	run := v.NewRun((to - from + 1) * v.geo.Heads)
	if err := fillSeeded(v, from, to, seed, run); err != nil {
		_ = run.Flush()
		return err
	}
	return run.Flush()
}

func fillSeeded(v *Volume, from, to int, seed uint64, run *Run) error {
	rng := rand.New(rand.NewPCG(seed, uint64(from)<<32|uint64(to)))
	for c := from; c <= to; c++ {
		for h := 0; h < v.geo.Heads; h++ {
			t := &Track{Cyl: uint16(c), Head: uint16(h)}
			for r := 1; r <= v.geo.BlocksPerTrack; r++ {
				data := make([]byte, CMSBlockSize)
				for i := 0; i < len(data); i += 8 {
					u := rng.Uint64()
					for j := 0; j < 8; j++ {
						data[i+j] = byte(u >> (8 * j))
					}
				}
				t.Records = append(t.Records, Record{Count: Count{Cyl: uint16(c), Head: uint16(h), Rec: uint8(r)}, Data: data})
			}
			if err := run.AddTrack(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteBlocks writes r as consecutive 4K records on the tracks of e from
// relative cylinder from on, each track filled before the next, the last
// record padded with zeros. It returns the cylinders used.
func WriteBlocks(e Extent, from int, r io.Reader) (int, error) {
	run := e.Volume.NewRun(0)
	n, err := writeBlocks(e, from, r, run)
	// What was formatted before a failure is written too, as it would be
	// track by track.
	if ferr := run.Flush(); err == nil && ferr != nil {
		return 0, ferr
	}
	return n, err
}

func writeBlocks(e Extent, from int, r io.Reader, run *Run) (int, error) {
	g := e.Volume.geo
	if from < 0 || from >= e.Count {
		return 0, fmt.Errorf("%s: cylinder %d is outside the extent of %d cylinders: %w", e.Volume.path, from, e.Count, ErrOutOfRange)
	}
	block := make([]byte, CMSBlockSize)
	cyl, head := from, 0
	for {
		t := &Track{Cyl: uint16(e.Start + cyl), Head: uint16(head)}
		for len(t.Records) < g.BlocksPerTrack {
			n, err := io.ReadFull(r, block)
			if n == 0 && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
				break
			}
			if err != nil && err != io.ErrUnexpectedEOF {
				return 0, err
			}
			clear(block[n:])
			t.Records = append(t.Records, Record{Count: Count{Cyl: t.Cyl, Head: t.Head, Rec: uint8(len(t.Records) + 1)}, Data: append([]byte(nil), block...)})
		}
		if len(t.Records) == 0 {
			if head == 0 {
				return cyl - from, nil
			}
			return cyl - from + 1, nil
		}
		if err := run.AddTrack(t); err != nil {
			return 0, err
		}
		if head++; head == g.Heads {
			head, cyl = 0, cyl+1
		}
		if cyl == e.Count {
			// Full to the end: anything left does not fit.
			if n, _ := io.ReadFull(r, block[:1]); n > 0 {
				return 0, fmt.Errorf("%s: the data does not fit in cylinders %d-%d of the extent", e.Volume.path, from, e.Count-1)
			}
			return cyl - from, nil
		}
	}
}
