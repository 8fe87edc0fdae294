// Package servmgr is the SERVMGR command of the CSM principal system: its
// grammar (this file) and the $CSMCMD $MSGLOG records every command leaves
// (msglog.go). The message catalogue and return codes are in engine/msg,
// which every engine package uses.
//
// The grammar follows CMS: blank-separated tokens, case-insensitive, and an
// optional options part after "(" (the closing ")" is optional). "(" and ")"
// are tokens of their own even when written against a word, as in
// "(stable" or "norequire)". Newlines, tabs and other ASCII white space count
// as blanks, so a command broken over several lines (as the CSM overview
// prints them) parses as written. A leading word SERVMGR is accepted and
// dropped. Names are folded to upper case; only the free text after DESC is
// kept as typed.
//
// Parse checks syntax and lexical rules only (operand counts, keywords, name
// characters and lengths, port range); whether a release, level or system
// exists is the business of the code that runs the command.
package servmgr

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/rollout"
)

// Limits of the names in SERVMGR operands.
const (
	MaxLevelLen     = 16  // service level name, e.g. VM010802_BLD2
	MaxSystemLen    = 8   // system name or nickname
	MaxComponentLen = 8   // VMSES/E component name, e.g. CMS, TCPIP
	MaxEnvelopeLen  = 8   // file name of an envelope (<name> SERVLINK)
	MaxHostLen      = 253 // DNS host name
	MaxDescLen      = 128 // SRVLVL ADD description, in characters
	DefaultPort     = 4535
	// All names every system (SYSTEM PUT2PROD|QUERY|SERVCHECK, SRVLVL SEND),
	// every level (SRVLVL QUERY) or every component (SRVLVL SERVICE).
	All = "ALL"
	// Base is the unserviced base level INITIALIZE creates.
	Base = "BASE"
)

// Origins of a local modification (SRVLVL LOCALMOD options).
const (
	OriginIBM      = "IBM"
	OriginVendor   = "VENDOR"
	OriginCustomer = "CUSTOMER"
)

// Command is one parsed SERVMGR command. The concrete types below are plain
// values: compare them with ==, reflect.DeepEqual or Gomega's Equal.
type Command interface {
	// Name is the operand and sub-operand in upper case, e.g. "SRVLVL ADD".
	Name() string
	// String is the canonical command line without the word SERVMGR; it
	// parses back to an equal command.
	String() string
	// Release is the vrm the command works on ("720"); "" for MANAGED and
	// for SRVLVL SEND written without a vrm.
	Release() string
}

// Initialize is INITIALIZE vrm.
type Initialize struct{ VRM string }

// Managed is MANAGED OFF|ON, entered on a managed system.
type Managed struct{ On bool }

// SystemAdd is SYSTEM ADD vrm system level [NONESM] HOSTNAME host
// [COMMTYPE FTP] [(PORT n REQUIRE|NOREQUIRE].
type SystemAdd struct {
	VRM, System, Level string
	NoESM              bool
	Host               string
	CommType           string // always "FTP" once parsed
	Port               int    // DefaultPort unless PORT is given
	Require            bool   // REQUIRE option; NOREQUIRE (the default) is false
}

// SystemDelete is SYSTEM DELETE vrm system.
type SystemDelete struct{ VRM, System string }

// SystemModify is SYSTEM MODIFY vrm system [HOSTNAME host] [SRVLVL level]
// [(PORT n REQUIRE|NOREQUIRE]. Zero values ("", 0, nil) mean unchanged; at
// least one field is set once parsed.
type SystemModify struct {
	VRM, System string
	Host        string
	Level       string
	Port        int
	Require     *bool
}

// SystemPut2Prod is SYSTEM PUT2PROD vrm system|nickname|ALL [(roll-out
// options].
type SystemPut2Prod struct {
	VRM, Target string
	Rollout     *fleet.Rollout // nil: every system at once
}

// SystemQuery is SYSTEM QUERY vrm [system|nickname|ALL]; Target defaults to ALL.
type SystemQuery struct{ VRM, Target string }

// SystemServcheck is SYSTEM SERVCHECK vrm system|nickname|ALL.
type SystemServcheck struct{ VRM, Target string }

// SrvlvlAdd is SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text].
// Desc is the words after DESC as typed, joined by single blanks.
type SrvlvlAdd struct {
	VRM, Level, BasedOn string
	NoESM               bool
	Desc                string
}

// SrvlvlDelete is SRVLVL DELETE vrm level.
type SrvlvlDelete struct{ VRM, Level string }

// SrvlvlLocalmod is SRVLVL LOCALMOD vrm level comp envelope
// [(IBM|VENDOR|CUSTOMER]; Origin defaults to CUSTOMER.
type SrvlvlLocalmod struct {
	VRM, Level, Component, Envelope string
	Origin                          string
}

