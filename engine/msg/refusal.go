package msg

import (
	"errors"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
)

// Refusal is an operation refused with one message; by the all-or-nothing
// rule nothing was changed.
type Refusal struct{ Line Line }

func (r *Refusal) Error() string { return r.Line.String() }

// Refuse makes the error of a refused operation from a message format.
func Refuse(format string, args ...any) error { return &Refusal{Messagef(format, args...)} }

// IsRefusal reports whether err is (or wraps) a Refusal.
func IsRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}

// LinesOf renders an error as the messages a command issues for it: a
// refusal is its own message; table and CMS errors map to theirs; anything
// else is an internal error (CSM0000S).
func LinesOf(err error) []Line {
	var r *Refusal
	if errors.As(err, &r) {
		return []Line{r.Line}
	}
	var pe *table.ParseError
	if errors.As(err, &pe) {
		return []Line{Messagef(CSM3000E, pe.File, pe.Line, pe.Col, pe.Offset, pe.Problem)}
	}
	var ce *table.CondError
	if errors.As(err, &ce) {
		return []Line{Messagef(CSM3001E, ce.Table, ce.Want, ce.Have, ce.Reason())}
	}
	if errors.Is(err, cms.ErrQuotaExceeded) || errors.Is(err, cms.ErrDiskFull) {
		return []Line{Messagef(CSM0031E, "storage", err.Error())}
	}
	return []Line{Messagef(CSM0000S, err.Error())}
}
