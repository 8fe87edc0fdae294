package table

import (
	"errors"
	"fmt"

	"github.com/csmsim/csmsim/engine/cms"
)

// Reason codes, one per distinct failure, in the 09xx range: SERVLINK's
// codes are 08xx (engine/servlink), and a code must mean one thing wherever
// it is printed (docs/reason-codes.md lists them all). Never renumber or
// reuse one; add new ones at the end.
const (
	ReasonMalformed       = "0901" // the table file does not parse
	ReasonGenerationMoved = "0902" // COND named a generation that is no longer current
	ReasonDuplicateKey    = "0903" // an entry with that key exists
	ReasonNoSuchKey       = "0904" // no entry with that key
	ReasonNotFound        = "0905" // the table file does not exist
	ReasonExists          = "0906" // the table file exists already
	ReasonInvalid         = "0907" // bad tag name, value or key in an entry being written
	ReasonNicknameCycle   = "0908" // MAINTCSM NAMES nests a nickname in itself
	ReasonUnknownName     = "0909" // neither a system nor a nickname
	ReasonLockFailed      = "0910" // the table's lock could not be taken
	ReasonIOFailed        = "0911" // reading or writing the file failed
	ReasonIntact          = "0912" // a recovery was asked for a table that parses
	ReasonNoPrevious      = "0913" // a torn table's previous generation is missing or torn too
)

// Conditions to test for with errors.Is. Missing things also match
// cms.ErrNotFound and duplicates cms.ErrExists.
var (
	ErrMalformed       = errors.New("malformed table")
	ErrGenerationMoved = errors.New("table generation moved")
	ErrDuplicateKey    = fmt.Errorf("duplicate key: %w", cms.ErrExists)
	ErrNoSuchKey       = fmt.Errorf("no such key: %w", cms.ErrNotFound)
	ErrNotFound        = fmt.Errorf("table %w", cms.ErrNotFound)
	ErrExists          = fmt.Errorf("table %w", cms.ErrExists)
	ErrInvalid         = errors.New("invalid entry")
	ErrNicknameCycle   = errors.New("nickname cycle")
	ErrUnknownName     = errors.New("unknown system or nickname")
	ErrLockFailed      = errors.New("table lock failed")
	ErrIO              = errors.New("table I/O failed")
	ErrIntact          = errors.New("table intact")
	ErrNoPrevious      = errors.New("no usable previous generation")
)

// Reasoner is an error that carries a reason code.
type Reasoner interface {
	error
	Reason() string
}

// ReasonOf is the reason code of the first error in err's chain that has
// one, or "" when none does.
func ReasonOf(err error) string {
	var r Reasoner
	if errors.As(err, &r) {
		return r.Reason()
	}
	return ""
}

// Error is a refused table operation. Msg is complete: it names the table
// and says what to do.
type Error struct {
	Table string // file or table name, e.g. "CSM SYSSTAT"
	Key   string // the entry concerned, if any
	Code  string // a Reason* constant
	Err   error  // an Err* condition
	Msg   string
}

func (e *Error) Error() string  { return e.Msg }
func (e *Error) Reason() string { return e.Code }
func (e *Error) Unwrap() error  { return e.Err }

// ParseError is a table file that does not parse. Line and Col are 1-based;
// Col counts characters; Offset is the byte offset of the line's start.
type ParseError struct {
	File      string // e.g. "CSM SYSSTAT"
	Line, Col int
	Offset    int64
	Problem   string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s: line %d, column %d (offset %d): %s; nothing was changed",
		e.File, e.Line, e.Col, e.Offset, e.Problem)
}
func (e *ParseError) Reason() string { return ReasonMalformed }
func (e *ParseError) Unwrap() error  { return ErrMalformed }

// CondError is a conditional update refused because the table moved on
// since the command read it (ReasonGenerationMoved). Nothing was written.
type CondError struct {
	Table      string
	Want, Have uint64 // the generation the command read; the current one
}

func (e *CondError) Error() string {
	return fmt.Sprintf("table %s is at generation %d, the command read generation %d; nothing was changed; read the table again and retry",
		e.Table, e.Have, e.Want)
}
func (e *CondError) Reason() string { return ReasonGenerationMoved }
func (e *CondError) Unwrap() error  { return ErrGenerationMoved }
