package table

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Header tags, on line 1 in this order. ENTRIES, the number of entries,
// lets a reader tell a whole table from one cut short at a line's end;
// a header without it (written before csmsim kept it) is read as is.
const (
	tagTable   = "TABLE"
	tagGen     = "GEN"
	tagEntries = "ENTRIES"
)

// MaxTableBytes is the largest table file csmsim reads: far above what 54
// systems and their levels and roll-outs need.
const MaxTableBytes = 64 << 20

// Parse reads a table, taking its key tag from the first entry. fileName
// names the file in messages ("CSM SYSSTAT"). On any fault it returns a
// *ParseError (or the reader's error) and no table.
func Parse(fileName string, r io.Reader) (*Table, error) {
	return ParseAs(fileName, "", "", r)
}

// ParseAs is Parse that also requires the header to name table name and
// every entry to start with keyTag; an empty name or keyTag is not checked.
func ParseAs(fileName, name, keyTag string, r io.Reader) (*Table, error) {
	p := parser{file: fileName, t: &Table{File: fileName, KeyTag: strings.ToUpper(keyTag)}, entries: -1}
	// A last line without a line end was cut short in a table that counts
	// its entries, or in its header; a hand-written table (no count) may
	// just lack the final line end.
	torn := func() bool { return p.n == 1 || p.entries >= 0 }
	if err := p.scan(r, "a CSM table", torn, p.line); err != nil {
		return nil, err
	}
	if p.n == 0 {
		p.n = 1
		return nil, p.fail(&lineError{1, "the file is empty; line 1 must be the header :TABLE.name :GEN.n"})
	}
	if name != "" && !strings.EqualFold(p.t.Name, name) {
		p.n, p.off = 1, 0
		return nil, p.fail(&lineError{len(":TABLE.") + 1, fmt.Sprintf("the header names table %s, expected %s", p.t.Name, strings.ToUpper(name))})
	}
	if err := p.checkCount(); err != nil {
		return nil, err
	}
	return p.t, nil
}

// scan reads r line by line into line (without its line end), keeping
// the line number and offset p.fail reports: the part of reading a table
// file that does not depend on its format. what names the format in the
// size error; torn says whether a last line without its line end was cut
// short.
func (p *parser) scan(r io.Reader, what string, torn func() bool, line func(string) *lineError) error {
	br := bufio.NewReader(io.LimitReader(r, MaxTableBytes+1))
	for {
		l, err := br.ReadString('\n')
		if p.off+int64(len(l)) > MaxTableBytes {
			p.n++
			return p.fail(&lineError{1, fmt.Sprintf("the file is larger than %d bytes: it is not %s, or it is damaged", MaxTableBytes, what)})
		}
		if l != "" || err == nil {
			p.n++
			if err != nil && torn() {
				return p.fail(&lineError{utf8.RuneCountInString(l) + 1,
					fmt.Sprintf("the file ends in the middle of line %d, without a line end: it was cut short (a torn write)%s", p.n, recoverHint)})
			}
			if perr := line(strings.TrimSuffix(l, "\n")); perr != nil {
				return p.fail(perr)
			}
			p.off += int64(len(l))
		}
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return &Error{Table: p.file, Code: ReasonIOFailed, Err: fmt.Errorf("%w: %w", ErrIO, err),
				Msg: fmt.Sprintf("%s: reading line %d: %v", p.file, p.n+1, err)}
		}
	}
}

// checkCount refuses a file whose header's entry count is not the number
// of entries it holds.
func (p *parser) checkCount() error {
	if p.entries >= 0 && p.entries != len(p.t.entries) {
		p.n++
		return p.fail(&lineError{1, fmt.Sprintf("the header says %d entries, the file ends after %d: it was cut short or added to (a torn write)%s",
			p.entries, len(p.t.entries), recoverHint)})
	}
	return nil
}

// recoverHint says how to get a torn table back.
const recoverHint = "; the previous generation is kept beside it: csmsim table recover restores it"

type parser struct {
	file    string
	n       int   // current line number
	off     int64 // byte offset of the current line
	entries int   // the header's ENTRIES; -1 when it has none
	t       *Table
	// lines[i] is the line entry i was read from, for duplicate reports.
	lines []int
}

// lineError is a fault within one line; col is 1-based in characters.
type lineError struct {
	col     int
	problem string
}

func (p *parser) fail(e *lineError) error {
	return &ParseError{File: p.file, Line: p.n, Col: e.col, Offset: p.off, Problem: e.problem}
}

