package table

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Tag is one :NAME.value pair of an entry.
type Tag struct{ Name, Value string }

// Entry is one line of a table: tags in the order read or added. Its first
// tag is the key. The zero Entry has no tags.
type Entry struct{ tags []Tag }

// NewEntry builds an entry from a key tag and value and further tag, value
// pairs; a trailing tag without a value gets "". Names and values are
// checked when the entry is added to a table.
func NewEntry(keyTag, key string, more ...string) Entry {
	var e Entry
	e.Set(keyTag, key)
	for i := 0; i < len(more); i += 2 {
		v := ""
		if i+1 < len(more) {
			v = more[i+1]
		}
		e.Set(more[i], v)
	}
	return e
}

// ParseEntry parses one tag line, e.g. from a command's operands.
func ParseEntry(line string) (Entry, error) {
	e, perr := parseLine(line)
	if perr != nil {
		return Entry{}, &Error{Code: ReasonInvalid, Err: ErrInvalid,
			Msg: fmt.Sprintf("entry %q: column %d: %s", line, perr.col, perr.problem)}
	}
	return e, nil
}

// Get is the value of tag (case-insensitive) and whether the entry has it.
func (e Entry) Get(tag string) (string, bool) {
	if i := e.index(tag); i >= 0 {
		return e.tags[i].Value, true
	}
	return "", false
}

// Set gives tag a value, in place if the entry has the tag, else at the end.
// The tag name is folded to upper case and the value trimmed of blanks, as
// they would be when read back.
func (e *Entry) Set(tag, value string) {
	t := Tag{strings.ToUpper(tag), strings.Trim(value, " ")}
	if i := e.index(tag); i >= 0 {
		e.tags[i] = t
		return
	}
	e.tags = append(e.tags, t)
}

// Remove drops tag from the entry and reports whether it was there.
func (e *Entry) Remove(tag string) bool {
	i := e.index(tag)
	if i < 0 {
		return false
	}
	e.tags = append(e.tags[:i:i], e.tags[i+1:]...)
	return true
}

// Tags are the entry's tags in order; changing the slice does not change e.
func (e Entry) Tags() []Tag { return append([]Tag(nil), e.tags...) }

// KeyTag is the name of the first tag; "" for an empty entry.
func (e Entry) KeyTag() string {
	if len(e.tags) == 0 {
		return ""
	}
	return e.tags[0].Name
}

// Key is the value of the first tag; "" for an empty entry.
func (e Entry) Key() string {
	if len(e.tags) == 0 {
		return ""
	}
	return e.tags[0].Value
}

// Clone is a copy that shares nothing with e.
func (e Entry) Clone() Entry { return Entry{e.Tags()} }

// String is the entry as a tag line, e.g. ":NICK.EAST :LIST.VM01 VM02".
func (e Entry) String() string {
	var b strings.Builder
	for i, t := range e.tags {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(":" + t.Name + "." + t.Value)
	}
	return b.String()
}

func (e Entry) index(tag string) int {
	for i, t := range e.tags {
		if strings.EqualFold(t.Name, tag) {
			return i
		}
	}
	return -1
}

// check refuses an entry that would not read back as itself: bad tag names,
// repeated tags, values that would split into tags or break the line.
func (e Entry) check() string {
	if len(e.tags) == 0 {
		return "the entry has no tags"
	}
	for i, t := range e.tags {
		if p := checkName(t.Name); p != "" {
			return fmt.Sprintf("tag %q: %s", ":"+t.Name+".", p)
		}
		for _, u := range e.tags[:i] {
			if u.Name == t.Name {
				return fmt.Sprintf("tag :%s. appears twice", t.Name)
			}
		}
		if p := checkValue(t.Value); p != "" {
			return fmt.Sprintf("value %q of :%s.: %s", t.Value, t.Name, p)
		}
	}
	if e.tags[0].Value == "" {
		return fmt.Sprintf("the key :%s. has no value", e.tags[0].Name)
	}
	return ""
}

// IsNameChar reports whether c may appear in a tag name.
func IsNameChar(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_$#@-", c) >= 0
}

func checkName(name string) string {
	if name == "" {
		return "empty tag name"
	}
	for i := 0; i < len(name); i++ {
		if !IsNameChar(name[i]) {
			return fmt.Sprintf("character %q not allowed in a tag name (use letters, digits, _ $ # @ -)", name[i])
		}
	}
	return ""
}

// checkValue refuses what Parse would not read back: control characters,
// invalid UTF-8, surrounding blanks, and a blank followed by ':' and a name
// character, which Parse takes for the start of a tag.
func checkValue(v string) string {
	if i, p := badChar(v); i >= 0 {
		return p
	}
	if strings.Trim(v, " ") != v {
		return "leading or trailing blanks"
	}
	for i := 0; i+2 < len(v); i++ {
		if v[i] == ' ' && v[i+1] == ':' && IsNameChar(v[i+2]) {
			return fmt.Sprintf("contains %q, which would read back as the start of a tag; drop the blank before ':'", v[i:i+3])
		}
	}
	return ""
}

// badChar finds the first control character or invalid UTF-8 in s: its
// byte index and a description, or -1.
func badChar(s string) (int, string) {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return i, "invalid UTF-8"
		case r < 0x20 || r == 0x7f:
			return i, fmt.Sprintf("control character 0x%02X not allowed", r)
		}
	}
	return -1, ""
}
