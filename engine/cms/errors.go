package cms

import (
	"errors"
	"fmt"
)

// Conditions the engine tests for with errors.Is. Implementations wrap them
// in *Error so the message names the object.
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("already exists")
	ErrDiskFull      = errors.New("disk full")
	ErrQuotaExceeded = errors.New("file space limit exceeded")
	ErrNotEnrolled   = errors.New("file space not enrolled")
	ErrNoFilePool    = errors.New("no such file pool")
	ErrNotAuthorized = errors.New("not authorized")
	ErrDirNotEmpty   = errors.New("directory not empty")
	ErrBadStream     = errors.New("not a valid FILEPOOL UNLOAD stream")
)

// Error is a failed operation on a named CMS object.
type Error struct {
	Object string // e.g. "VMPSFS:CSM720.BASE.CP", "PROFILE EXEC in MAINT 0190"
	Err    error  // one of the Err* conditions
	Detail string // what happened and what to do; may be empty
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Object + ": " + e.Err.Error()
	}
	return e.Object + ": " + e.Err.Error() + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// LoadError is a refused FILEPOOL LOAD: the member of the unload stream at
// fault and the byte offset of its header. The target is left unchanged.
type LoadError struct {
	Target string // the directory being loaded
	Member string // tar member name; "" when no header could be read
	Offset int64  // byte offset of the member's first header block
	Err    error
}

func (e *LoadError) Error() string {
	if e.Member == "" {
		return fmt.Sprintf("FILEPOOL LOAD into %s: at offset %d: %v", e.Target, e.Offset, e.Err)
	}
	return fmt.Sprintf("FILEPOOL LOAD into %s: member %q at offset %d: %v", e.Target, e.Member, e.Offset, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }
