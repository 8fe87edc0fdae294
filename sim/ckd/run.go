package ckd

import "fmt"

// runBytes bounds the track images a Run holds before it writes them:
// about a 3390 cylinder. Larger runs cost a large, zeroed buffer per
// restore (a nucleus is 150 tracks) and win nothing on sim/memfs, whose
// writes cost what they write.
const runBytes = 1 << 20

// A Run writes track images that follow each other on the volume (head
// by head, then cylinder by cylinder) in one write per run instead of one
// per track: afero's in-memory files move everything after the written
// range on every write into their middle, which made restoring a nucleus
// into a memory image cost the square of the image's size. Each track is
// checked when it is added, as WriteTrackImage and WriteTrack check it;
// it reaches the image at the latest at Flush. A Run is not safe for
// concurrent use.
type Run struct {
	v         *Volume
	cyl, head int // position of the first held track
	n         int // tracks held
	written   int // tracks written
	max       int // tracks held at most
	buf       []byte
}

// NewRun starts an empty run of writes to v; tracks, if known, is how
// many tracks will be added, so the run's buffer is allocated once.
func (v *Volume) NewRun(tracks int) *Run {
	r := &Run{v: v, max: max(1, runBytes/v.geo.ImageTrackSize())}
	if tracks > 0 {
		r.buf = make([]byte, 0, min(tracks, r.max)*v.geo.ImageTrackSize())
	}
	return r
}

// Add checks img as the track image for cyl/head, as WriteTrackImage
// does, and holds a copy of it. When the check fails, what the run held
// is written and nothing is added.
func (r *Run) Add(cyl, head int, img []byte) error {
	if err := r.v.checkTrackImage(cyl, head, img); err != nil {
		if ferr := r.Flush(); ferr != nil {
			return ferr
		}
		return err
	}
	dst, err := r.slot(cyl, head)
	if err != nil {
		return err
	}
	copy(dst, img)
	return nil
}

// AddTrack formats t's track image, as WriteTrack does, and holds it.
func (r *Run) AddTrack(t *Track) error {
	if err := r.v.CheckTrack(int(t.Cyl), int(t.Head)); err != nil {
		if ferr := r.Flush(); ferr != nil {
			return ferr
		}
		return err
	}
	if err := t.checkCapacity(r.v.geo); err != nil {
		if ferr := r.Flush(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("%s: %w", r.v.path, err)
	}
	dst, err := r.slot(int(t.Cyl), int(t.Head))
	if err != nil {
		return err
	}
	if err := t.Encode(r.v.geo, dst); err != nil {
		r.n--
		r.buf = r.buf[:len(r.buf)-len(dst)]
		return fmt.Errorf("%s: %w", r.v.path, err)
	}
	return nil
}

// slot makes room for the track at cyl/head and returns its bytes,
// writing what the run holds first if that track does not follow it or
// the run is full.
func (r *Run) slot(cyl, head int) ([]byte, error) {
	if r.n > 0 {
		t := r.head + r.n
		if cyl != r.cyl+t/r.v.geo.Heads || head != t%r.v.geo.Heads || r.n == r.max {
			if err := r.Flush(); err != nil {
				return nil, err
			}
		}
	}
	if r.n == 0 {
		r.cyl, r.head, r.buf = cyl, head, r.buf[:0]
	}
	ts := r.v.geo.ImageTrackSize()
	if len(r.buf)+ts > cap(r.buf) {
		// Doubling, up to what the run holds at most: append's growth of
		// large slices (a quarter) would copy the run over and over.
		grown := make([]byte, len(r.buf), min(max(2*cap(r.buf), int(r.v.geo.CylinderBytes())), r.max*ts))
		copy(grown, r.buf)
		r.buf = grown
	}
	r.buf = r.buf[:len(r.buf)+ts]
	r.n++
	return r.buf[len(r.buf)-ts:], nil
}

// Flush writes the held tracks, if any. Its error is a *RunError.
func (r *Run) Flush() error {
	if r.n == 0 {
		return nil
	}
	off, n := r.v.trackOffset(r.cyl, r.head), r.n
	r.n = 0
	if _, err := r.v.writeAt(r.buf, off); err != nil {
		return &RunError{Cyl: r.cyl, Head: r.head, Err: r.v.err("write", off, err.Error())}
	}
	r.written += n
	return nil
}

// Written is how many tracks the run has written so far.
func (r *Run) Written() int { return r.written }

// RunError is a failed write of the tracks a Run held, from Cyl/Head on.
type RunError struct {
	Cyl, Head int
	Err       error
}

func (e *RunError) Error() string { return e.Err.Error() }

func (e *RunError) Unwrap() error { return e.Err }
