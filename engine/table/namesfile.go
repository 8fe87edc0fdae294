package table

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// The CMS NAMES tags MAINTCSM NAMES uses; every other tag (:userid.,
// :node., :name., ...) is read and ignored, so a sysprog's own NAMES file
// serves as it is.
const (
	namesNick = "NICK"
	namesList = TagList
)

// ParseNames reads MAINTCSM NAMES as a CMS NAMES file: entries that start
// with :nick.name, each tag's value running to the next tag, across lines
// (a line that does not start with a tag continues the value before it),
// tags in any order after :nick., lines starting with * as comments.
// Only :nick. and :list. are kept; an entry without :list. names a user,
// not systems, and is left out. A first line :TABLE.NAMES :GEN.n (as
// csmsim writes the file) is read as the table's header; without one the
// file is generation 1, as a table is when created.
// Faults are *ParseError with the line, column and what to do.
func ParseNames(fileName string, r io.Reader) (*Table, error) {
	p := &namesParser{parser: parser{file: fileName, t: &Table{File: fileName, Name: Names().Name, KeyTag: namesNick, Gen: 1}, entries: -1},
		first: map[string]int{}}
	// Only a file csmsim wrote (with a header and an entry count) can be
	// told cut short by its missing last line end.
	torn := func() bool { return p.entries >= 0 }
	line := func(l string) *lineError { return p.line(strings.TrimSuffix(l, "\r")) }
	if err := p.scan(r, "a NAMES file", torn, line); err != nil {
		return nil, err
	}
	if perr := p.finish(); perr != nil {
		return nil, p.fail(perr)
	}
	if err := p.checkCount(); err != nil {
		return nil, err
	}
	return p.t, nil
}

type namesParser struct {
	parser
	cur   *namesEntry    // the entry being read, nil before the first :nick.
	first map[string]int // nickname -> the line it was defined on
}

// namesEntry is one :nick. entry as read so far.
type namesEntry struct {
	nick     string
	line     int // where :nick. is
	col      int
	off      int64  // the offset of its line
	list     string // the members, blank-separated
	listLine int    // the line of :list., 0 if none yet
	tag      string // the tag a continuation line adds to
	nickMore int    // the first line the nickname went on to, 0 if none
}

func (p *namesParser) line(s string) *lineError {
	trimmed := strings.TrimLeft(s, " ")
	switch {
	case p.n == 1 && strings.HasPrefix(strings.ToUpper(s), ":"+tagTable+"."):
		if perr := p.header(s); perr != nil {
			return perr
		}
		if p.t.Name != Names().Name {
			return &lineError{len(":TABLE.") + 1, fmt.Sprintf("the header names table %s; MAINTCSM NAMES holds NAMES (or drop the header line)", p.t.Name)}
		}
		return nil
	case trimmed == "" || s[0] == '*':
		return nil
	}
	if i, problem := badChar(s); i >= 0 {
		return &lineError{col(s, i), problem + "; a NAMES file holds text only"}
	}
	at := len(s) - len(trimmed)
	// Text before the line's first tag continues the value before it.
	next := at
	if !isTagStart(s, at) {
		next = nextTag(s, at+1)
		if perr := p.more(s, at, strings.Trim(s[at:next], " ")); perr != nil {
			return perr
		}
	}
	for at = next; at < len(s); at = next {
		j := at + 1
		for j < len(s) && IsNameChar(s[j]) {
			j++
		}
		if j == len(s) || s[j] != '.' {
			return &lineError{col(s, at), fmt.Sprintf("tag %q has no '.': a tag is :name. followed by its value", s[at:j])}
		}
		name := strings.ToUpper(s[at+1 : j])
		next = nextTag(s, j+1)
		if perr := p.tag(s, at, name, strings.Trim(s[j+1:next], " ")); perr != nil {
			return perr
		}
	}
	return nil
}

// isTagStart says a tag starts at s[i]: ':' and a name character.
func isTagStart(s string, i int) bool {
	return i+1 < len(s) && s[i] == ':' && IsNameChar(s[i+1])
}

// tag takes one tag of the current line, at byte at.
func (p *namesParser) tag(s string, at int, name, value string) *lineError {
	if name == namesNick {
		if perr := p.finish(); perr != nil {
			return perr
		}
		p.cur = &namesEntry{nick: value, line: p.n, col: col(s, at), off: p.off, tag: name}
		return nil
	}
	e := p.cur
	if e == nil {
		return &lineError{col(s, at), fmt.Sprintf("tag :%s. comes before the first :nick.; every entry of a NAMES file starts with :nick.name", name)}
	}
	e.tag = name
	if name != namesList {
		return nil // a CMS tag CSM has no use for
	}
	if e.listLine != 0 {
		return &lineError{col(s, at), fmt.Sprintf("nickname %s has a second :list. (the first is on line %d); put all its members in one :list., continued on the next lines",
			strings.ToUpper(e.nick), e.listLine)}
	}
	e.list, e.listLine = value, p.n
	return nil
}

// more adds a continuation line's text to the value of the tag before it.
func (p *namesParser) more(s string, at int, text string) *lineError {
	e := p.cur
	if e == nil {
		return &lineError{col(s, at), "text before the first :nick.; every entry of a NAMES file starts with :nick.name (comment lines start with *)"}
	}
	switch e.tag {
	case namesNick:
		if e.nickMore == 0 {
			e.nickMore = p.n
		}
		e.nick = strings.TrimSpace(e.nick + " " + text)
	case namesList:
		e.list = strings.TrimSpace(e.list + " " + text)
	}
	return nil
}

// finish checks the entry read so far and adds it to the table.
func (p *namesParser) finish() *lineError {
	e := p.cur
	p.cur = nil
	if e == nil {
		return nil
	}
	// The entry's faults are reported at its :nick., wherever it ended.
	fault := func(problem string) *lineError {
		p.n, p.off = e.line, e.off
		return &lineError{e.col, problem}
	}
	words := strings.Fields(e.nick)
	switch {
	case len(words) == 0:
		return fault("a :nick. without a name; write :nick.name")
	case len(words) > 1:
		where := ""
		if e.nickMore != 0 {
			where = fmt.Sprintf(" (continued on line %d)", e.nickMore)
		}
		return fault(fmt.Sprintf("nickname %q is more than one word%s; a nickname is one word: put the members in :list.", e.nick, where))
	}
	nick := strings.ToUpper(words[0])
	if first, dup := p.first[nick]; dup {
		return fault(fmt.Sprintf("nickname %s is defined twice (first on line %d); keep one entry", nick, first))
	}
	p.first[nick] = e.line
	if e.listLine == 0 {
		return nil // a user's nickname (:userid., :node.): no systems
	}
	if err := p.t.Add(NewEntry(namesNick, nick, namesList, strings.Join(strings.Fields(e.list), " "))); err != nil {
		var te *Error
		if errors.As(err, &te) {
			return fault(te.Msg)
		}
		return fault(err.Error())
	}
	p.lines = append(p.lines, e.line)
	return nil
}
