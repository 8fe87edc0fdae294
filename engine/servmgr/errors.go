package servmgr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/msg"
)

// ErrorKind classifies a syntax error.
type ErrorKind int

const (
	KindEmpty             ErrorKind = iota + 1 // no operand at all
	KindUnknownOperand                         // not an operand (or sub-operand) of SERVMGR
	KindMissing                                // an operand is missing
	KindExtra                                  // an operand too many
	KindExpected                               // another keyword was expected here
	KindBadVRM                                 // vrm is not 3 digits
	KindBadName                                // a character not allowed in a name
	KindTooLong                                // a name longer than its limit
	KindReserved                               // ALL (or BASE) where a new name is defined
	KindBadValue                               // a keyword's value is not one of its choices
	KindBadPort                                // port not 1-65535
	KindBadHost                                // not a host name or IP address
	KindBadText                                // DESC text empty, too long or unprintable
	KindUnknownOption                          // option not known to the command
	KindDuplicateOption                        // option given twice
	KindConflictingOption                      // options that exclude each other
	KindMissingValue                           // option without its value
	KindParen                                  // misplaced "(" or ")", or text after ")"
	KindNoChange                               // SYSTEM MODIFY without anything to modify
)

var kindNames = [...]string{
	KindEmpty: "empty", KindUnknownOperand: "unknown operand", KindMissing: "missing operand",
	KindExtra: "extra operand", KindExpected: "keyword expected", KindBadVRM: "bad vrm",
	KindBadName: "bad name", KindTooLong: "name too long", KindReserved: "reserved name",
	KindBadValue: "bad value", KindBadPort: "bad port", KindBadHost: "bad host",
	KindBadText: "bad text", KindUnknownOption: "unknown option",
	KindDuplicateOption: "duplicate option", KindConflictingOption: "conflicting options",
	KindMissingValue: "missing option value", KindParen: "misplaced parenthesis",
	KindNoChange: "nothing to change",
}

func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// SyntaxError says where and why a SERVMGR command line does not parse.
// Pos and Col refer to the line as given (a leading SERVMGR counts; "(" and
// ")" are tokens; Col counts characters from 1, a newline counting as one).
// Token is "" when the line ended where an operand was expected; Pos and
// Col then point just past the last token.
type SyntaxError struct {
	Kind     ErrorKind
	Command  string // "SRVLVL ADD", "SRVLVL" while the sub-operand is unknown, "" before the operand
	Token    string // as typed
	Pos      int
	Col      int
	Reason   string // e.g. `expected BASEDON`, `level name longer than 16 characters`
	Expected string // usage form of the operand expected there, e.g. "BASEDON", "level"
	Form     string // usage form of the command, e.g. "SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]"
}

// Where names the command for messages: "SERVMGR" or "SERVMGR SRVLVL ADD".
func (e *SyntaxError) Where() string { return words("SERVMGR", e.Command) }

func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString(e.Where())
	b.WriteString(": ")
	if e.Token == "" {
		fmt.Fprintf(&b, "end of line at column %d", e.Col)
	} else {
		fmt.Fprintf(&b, "token %d %q at column %d", e.Pos, e.Token, e.Col)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Form != "" {
		b.WriteString("; form: ")
		b.WriteString(e.Form)
	}
	return b.String()
}

// Lines renders the error as SERVMGR messages: the error (CSM0010E at a
// token, CSM0011E at the end of the line, CSM0013E for an empty line)
// followed by the command's form (CSM0012I), or all forms for an empty line.
func (e *SyntaxError) Lines() []msg.Line {
	var out []msg.Line
	switch {
	case e.Kind == KindEmpty:
		out = append(out, msg.Messagef(msg.CSM0013E, e.Expected))
		for _, f := range forms {
			out = append(out, msg.Messagef(msg.CSM0012I, f.form))
		}
		return out
	case e.Token == "":
		out = append(out, msg.Messagef(msg.CSM0011E, e.Where(), e.Col, e.Reason))
	default:
		out = append(out, msg.Messagef(msg.CSM0010E, e.Where(), e.Pos, e.Token, e.Col, e.Reason))
	}
	if e.Form != "" {
		out = append(out, msg.Messagef(msg.CSM0012I, e.Form))
	}
	return out
}

// AsSyntaxError returns err as a *SyntaxError if it is one.
func AsSyntaxError(err error) (*SyntaxError, bool) {
	var se *SyntaxError
	ok := errors.As(err, &se)
	return se, ok
}
