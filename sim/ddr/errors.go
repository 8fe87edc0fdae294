// Package ddr is DASD Dump Restore modelled on z/VM's DDR: DUMP cylinders
// of a CKD extent to a dump file, RESTORE them (optionally REORDERed onto
// other cylinders), COPY between extents, driven by control statements in
// DDR's form. The dump file format is csmsim's own (docs/ddr-dump-format.md).
package ddr

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel reasons, for errors.Is on an *Error.
var (
	ErrChecksum       = errors.New("SHA-256 mismatch")
	ErrDeviceMismatch = errors.New("device type mismatch")
	ErrTargetTooSmall = errors.New("target extent too small")
	ErrBadFormat      = errors.New("not a valid dump")
	ErrTruncated      = errors.New("dump truncated")
	ErrRange          = errors.New("cylinder range outside the extent")
	ErrBadExtent      = errors.New("extent does not lie on its volume")
	ErrVolser         = errors.New("volume serial mismatch")
	ErrNoUnit         = errors.New("unit has no file")
)

// Pos is a track position: cylinder and head.
type Pos struct{ Cyl, Head int }

// Error says what was being done, to which file, where, and what to do.
type Error struct {
	Op     string // dump, verify, restore, copy; "restore onto"/"copy onto" when Object is the target
	Object string // dump file or volume image path
	Offset int64  // byte offset in the dump, -1 if none
	Track  *Pos   // the track concerned (source position for dump records), nil if none
	Reason string // what is wrong and what to do
	Err    error  // one of the sentinels above, or the underlying I/O error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Object != "" {
		b.WriteString(" " + e.Object)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, ": offset %d", e.Offset)
	}
	if e.Track != nil {
		fmt.Fprintf(&b, ": track cyl %d head %d", e.Track.Cyl, e.Track.Head)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ctx carries the operation and object every error of one step names.
type ctx struct{ op, object string }

func (c ctx) fail(off int64, pos *Pos, sentinel error, format string, a ...any) *Error {
	return &Error{Op: c.op, Object: c.object, Offset: off, Track: pos, Reason: fmt.Sprintf(format, a...), Err: sentinel}
}

func (c ctx) failIO(off int64, pos *Pos, err error, what string) *Error {
	return &Error{Op: c.op, Object: c.object, Offset: off, Track: pos, Reason: what + ": " + err.Error(), Err: err}
}
