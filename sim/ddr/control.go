package ddr

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/sim/ckd"
)

// Unit is an INPUT or OUTPUT statement: a virtual device and, optionally,
// the device type and volume serial it must have.
type Unit struct {
	Line    int
	Vdev    string // 4 hex digits, upper-case
	DevType string // "3390", "3390-3", a tape type, or ""
	Volser  string // "" if not given
}

// Op is one DUMP, RESTORE or COPY statement with the units it acts on.
type Op struct {
	Line    int
	Text    string // the statement as written
	Verb    string // DUMP, RESTORE or COPY
	In, Out Unit
	All     bool
	From    int
	To      int
	Reorder int // -1 if no REORDER
}

// Program is a parsed DDR control deck.
type Program struct{ Ops []Op }

// LineError is a control statement refused, with its line number.
type LineError struct {
	Line   int
	Reason string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

const (
	expectedVerbs = "expected SYSPRINT, INPUT, OUTPUT, DUMP, RESTORE, COPY or a * comment"
	opForms       = "%[1]s cyl1 [TO cyl2] [REORDER TO cyl3] or %[1]s ALL"
)

// tapeTypes may name a dump-file unit, as the tape it stands for.
var tapeTypes = map[string]bool{"TAPE": true, "3420": true, "3480": true, "3490": true, "3590": true}

// ParseControl reads a whole deck. Statements are case-insensitive with
// free-form blanks; every refused line is reported, and a deck with any
// error gives no Program, so nothing runs.
func ParseControl(r io.Reader) (*Program, error) {
	p := &Program{}
	var errs []error
	var in, out *Unit
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "*") {
			continue
		}
		f := strings.Fields(strings.ToUpper(text))
		bad := func(format string, a ...any) {
			errs = append(errs, &LineError{Line: line, Reason: fmt.Sprintf(format, a...)})
		}
		switch f[0] {
		case "SYSPRINT":
			// Accepted for compatibility; the summary goes to Run's out.
			if len(f) != 2 || (f[1] != "CONS" && !isVdev(f[1])) {
				bad("expected SYSPRINT vdev or SYSPRINT CONS")
			}
		case "INPUT", "OUTPUT":
			u, err := parseUnit(line, f)
			if err != "" {
				bad("%s", err)
				continue
			}
			if f[0] == "INPUT" {
				in = &u
			} else {
				out = &u
			}
		case "DUMP", "RESTORE", "COPY":
			op, err := parseOp(f)
			switch {
			case err != "":
				bad("%s", err)
			case in == nil || out == nil:
				bad("%s before INPUT and OUTPUT; give INPUT vdev and OUTPUT vdev first", f[0])
			case in.Vdev == out.Vdev && f[0] != "COPY":
				bad("%s with INPUT and OUTPUT both %s; a %s needs a volume and a dump file", f[0], in.Vdev, strings.ToLower(f[0]))
			default:
				op.Line, op.Text, op.In, op.Out = line, text, *in, *out
				p.Ops = append(p.Ops, op)
			}
		default:
			bad("unknown statement %q; %s", f[0], expectedVerbs)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &LineError{Line: line + 1, Reason: fmt.Sprintf("cannot read the statement: %v", err)})
	}
	if len(errs) == 0 && len(p.Ops) == 0 {
		errs = append(errs, &LineError{Line: line, Reason: "no DUMP, RESTORE or COPY statement; nothing to do"})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func isVdev(s string) bool {
	if len(s) < 1 || len(s) > 4 {
		return false
	}
	_, err := strconv.ParseUint(s, 16, 16)
	return err == nil
}

// normVdev pads a device number to 4 upper-case hex digits.
func normVdev(s string) string {
	return fmt.Sprintf("%04s", strings.ToUpper(s))
}

// isDevType reports whether s names a DASD type (model optional) or a tape.
func isDevType(s string) bool {
	if tapeTypes[s] {
		return true
	}
	_, _, err := ckd.ParseDevType(s)
	return err == nil
}

func parseUnit(line int, f []string) (Unit, string) {
	form := fmt.Sprintf("expected %s vdev [devtype] [volser], e.g. %s 0190 3390 MNT190", f[0], f[0])
	if len(f) < 2 || len(f) > 4 {
		return Unit{}, form
	}
	if !isVdev(f[1]) {
		return Unit{}, fmt.Sprintf("device number %q is not 1-4 hex digits; %s", f[1], form)
	}
	u := Unit{Line: line, Vdev: normVdev(f[1])}
	rest := f[2:]
	if len(rest) > 0 && isDevType(rest[0]) {
		u.DevType, rest = rest[0], rest[1:]
	} else if len(rest) == 2 {
		return Unit{}, fmt.Sprintf("device type %q is not one of %s or a tape (%s); %s", rest[0], strings.Join(ckd.DevTypes(), ", "), "3420, 3480, 3490, 3590, TAPE", form)
	}
	if len(rest) == 1 {
		switch {
		case validVolser(rest[0]):
		case u.DevType != "":
			return Unit{}, fmt.Sprintf("volume serial %q is not 1-6 of A-Z 0-9 @ # $; %s", rest[0], form)
		default:
			return Unit{}, fmt.Sprintf("%q is neither a device type nor a volume serial (1-6 of A-Z 0-9 @ # $); %s", rest[0], form)
		}
		u.Volser = rest[0]
	}
	return u, ""
}

func parseOp(f []string) (Op, string) {
	verb := f[0]
	form := fmt.Sprintf("expected "+opForms, verb)
	op := Op{Verb: verb, Reorder: -1}
	args := f[1:]
	if len(args) == 1 && args[0] == "ALL" {
		op.All = true
		return op, ""
	}
	if len(args) == 0 {
		return op, form
	}
	i := 0
	num := func() (int, string) {
		if i >= len(args) {
			return 0, fmt.Sprintf("a cylinder number is missing at the end; %s", form)
		}
		n, err := strconv.Atoi(args[i])
		if err != nil || n < 0 || n > maxCyl || strings.HasPrefix(args[i], "+") {
			return 0, fmt.Sprintf("cylinder %q is not a number 0-%d; %s", args[i], maxCyl, form)
		}
		i++
		return n, ""
	}
	var msg string
	if op.From, msg = num(); msg != "" {
		return op, msg
	}
	op.To = op.From
	if i < len(args) && args[i] == "TO" {
		i++
		if op.To, msg = num(); msg != "" {
			return op, msg
		}
	}
	if i < len(args) && args[i] == "REORDER" {
		i++
		if i < len(args) && args[i] == "TO" {
			i++
		}
		if op.Reorder, msg = num(); msg != "" {
			return op, msg
		}
	}
	if i < len(args) {
		return op, fmt.Sprintf("%q not understood; %s", args[i], form)
	}
	if op.From > op.To {
		return op, fmt.Sprintf("first cylinder %d is after last cylinder %d; give them in order", op.From, op.To)
	}
	return op, ""
}
