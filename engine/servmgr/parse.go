package servmgr

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
)

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
	first := p.take("text")
	words := []string{first.text}
	for p.more() {
		t := p.take("text")
		// The description becomes a tag value of the Service Level Table,
		// where a blank, ':' and a name character start a new tag.
		if len(t.text) > 1 && t.text[0] == ':' && table.IsNameChar(t.text[1]) {
			p.fail(t, KindBadText, fmt.Sprintf("description: a word that starts with ':' (%s) would read back as a tag of the "+
				"Service Level Table; write it without the ':' or join it to the word before", t.text), "text")
		}
		words = append(words, t.text)
	}
	text := strings.Join(words, " ")
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
		o := p.options(systemOpts...)
		c.Port = DefaultPort
		if h, ok := o["PORT"]; ok {
			c.Port = p.port(h)
		}
		_, c.Require = o["REQUIRE"]
		_, c.NoContact = o["NOCONTACT"]
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
		o := p.options(systemOpts...)
		if h, ok := o["PORT"]; ok {
			c.Port = p.port(h)
		}
		_, c.NoContact = o["NOCONTACT"]
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
