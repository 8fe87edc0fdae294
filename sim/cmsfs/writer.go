package cmsfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/extents"
)

// writer streams a file into a temporary beside its final name and renames
// it into place on Close. Blocks are reserved as bytes arrive, net of the
// blocks of the file being replaced (credit), so a write that would pass a
// limit fails at once and releases everything.
type writer struct {
	a        *area
	id       cms.FileID
	mode     int
	f        afero.File // the temporary, open; nil for a link (LinkRange)
	tmp      string     // the temporary's name, renamed into place on Close
	credit   int64      // blocks of the existing file when the write began
	reserved int64      // blocks charged to the ledgers beyond the credit
	size     int64
	done     bool
	err      error // returned by every call once done
}

var (
	_ cms.FileWriter  = (*writer)(nil)
	_ cms.RangeLinker = (*area)(nil)
)

func (wr *writer) what() string { return "write of " + wr.id.Name() }

// reserveLocked makes sure the ledgers hold enough for size bytes.
// The World's mu must be held.
func (wr *writer) reserveLocked(size int64) error {
	extra := cms.BlocksFor(size) - wr.credit - wr.reserved
	if extra <= 0 {
		return nil
	}
	if err := charge(wr.a.ledgers, wr.a.name, wr.what(), extra); err != nil {
		return err
	}
	wr.reserved += extra
	return nil
}

func (wr *writer) Write(p []byte) (int, error) {
	if wr.done {
		return 0, wr.err
	}
	wr.a.w.mu.Lock()
	err := wr.reserveLocked(wr.size + int64(len(p)))
	wr.a.w.mu.Unlock()
	if err != nil {
		wr.fail(err)
		return 0, err
	}
	n, err := wr.f.Write(p)
	wr.size += int64(n)
	if err != nil {
		err = fmt.Errorf("%s: %w", wr.a.object(wr.id), err)
		wr.fail(err)
	}
	return n, err
}

// Close commits the file, durably: its bytes reach the disk before the
// rename that puts them in place, and the rename before Close returns. On
// any failure before the rename nothing is left behind.
func (wr *writer) Close() error {
	if wr.done {
		return wr.err
	}
	var err error
	if wr.f != nil {
		err = wr.f.Sync()
		if cerr := wr.f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = wr.commit()
	}
	if err != nil {
		wr.fail(err)
		return err
	}
	wr.done = true
	wr.err = fmt.Errorf("%s: %w", wr.a.object(wr.id), os.ErrClosed)
	if wr.f == nil {
		wr.a.w.deferSync(wr.a.dir) // a link: its bytes are durable; its name is by the next commit
		return nil
	}
	// The file is in place; an error here says a crash now could still
	// bring back the old one.
	return wr.a.w.syncDir(wr.a.dir)
}

// commit settles the accounting against the file as it is now (another
// writer may have replaced it meanwhile) and renames the temporary into place.
func (wr *writer) commit() error {
	a := wr.a
	a.w.mu.Lock()
	defer a.w.mu.Unlock()
	if err := a.check(); err != nil {
		return err
	}
	adjust := cms.BlocksFor(wr.size) - a.blocksOf(wr.id) - wr.reserved
	if err := charge(a.ledgers, a.name, wr.what(), adjust); err != nil {
		return err
	}
	modes, err := a.w.modes(a.dir)
	if err == nil {
		err = a.w.setModes(a.dir, map[string]int{fileName(wr.id): wr.mode})
	}
	if err == nil {
		if err = a.w.fs.Rename(wr.tmp, a.path(wr.id)); err != nil {
			_ = a.w.setModes(a.dir, map[string]int{fileName(wr.id): info(wr.id, 0, modes).ModeNumber})
		}
	}
	if err != nil {
		_ = charge(a.ledgers, a.name, "", -adjust)
		return err
	}
	wr.reserved = 0
	return nil
}

// Abort discards the write; it is a no-op once the writer is done.
func (wr *writer) Abort() error {
	if !wr.done {
		wr.fail(fmt.Errorf("%s: write aborted", wr.a.object(wr.id)))
	}
	return nil
}

// fail removes the temporary, releases the reservation and makes err sticky.
func (wr *writer) fail(err error) {
	if wr.f != nil {
		_ = wr.f.Close()
	}
	_ = wr.a.w.fs.Remove(wr.tmp)
	wr.unreserve()
	wr.done, wr.err = true, err
}

// unreserve gives back the blocks the write reserved.
func (wr *writer) unreserve() {
	wr.a.w.mu.Lock()
	_ = charge(wr.a.ledgers, wr.a.name, "", -wr.reserved)
	wr.a.w.mu.Unlock()
	wr.reserved = 0
}

// extents is the world's split-file store, nil where files are not split
// (memory).
func (w *World) extents() *extents.Fs {
	x, _ := w.fs.(*extents.Fs)
	return x
}

// CanLinkRange implements cms.RangeLinker.
func (a *area) CanLinkRange(src io.Reader, off, size int64) bool {
	x := a.w.extents()
	return x != nil && x.CanLinkRange(src, off, size)
}

// LinkRange implements cms.RangeLinker: on a host file system, a range
// of a file split as it was written (sim/extents) is linked into this area
// as dst, charged and committed as a written file is.
func (a *area) LinkRange(src io.Reader, off, size int64, dst cms.FileID) (bool, error) {
	x := a.w.extents()
	if x == nil {
		return false, nil
	}
	if err := checkID(dst); err != nil {
		return false, err
	}
	a.w.mu.Lock()
	if err := a.check(); err != nil {
		a.w.mu.Unlock()
		return false, err
	}
	wr := &writer{a: a, id: dst, mode: modeNumber(dst, 1), credit: a.blocksOf(dst)}
	err := wr.reserveLocked(size)
	a.w.mu.Unlock()
	if err != nil {
		return false, err
	}
	// A temporary's name, unique in this process and among live ones; one
	// a dead process left is stale, and New would tidy it anyway.
	tmp := filepath.Join(a.dir, fmt.Sprintf("%s-%s-link-%d-%d", tmpPrefix, fileName(dst), os.Getpid(), a.w.links.Add(1)))
	linked, err := x.LinkRange(src, off, size, tmp)
	if errors.Is(err, fs.ErrExist) {
		_ = a.w.fs.Remove(tmp)
		linked, err = x.LinkRange(src, off, size, tmp)
	}
	if err != nil || !linked {
		wr.unreserve()
		return false, err
	}
	wr.tmp, wr.size = tmp, size // no file open: Close commits the link
	return true, wr.Close()
}