// SrvlvlService is SRVLVL SERVICE vrm level comp|ALL envelope.
type SrvlvlService struct{ VRM, Level, Component, Envelope string }

// SrvlvlPackage is SRVLVL PACKAGE vrm level.
type SrvlvlPackage struct{ VRM, Level string }

// SrvlvlSend is SRVLVL SEND [vrm] level system|nickname|ALL
// [(TEST|STABLE COND]. TEST is the default. The vrm may be left out, as in
// the overview's "servmgr srvlvl send vm010802_BLD2 vm01 (stable"; VRM is
// then "" and the level names the release.
type SrvlvlSend struct {
	VRM, Level, Target string
	Stable             bool
	Cond               bool
	Rollout            *fleet.Rollout // nil: every system at once
}

// SrvlvlSetlock is SRVLVL SETLOCK vrm level ON|OFF.
type SrvlvlSetlock struct {
	VRM, Level string
	On         bool
}

// SrvlvlQuery is SRVLVL QUERY vrm [level|ALL]; Level defaults to ALL.
type SrvlvlQuery struct{ VRM, Level string }

// SrvlvlVmfsetup is SRVLVL VMFSETUP vrm level comp.
type SrvlvlVmfsetup struct{ VRM, Level, Component string }

func (Initialize) Name() string      { return "INITIALIZE" }
func (Managed) Name() string         { return "MANAGED" }
func (SystemAdd) Name() string       { return "SYSTEM ADD" }
func (SystemDelete) Name() string    { return "SYSTEM DELETE" }
func (SystemModify) Name() string    { return "SYSTEM MODIFY" }
func (SystemPut2Prod) Name() string  { return "SYSTEM PUT2PROD" }
func (SystemQuery) Name() string     { return "SYSTEM QUERY" }
func (SystemServcheck) Name() string { return "SYSTEM SERVCHECK" }
func (SrvlvlAdd) Name() string       { return "SRVLVL ADD" }
func (SrvlvlDelete) Name() string    { return "SRVLVL DELETE" }
func (SrvlvlLocalmod) Name() string  { return "SRVLVL LOCALMOD" }
func (SrvlvlService) Name() string   { return "SRVLVL SERVICE" }
func (SrvlvlPackage) Name() string   { return "SRVLVL PACKAGE" }
func (SrvlvlSend) Name() string      { return "SRVLVL SEND" }
func (SrvlvlSetlock) Name() string   { return "SRVLVL SETLOCK" }
func (SrvlvlQuery) Name() string     { return "SRVLVL QUERY" }
func (SrvlvlVmfsetup) Name() string  { return "SRVLVL VMFSETUP" }

func (c Initialize) Release() string      { return c.VRM }
func (Managed) Release() string           { return "" }
func (c SystemAdd) Release() string       { return c.VRM }
func (c SystemDelete) Release() string    { return c.VRM }
func (c SystemModify) Release() string    { return c.VRM }
func (c SystemPut2Prod) Release() string  { return c.VRM }
func (c SystemQuery) Release() string     { return c.VRM }
func (c SystemServcheck) Release() string { return c.VRM }
func (c SrvlvlAdd) Release() string       { return c.VRM }
func (c SrvlvlDelete) Release() string    { return c.VRM }
func (c SrvlvlLocalmod) Release() string  { return c.VRM }
func (c SrvlvlService) Release() string   { return c.VRM }
func (c SrvlvlPackage) Release() string   { return c.VRM }
func (c SrvlvlSend) Release() string      { return c.VRM }
func (c SrvlvlSetlock) Release() string   { return c.VRM }
func (c SrvlvlQuery) Release() string     { return c.VRM }
func (c SrvlvlVmfsetup) Release() string  { return c.VRM }