func (p *parser) line(s string) *lineError {
	if p.n == 1 {
		return p.header(s)
	}
	if strings.Trim(s, " ") == "" || s[0] == '*' {
		return nil
	}
	e, perr := parseLine(s)
	if perr != nil {
		return perr
	}
	t := p.t
	if t.KeyTag == "" {
		t.KeyTag = e.KeyTag()
	}
	if e.KeyTag() != t.KeyTag {
		return &lineError{1, fmt.Sprintf("the entry starts with :%s., but every entry of table %s starts with its key :%s.", e.KeyTag(), t.Name, t.KeyTag)}
	}
	keyCol := col(s, len(":"+t.KeyTag+"."))
	if e.Key() == "" {
		return &lineError{keyCol, fmt.Sprintf("the key :%s. has no value", t.KeyTag)}
	}
	if i := t.index(e.Key()); i >= 0 {
		return &lineError{keyCol, fmt.Sprintf("duplicate key :%s.%s (first on line %d)", t.KeyTag, e.Key(), p.lines[i])}
	}
	t.entries = append(t.entries, e)
	p.lines = append(p.lines, p.n)
	return nil
}

// header checks line 1: ":TABLE.name :GEN.n" and nothing else.
func (p *parser) header(s string) *lineError {
	if !strings.HasPrefix(strings.ToUpper(s), ":"+tagTable+".") {
		return &lineError{1, "line 1 must be the header :TABLE.name :GEN.n"}
	}
	tags, pos, perr := scanLine(s)
	if perr != nil {
		return perr
	}
	valCol := func(i int) int { return col(s, pos[i]+len(tags[i].Name)+2) }
	if c := checkName(tags[0].Value); c != "" {
		return &lineError{valCol(0), "table name: " + c}
	}
	p.t.Name = strings.ToUpper(tags[0].Value)
	switch {
	case len(tags) < 2:
		return &lineError{col(s, len(s)), "the header has no :GEN.n after the table name"}
	case tags[1].Name != tagGen:
		return &lineError{col(s, pos[1]), fmt.Sprintf("expected :GEN.n after the table name, found :%s.", tags[1].Name)}
	case len(tags) > 2 && tags[2].Name != tagEntries, len(tags) > 3:
		last := min(len(tags)-1, 3)
		if tags[2].Name != tagEntries {
			last = 2
		}
		return &lineError{col(s, pos[last]), fmt.Sprintf("unexpected tag :%s. in the header (it holds only :TABLE., :GEN. and :ENTRIES.)", tags[last].Name)}
	case len(tags) == 3:
		n, err := strconv.ParseUint(tags[2].Value, 10, 31)
		if err != nil {
			return &lineError{valCol(2), fmt.Sprintf("entry count %q is not a whole number", tags[2].Value)}
		}
		p.entries = int(n)
	}
	g, err := strconv.ParseUint(tags[1].Value, 10, 64)
	if err != nil || g == 0 {
		return &lineError{valCol(1), fmt.Sprintf("generation %q is not a whole number from 1 to %d", tags[1].Value, uint64(1<<64-1))}
	}
	p.t.Gen = g
	return nil
}

// parseLine parses one entry line.
func parseLine(s string) (Entry, *lineError) {
	tags, _, perr := scanLine(s)
	if perr != nil {
		return Entry{}, perr
	}
	return Entry{tags}, nil
}

// scanLine splits a tag line into tags, with the byte offset of each tag's
// ':'. A ':' at the start or after a blank and followed by a name character
// starts a tag, which must then be a name and '.'; any other ':' is text.
func scanLine(s string) ([]Tag, []int, *lineError) {
	if i, problem := badChar(s); i >= 0 {
		return nil, nil, &lineError{col(s, i), problem}
	}
	if s == "" || s[0] != ':' || len(s) < 2 || !IsNameChar(s[1]) {
		return nil, nil, &lineError{1, "the line does not start with a tag such as :NAME."}
	}
	var tags []Tag
	var pos []int
	for at := 0; at < len(s); {
		j := at + 1
		for j < len(s) && IsNameChar(s[j]) {
			j++
		}
		if j == len(s) || s[j] != '.' {
			return nil, nil, &lineError{col(s, at), fmt.Sprintf("tag %q has no '.'", s[at:j])}
		}
		name := strings.ToUpper(s[at+1 : j])
		next := nextTag(s, j+1)
		for k, t := range tags {
			if t.Name == name {
				return nil, nil, &lineError{col(s, at), fmt.Sprintf("tag :%s. appears twice (first at column %d)", name, col(s, pos[k]))}
			}
		}
		tags = append(tags, Tag{name, strings.Trim(s[j+1:next], " ")})
		pos = append(pos, at)
		at = next
	}
	return tags, pos, nil
}

// nextTag is the offset of the next tag start at or after from, or len(s).
func nextTag(s string, from int) int {
	for k := from; k+1 < len(s); k++ {
		if s[k] == ':' && s[k-1] == ' ' && IsNameChar(s[k+1]) {
			return k
		}
	}
	return len(s)
}

// col is the 1-based character column of byte offset i in s.
func col(s string, i int) int {
	return utf8.RuneCountInString(s[:i]) + 1
}