// words joins the non-empty words with blanks.
func words(w ...string) string {
	out := w[:0:0]
	for _, s := range w {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// opts renders an options part, "" when there are none.
func opts(o ...string) string {
	s := words(o...)
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func onOff(on bool) string {
	if on {
		return "ON"
	}
	return "OFF"
}

func flag(set bool, kw string) string {
	if set {
		return kw
	}
	return ""
}

func (c Initialize) String() string { return words(c.Name(), c.VRM) }
func (c Managed) String() string    { return words(c.Name(), onOff(c.On)) }

func (c SystemAdd) String() string {
	var host, comm, port string
	if c.Host != "" {
		host = "HOSTNAME " + c.Host
	}
	if c.CommType != "" {
		comm = "COMMTYPE " + c.CommType
	}
	if c.Port != 0 {
		port = "PORT " + strconv.Itoa(c.Port)
	}
	req := "NOREQUIRE"
	if c.Require {
		req = "REQUIRE"
	}
	return words(c.Name(), c.VRM, c.System, c.Level, flag(c.NoESM, "NONESM"), host, comm, opts(port, req))
}

func (c SystemDelete) String() string { return words(c.Name(), c.VRM, c.System) }

func (c SystemModify) String() string {
	var host, level, port, req string
	if c.Host != "" {
		host = "HOSTNAME " + c.Host
	}
	if c.Level != "" {
		level = "SRVLVL " + c.Level
	}
	if c.Port != 0 {
		port = "PORT " + strconv.Itoa(c.Port)
	}
	if c.Require != nil {
		req = "NOREQUIRE"
		if *c.Require {
			req = "REQUIRE"
		}
	}
	return words(c.Name(), c.VRM, c.System, host, level, opts(port, req))
}

func (c SystemPut2Prod) String() string {
	return words(c.Name(), c.VRM, c.Target, opts(rolloutWords(c.Rollout)...))
}
func (c SystemQuery) String() string     { return words(c.Name(), c.VRM, c.Target) }
func (c SystemServcheck) String() string { return words(c.Name(), c.VRM, c.Target) }

func (c SrvlvlAdd) String() string {
	var desc, based string
	if c.BasedOn != "" {
		based = "BASEDON " + c.BasedOn
	}
	if c.Desc != "" {
		desc = "DESC " + c.Desc
	}
	return words(c.Name(), c.VRM, c.Level, based, flag(c.NoESM, "NONESM"), desc)
}

func (c SrvlvlDelete) String() string { return words(c.Name(), c.VRM, c.Level) }

func (c SrvlvlLocalmod) String() string {
	return words(c.Name(), c.VRM, c.Level, c.Component, c.Envelope, opts(c.Origin))
}

func (c SrvlvlService) String() string {
	return words(c.Name(), c.VRM, c.Level, c.Component, c.Envelope)
}

func (c SrvlvlPackage) String() string { return words(c.Name(), c.VRM, c.Level) }

func (c SrvlvlSend) String() string {
	mode := "TEST"
	if c.Stable {
		mode = "STABLE"
	}
	return words(c.Name(), c.VRM, c.Level, c.Target, opts(append([]string{mode, flag(c.Cond, "COND")}, rolloutWords(c.Rollout)...)...))
}

// rolloutWords renders roll-out options as typed.
func rolloutWords(r *fleet.Rollout) []string {
	if r == nil {
		return nil
	}
	var out []string
	if r.Canary != "" {
		out = append(out, "CANARY "+r.Canary)
	}
	if len(r.Waves) > 0 {
		sizes := make([]string, len(r.Waves))
		for i, w := range r.Waves {
			sizes[i] = w.String()
		}
		out = append(out, "WAVES "+strings.Join(sizes, ","))
	}
	if r.Budget.N > 0 {
		out = append(out, "BUDGET "+r.Budget.String())
	}
	if r.Deadline > 0 {
		out = append(out, "DEADLINE "+r.Deadline.String())
	}
	return append(out, flag(r.Restart, "RESTART"))
}

func (c SrvlvlSetlock) String() string { return words(c.Name(), c.VRM, c.Level, onOff(c.On)) }
func (c SrvlvlQuery) String() string   { return words(c.Name(), c.VRM, c.Level) }
func (c SrvlvlVmfsetup) String() string {
	return words(c.Name(), c.VRM, c.Level, c.Component)
}

// ---------------------------------------------------------------------------
// Usage forms

type form struct{ name, form string }

// forms lists every command form, in the order of the CSM overview.
var forms = []form{
	{"INITIALIZE", "INITIALIZE vrm"},
	{"MANAGED", "MANAGED OFF|ON"},
	{"SYSTEM ADD", "SYSTEM ADD vrm system level [NONESM] HOSTNAME host [COMMTYPE FTP] [(PORT n REQUIRE|NOREQUIRE]"},
	{"SYSTEM DELETE", "SYSTEM DELETE vrm system"},
	{"SYSTEM MODIFY", "SYSTEM MODIFY vrm system [HOSTNAME host] [SRVLVL level] [(PORT n REQUIRE|NOREQUIRE]"},
	{"SYSTEM PUT2PROD", "SYSTEM PUT2PROD vrm system|nickname|ALL [(" + rolloutForm + "]"},
	{"SYSTEM QUERY", "SYSTEM QUERY vrm [system|nickname|ALL]"},
	{"SYSTEM SERVCHECK", "SYSTEM SERVCHECK vrm system|nickname|ALL"},
	{"SRVLVL ADD", "SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]"},
	{"SRVLVL DELETE", "SRVLVL DELETE vrm level"},
	{"SRVLVL LOCALMOD", "SRVLVL LOCALMOD vrm level comp envelope [(IBM|VENDOR|CUSTOMER]"},
	{"SRVLVL SERVICE", "SRVLVL SERVICE vrm level comp|ALL envelope"},
	{"SRVLVL PACKAGE", "SRVLVL PACKAGE vrm level"},
	{"SRVLVL SEND", "SRVLVL SEND [vrm] level system|nickname|ALL [(TEST|STABLE COND " + rolloutForm + "]"},
	{"SRVLVL SETLOCK", "SRVLVL SETLOCK vrm level ON|OFF"},
	{"SRVLVL QUERY", "SRVLVL QUERY vrm [level|ALL]"},
	{"SRVLVL VMFSETUP", "SRVLVL VMFSETUP vrm level comp"},
}

var (
	operands      = []string{"INITIALIZE", "MANAGED", "SYSTEM", "SRVLVL"}
	systemOps     = []string{"ADD", "DELETE", "MODIFY", "PUT2PROD", "QUERY", "SERVCHECK"}
	srvlvlOps     = []string{"ADD", "DELETE", "LOCALMOD", "SERVICE", "PACKAGE", "SEND", "SETLOCK", "QUERY", "VMFSETUP"}
	topForm       = "INITIALIZE|MANAGED|SYSTEM|SRVLVL operands"
	systemForm    = "SYSTEM " + strings.Join(systemOps, "|") + " operands"
	srvlvlForm    = "SRVLVL " + strings.Join(srvlvlOps, "|") + " operands"
	operandList   = orList(operands)
	systemOpsList = orList(systemOps)
	srvlvlOpsList = orList(srvlvlOps)
)

// Forms returns every command form, e.g.
// "SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]".
func Forms() []string {
	out := make([]string, len(forms))
	for i, f := range forms {
		out[i] = f.form
	}
	return out
}

// Usage returns the forms of the commands name selects, one per line: ""
// selects all of them, "SRVLVL" the SRVLVL ones, "srvlvl add" just one.
// An unknown name gives "".
func Usage(name string) string {
	key := strings.Join(strings.Fields(asciiUpper(name)), " ")
	var out []string
	for _, f := range forms {
		if key == "" || f.name == key || strings.HasPrefix(f.name, key+" ") {
			out = append(out, f.form)
		}
	}
	return strings.Join(out, "\n")
}

func usageOf(name string) string {
	for _, f := range forms {
		if f.name == name {
			return f.form
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// Syntax errors

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

// ---------------------------------------------------------------------------
// Tokens

type token struct {
	text string
	pos  int // 1-based among all tokens of the line
	col  int // 1-based character column
}

func isBlank(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

// tokenize splits a line into blank-separated words; "(" and ")" are tokens
// of their own. It also returns the column just past the last token.
func tokenize(line string) (toks []token, endCol int) {
	var cur strings.Builder
	col, start := 0, 0
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, token{cur.String(), len(toks) + 1, start})
			cur.Reset()
		}
	}
	for _, r := range line {
		col++
		switch {
		case isBlank(r):
			flush()
		case r == '(' || r == ')':
			flush()
			toks = append(toks, token{string(r), len(toks) + 1, col})
			endCol = col + 1
		default:
			if cur.Len() == 0 {
				start = col
			}
			cur.WriteRune(r)
			endCol = col + 1
		}
	}
	flush()
	if endCol == 0 {
		endCol = 1
	}
	return toks, endCol
}

// asciiUpper folds a-z only, so keywords never match through Unicode
// case folding (the Kelvin sign is not a K).
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// orList renders "A", "A or B", "A, B or C".
func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// ---------------------------------------------------------------------------
// Parser

// parser walks the positional tokens of one command, then its options.
// Failures panic with a *SyntaxError that Parse recovers.
type parser struct {
	all    []token
	pos    []token // positional tokens, the command words included
	opts   []token // tokens between "(" and ")" (or the end)
	hasOpt bool    // a "(" was given
	stop   token   // where the positional part ends: "(", ")" or the end of line
	optEnd token   // where the options end: ")" or the end of line
	after  *token  // first token after ")", if any
	eol    token
	i      int
	could  []string // optional keywords tried (and absent) since the last token taken
	cmd    string
	form   string
}

func (p *parser) fail(t token, kind ErrorKind, reason, expected string) {
	panic(&SyntaxError{
		Kind: kind, Command: p.cmd, Token: t.text, Pos: t.pos, Col: t.col,
		Reason: reason, Expected: expected, Form: p.form,
	})
}

func (p *parser) more() bool { return p.i < len(p.pos) }

func (p *parser) peek() token { return p.pos[p.i] }

// take returns the next positional token; a missing one is an error.
func (p *parser) take(expected string) token {
	if !p.more() {
		exp := orList(append(p.could, expected))
		p.fail(p.stop, KindMissing, "missing "+exp, exp)
	}
	t := p.pos[p.i]
	p.i++
	p.could = nil
	return t
}

// keyword requires the keyword kw next.
func (p *parser) keyword(kw string) {
	if p.more() && asciiUpper(p.peek().text) != kw {
		exp := orList(append(p.could, kw))
		p.fail(p.peek(), KindExpected, "expected "+exp, exp)
	}
	p.take(kw)
}

// optKeyword takes the keyword kw if it comes next.
func (p *parser) optKeyword(kw string) bool {
	if p.more() && asciiUpper(p.peek().text) == kw {
		p.take(kw)
		return true
	}
	p.could = append(p.could, kw)
	return false
}

// end requires the positional operands to be used up.
func (p *parser) end() {
	if p.more() {
		exp := orList(append(p.could, "end of operands"))
		p.fail(p.peek(), KindExtra, "unexpected operand; expected "+exp, exp)
	}
	if p.stop.text == ")" {
		p.fail(p.stop, KindParen, `")" without "("`, "(")
	}
}

// rest takes all remaining positional tokens, joined by single blanks.
func (p *parser) rest(expected string) (string, token) {
	first := p.take(expected)
	ws := []string{first.text}
	for p.more() {
		ws = append(ws, p.take(expected).text)
	}
	return strings.Join(ws, " "), first
}

func (p *parser) vrm() string {
	t := p.take("vrm")
	if len(t.text) != 3 || !isDigits(t.text) {
		p.fail(t, KindBadVRM, "vrm must be 3 digits, e.g. 720", "vrm")
	}
	return t.text
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func nameRune(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("_@#$", r)
}

// name checks a level, system, nickname or component name: 1 to max
// characters of A-Z 0-9 _ @ # $, folded to upper case.
func (p *parser) name(t token, what, expected string, max int) string {
	for _, r := range t.text {
		if !nameRune(r) {
			p.fail(t, KindBadName, fmt.Sprintf("%s name: character %q not allowed (use A-Z 0-9 _ @ # $)", what, r), expected)
		}
	}
	if n := utf8.RuneCountInString(t.text); n > max {
		p.fail(t, KindTooLong, fmt.Sprintf("%s name longer than %d characters", what, max), expected)
	}
	return asciiUpper(t.text)
}

// level takes a reference to an existing level (BASE allowed).
func (p *parser) level() string {
	return p.name(p.take("level"), "level", "level", MaxLevelLen)
}

// newLevel takes the name of a level being defined: not ALL, not BASE.
func (p *parser) newLevel() string {
	t := p.take("level")
	n := p.name(t, "level", "level", MaxLevelLen)
	if n == All || n == Base {
		p.fail(t, KindReserved, n+" is reserved and cannot name a new service level", "level")
	}
	return n
}

// levelOrAll takes a level or ALL, ALL when absent.
func (p *parser) levelOrAll() string {
	if !p.more() {
		p.could = append(p.could, "level|ALL")
		return All
	}
	return p.name(p.take("level|ALL"), "level", "level|ALL", MaxLevelLen)
}

func (p *parser) system() string {
	return p.name(p.take("system"), "system", "system", MaxSystemLen)
}

func (p *parser) newSystem() string {
	t := p.take("system")
	n := p.name(t, "system", "system", MaxSystemLen)
	if n == All {
		p.fail(t, KindReserved, "ALL is reserved and cannot name a system", "system")
	}
	return n
}

const targetForm = "system|nickname|ALL"

func (p *parser) target() string {
	return p.name(p.take(targetForm), "system or nickname", targetForm, MaxSystemLen)
}

func (p *parser) optTarget() string {
	if !p.more() {
		p.could = append(p.could, targetForm)
		return All
	}
	return p.target()
}

// component takes a component name; ALL only when allowAll.
func (p *parser) component(allowAll bool) string {
	exp := "comp"
	if allowAll {
		exp = "comp|ALL"
	}
	t := p.take(exp)
	n := p.name(t, "component", exp, MaxComponentLen)
	if n == All && !allowAll {
		p.fail(t, KindReserved, "ALL is not allowed here; name one component", exp)
	}
	return n
}

// envelope takes the file name of an envelope (<name> SERVLINK).
func (p *parser) envelope() string {
	t := p.take("envelope")
	id, err := cms.NewFileID(t.text, "SERVLINK", "")
	if err != nil {
		var ne *cms.NameError
		reason := err.Error()
		kind := KindBadName
		if errors.As(err, &ne) {
			reason = "envelope file name: " + ne.Reason
			if strings.HasPrefix(ne.Reason, "more than") {
				kind = KindTooLong
			}
		}
		p.fail(t, kind, reason, "envelope")
	}
	return id.FN()
}

func (p *parser) host() string {
	t := p.take("host")
	if !validHost(t.text) {
		p.fail(t, KindBadHost, "not a host name or IP address", "host")
	}
	return asciiUpper(t.text)
}

// validHost accepts an IPv4 or IPv6 address or a DNS name: labels of 1-63
// letters, digits, "-" or "_", not beginning or ending with "-".
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > MaxHostLen {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func (p *parser) onOff(expected string) bool {
	t := p.take(expected)
	switch asciiUpper(t.text) {
	case "ON":
		return true
	case "OFF":
		return false
	}
	p.fail(t, KindBadValue, "expected "+expected, expected)
	return false
}

func (p *parser) desc() string {
	text, first := p.rest("text")
	for _, r := range text {
		if r != ' ' && !unicode.IsPrint(r) {
			p.fail(first, KindBadText, fmt.Sprintf("description: character %q not allowed", r), "text")
		}
	}
	if utf8.RuneCountInString(text) > MaxDescLen {
		p.fail(first, KindBadText, fmt.Sprintf("description longer than %d characters", MaxDescLen), "text")
	}
	return text
}

// optDef describes one option: a keyword, the group of options it excludes
// (options of one group are alternatives, as TEST|STABLE), and the usage of
// its value ("" for a flag).
type optDef struct{ name, group, value string }

type optHit struct{ kw, val token }

// options parses the options part against defs.
func (p *parser) options(defs ...optDef) map[string]optHit {
	hits := map[string]optHit{}
	groups := map[string]string{}
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.name
	}
	valid := "no options"
	if len(names) > 0 {
		valid = orList(names)
	}
	for i := 0; i < len(p.opts); i++ {
		t := p.opts[i]
		if t.text == "(" {
			p.fail(t, KindParen, `a second "("`, valid)
		}
		kw := asciiUpper(t.text)
		var def *optDef
		for j := range defs {
			if defs[j].name == kw {
				def = &defs[j]
			}
		}
		if def == nil {
			p.fail(t, KindUnknownOption, "unknown option; valid: "+valid, valid)
		}
		if _, dup := hits[kw]; dup {
			p.fail(t, KindDuplicateOption, "option "+kw+" given twice", valid)
		}
		if def.group != "" {
			if other, ok := groups[def.group]; ok {
				p.fail(t, KindConflictingOption, fmt.Sprintf("option %s conflicts with %s", kw, other), def.group)
			}
			groups[def.group] = kw
		}
		h := optHit{kw: t}
		if def.value != "" {
			if i+1 >= len(p.opts) || p.opts[i+1].text == "(" {
				at := p.optEnd
				if i+1 < len(p.opts) {
					at = p.opts[i+1]
				}
				p.fail(at, KindMissingValue, fmt.Sprintf("option %s needs a value: %s", kw, def.value), def.value)
			}
			i++
			h.val = p.opts[i]
		}
		hits[kw] = h
	}
	return hits
}

// noOptions refuses any option.
func (p *parser) noOptions() { p.options() }

func (p *parser) port(h optHit) int {
	n, err := strconv.Atoi(h.val.text)
	if err != nil || !isDigits(h.val.text) || n < 1 || n > 65535 {
		p.fail(h.val, KindBadPort, "port must be a number from 1 to 65535", "n")
	}
	return n
}

// rolloutForm and rolloutOpts are the staged roll-out options of SRVLVL
// SEND and SYSTEM PUT2PROD (docs/rollout.md).
const rolloutForm = "CANARY target WAVES n|n%[,...] BUDGET n|n% DEADLINE secs|dur RESTART"

var rolloutOpts = []optDef{{"CANARY", "", "system|nickname"}, {"WAVES", "", "n|n%[,n|n%...]"},
	{"BUDGET", "", "n|n%"}, {"DEADLINE", "", "seconds or a duration such as 10m"}, {"RESTART", "", ""}}

// rollout reads the roll-out options; nil when none is given.
func (p *parser) rollout(o map[string]optHit) *fleet.Rollout {
	r := &fleet.Rollout{}
	given := false
	if h, ok := o["CANARY"]; ok {
		r.Canary, given = p.name(h.val, "system or nickname", "system|nickname", MaxSystemLen), true
	}
	if h, ok := o["WAVES"]; ok {
		for _, w := range strings.Split(h.val.text, ",") {
			sz, err := rollout.ParseSize(w)
			if err != nil {
				p.fail(h.val, KindBadValue, "WAVES: "+err.Error(), "n|n%[,n|n%...]")
			}
			r.Waves = append(r.Waves, sz)
		}
		given = true
	}
	if h, ok := o["BUDGET"]; ok {
		sz, err := rollout.ParseSize(h.val.text)
		if err != nil {
			p.fail(h.val, KindBadValue, "BUDGET: "+err.Error(), "n|n%")
		}
		r.Budget, given = sz, true
	}
	if h, ok := o["DEADLINE"]; ok {
		d, err := parseDeadline(h.val.text)
		if err != nil {
			p.fail(h.val, KindBadValue, "DEADLINE: "+err.Error(), "seconds or a duration such as 10m")
		}
		r.Deadline, given = d, true
	}
	if _, ok := o["RESTART"]; ok {
		r.Restart, given = true, true
	}
	if !given {
		return nil
	}
	return r
}

// parseDeadline reads seconds (600) or a duration with units (10m, 90s).
func parseDeadline(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.ToLower(s))
	if isDigits(s) {
		n, aerr := strconv.Atoi(s)
		d, err = time.Duration(n)*time.Second, aerr
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive number of seconds or a duration such as 90s or 10m", s)
	}
	return d, nil
}

var portOpts = []optDef{{"PORT", "", "n"}, {"REQUIRE", "REQUIRE|NOREQUIRE", ""}, {"NOREQUIRE", "REQUIRE|NOREQUIRE", ""}}

// ---------------------------------------------------------------------------
// Entry points

// ParseArgs parses a command given as separate words, as a shell passes
// them; the words are joined by blanks, so one quoted string works as well.
// Columns in errors refer to the joined line.
func ParseArgs(args []string) (Command, error) {
	return Parse(strings.Join(args, " "))
}

// Parse parses one SERVMGR command line. The error is always a
// *SyntaxError.
func Parse(line string) (cmd Command, err error) {
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			cmd, err = nil, se
		}
	}()
	all, endCol := tokenize(line)
	p := &parser{all: all, form: topForm}
	p.eol = token{"", len(all) + 1, endCol}
	rest := all
	if len(rest) > 0 && asciiUpper(rest[0].text) == "SERVMGR" {
		rest = rest[1:]
	}
	// Positional part: up to the first parenthesis.
	p.stop, p.optEnd = p.eol, p.eol
	n := 0
	for n < len(rest) && rest[n].text != "(" && rest[n].text != ")" {
		n++
	}
	p.pos = rest[:n]
	if n < len(rest) {
		p.stop = rest[n]
		if rest[n].text == "(" {
			p.hasOpt = true
			m := n + 1
			for m < len(rest) && rest[m].text != ")" {
				m++
			}
			p.opts = rest[n+1 : m]
			if m < len(rest) {
				p.optEnd = rest[m]
				if m+1 < len(rest) {
					p.after = &rest[m+1]
				}
			}
		}
	}
	if len(p.pos) == 0 && !p.hasOpt && p.stop.text == "" {
		p.fail(p.eol, KindEmpty, "no operand; expected "+operandList, operandList)
	}
	c := p.command()
	if p.after != nil {
		// Text after ")" is reported once the command itself parsed.
		p.fail(*p.after, KindParen, `unexpected text after ")"`, "end of line")
	}
	return c, nil
}

func (p *parser) command() Command {
	op := p.take(operandList)
	switch asciiUpper(op.text) {
	case "INITIALIZE":
		p.begin("INITIALIZE")
		c := Initialize{VRM: p.vrm()}
		p.end()
		p.noOptions()
		return c
	case "MANAGED":
		p.begin("MANAGED")
		c := Managed{On: p.onOff("OFF|ON")}
		p.end()
		p.noOptions()
		return c
	case "SYSTEM":
		p.cmd, p.form = "SYSTEM", systemForm
		sub := p.take(systemOpsList)
		return p.system2(sub)
	case "SRVLVL":
		p.cmd, p.form = "SRVLVL", srvlvlForm
		sub := p.take(srvlvlOpsList)
		return p.srvlvl(sub)
	}
	p.fail(op, KindUnknownOperand, "unknown operand; expected "+operandList, operandList)
	return nil
}

func (p *parser) begin(name string) {
	p.cmd = name
	p.form = usageOf(name)
}

func (p *parser) system2(sub token) Command {
	switch s := asciiUpper(sub.text); s {
	case "ADD":
		p.begin("SYSTEM ADD")
		c := SystemAdd{VRM: p.vrm(), System: p.newSystem(), Level: p.level()}
		c.NoESM = p.optKeyword("NONESM")
		p.keyword("HOSTNAME")
		c.Host = p.host()
		c.CommType = "FTP"
		if p.optKeyword("COMMTYPE") {
			t := p.take("FTP")
			if asciiUpper(t.text) != "FTP" {
				p.fail(t, KindBadValue, "expected FTP (the only communication type)", "FTP")
			}
		}
		p.end()
		o := p.options(portOpts...)
		c.Port = DefaultPort
		if h, ok := o["PORT"]; ok {
			c.Port = p.port(h)
		}
		_, c.Require = o["REQUIRE"]
		return c
	case "DELETE":
		p.begin("SYSTEM DELETE")
		c := SystemDelete{VRM: p.vrm(), System: p.system()}
		p.end()
		p.noOptions()
		return c
	case "MODIFY":
		p.begin("SYSTEM MODIFY")
		c := SystemModify{VRM: p.vrm(), System: p.system()}
		if p.optKeyword("HOSTNAME") {
			c.Host = p.host()
		}
		if p.optKeyword("SRVLVL") {
			c.Level = p.level()
		}
		p.end()
		o := p.options(portOpts...)
		if h, ok := o["PORT"]; ok {
			c.Port = p.port(h)
		}
		if _, ok := o["REQUIRE"]; ok {
			t := true
			c.Require = &t
		}
		if _, ok := o["NOREQUIRE"]; ok {
			f := false
			c.Require = &f
		}
		if c.Host == "" && c.Level == "" && c.Port == 0 && c.Require == nil {
			exp := "HOSTNAME, SRVLVL, PORT, REQUIRE or NOREQUIRE"
			p.fail(p.eol, KindNoChange, "nothing to modify; expected "+exp, exp)
		}
		return c
	case "PUT2PROD":
		p.begin("SYSTEM PUT2PROD")
		c := SystemPut2Prod{VRM: p.vrm(), Target: p.target()}
		p.end()
		c.Rollout = p.rollout(p.options(rolloutOpts...))
		return c
	case "QUERY":
		p.begin("SYSTEM QUERY")
		c := SystemQuery{VRM: p.vrm(), Target: p.optTarget()}
		p.end()
		p.noOptions()
		return c
	case "SERVCHECK":
		p.begin("SYSTEM SERVCHECK")
		c := SystemServcheck{VRM: p.vrm(), Target: p.target()}
		p.end()
		p.noOptions()
		return c
	}
	p.fail(sub, KindUnknownOperand, "unknown SYSTEM operand; expected "+systemOpsList, systemOpsList)
	return nil
}

func (p *parser) srvlvl(sub token) Command {
	switch asciiUpper(sub.text) {
	case "ADD":
		p.begin("SRVLVL ADD")
		c := SrvlvlAdd{VRM: p.vrm(), Level: p.newLevel()}
		p.keyword("BASEDON")
		c.BasedOn = p.level()
		c.NoESM = p.optKeyword("NONESM")
		if p.optKeyword("DESC") {
			c.Desc = p.desc()
		}
		p.end()
		p.noOptions()
		return c
	case "DELETE":
		p.begin("SRVLVL DELETE")
		c := SrvlvlDelete{VRM: p.vrm(), Level: p.level()}
		p.end()
		p.noOptions()
		return c
	case "LOCALMOD":
		p.begin("SRVLVL LOCALMOD")
		c := SrvlvlLocalmod{VRM: p.vrm(), Level: p.level(), Component: p.component(false), Envelope: p.envelope()}
		p.end()
		o := p.options(optDef{OriginIBM, "IBM|VENDOR|CUSTOMER", ""}, optDef{OriginVendor, "IBM|VENDOR|CUSTOMER", ""},
			optDef{OriginCustomer, "IBM|VENDOR|CUSTOMER", ""})
		c.Origin = OriginCustomer
		for k := range o {
			c.Origin = k
		}
		return c
	case "SERVICE":
		p.begin("SRVLVL SERVICE")
		c := SrvlvlService{VRM: p.vrm(), Level: p.level(), Component: p.component(true), Envelope: p.envelope()}
		p.end()
		p.noOptions()
		return c
	case "PACKAGE":
		p.begin("SRVLVL PACKAGE")
		c := SrvlvlPackage{VRM: p.vrm(), Level: p.level()}
		p.end()
		p.noOptions()
		return c
	case "SEND":
		p.begin("SRVLVL SEND")
		var c SrvlvlSend
		// The vrm may be left out (the overview prints "srvlvl send
		// vm010802_BLD2 vm01 (stable"): two operands whose first is not
		// a vrm are level and target.
		if len(p.pos)-p.i > 2 || (p.more() && len(p.peek().text) == 3 && isDigits(p.peek().text)) {
			c.VRM = p.vrm()
		}
		c.Level = p.level()
		c.Target = p.target()
		p.end()
		o := p.options(append([]optDef{{"TEST", "TEST|STABLE", ""}, {"STABLE", "TEST|STABLE", ""}, {"COND", "", ""}}, rolloutOpts...)...)
		_, c.Stable = o["STABLE"]
		_, c.Cond = o["COND"]
		c.Rollout = p.rollout(o)
		return c
	case "SETLOCK":
		p.begin("SRVLVL SETLOCK")
		c := SrvlvlSetlock{VRM: p.vrm(), Level: p.level(), On: p.onOff("ON|OFF")}
		p.end()
		p.noOptions()
		return c
	case "QUERY":
		p.begin("SRVLVL QUERY")
		c := SrvlvlQuery{VRM: p.vrm(), Level: p.levelOrAll()}
		p.end()
		p.noOptions()
		return c
	case "VMFSETUP":
		p.begin("SRVLVL VMFSETUP")
		c := SrvlvlVmfsetup{VRM: p.vrm(), Level: p.level(), Component: p.component(false)}
		p.end()
		p.noOptions()
		return c
	}
	p.fail(sub, KindUnknownOperand, "unknown SRVLVL operand; expected "+srvlvlOpsList, srvlvlOpsList)
	return nil
}
