package table

import (
	"fmt"
	"strings"
)

// Table is a tag table in memory: a header and entries in file order.
// Changes are checked as they are made, so a Table can always be written
// and read back as itself.
type Table struct {
	File   string // the file it was read from, for messages ("CSM SYSSTAT"); may be empty
	Name   string // from the header, e.g. "SYSSTAT"
	KeyTag string // the first tag of every entry, e.g. "SYSTEM"
	Gen    uint64 // generation; a Store bumps it on every update

	entries []Entry
}

// New is an empty table at generation 1.
func New(name, keyTag string) (*Table, error) {
	for _, n := range []string{name, keyTag} {
		if p := checkName(n); p != "" {
			return nil, &Error{Table: name, Code: ReasonInvalid, Err: ErrInvalid,
				Msg: fmt.Sprintf("table %q, key tag %q: %s", name, keyTag, p)}
		}
	}
	return &Table{Name: strings.ToUpper(name), KeyTag: strings.ToUpper(keyTag), Gen: 1}, nil
}

// label names the table in messages.
func (t *Table) label() string {
	if t.File != "" {
		return t.File
	}
	return "table " + t.Name
}

// Len is the number of entries.
func (t *Table) Len() int { return len(t.entries) }

// List is a copy of the entries in file order.
func (t *Table) List() []Entry {
	out := make([]Entry, len(t.entries))
	for i, e := range t.entries {
		out[i] = e.Clone()
	}
	return out
}

// Get is a copy of the entry whose key is key (case-insensitive).
func (t *Table) Get(key string) (Entry, bool) {
	if i := t.index(key); i >= 0 {
		return t.entries[i].Clone(), true
	}
	return Entry{}, false
}

// Add appends e. It is refused if its first tag is not the key tag, its
// key exists, or it would not read back as itself.
func (t *Table) Add(e Entry) error {
	e = e.Clone()
	if t.KeyTag == "" && len(t.entries) == 0 { // read by Parse while empty: the first entry decides
		t.KeyTag = e.KeyTag()
	}
	if err := t.check(e); err != nil {
		return err
	}
	if t.index(e.Key()) >= 0 {
		return t.errorf(e.Key(), ReasonDuplicateKey, ErrDuplicateKey,
			"%s already has :%s.%s; modify it or delete it first", t.label(), t.KeyTag, e.Key())
	}
	t.entries = append(t.entries, e)
	return nil
}

// Modify changes the entry with key through fn, which gets a copy: the
// entry is replaced only if the result is valid and keeps its key.
func (t *Table) Modify(key string, fn func(*Entry)) error {
	i := t.index(key)
	if i < 0 {
		return t.noSuchKey(key)
	}
	e := t.entries[i].Clone()
	fn(&e)
	if err := t.check(e); err != nil {
		return err
	}
	if old := t.entries[i].Key(); e.Key() != old {
		return t.errorf(old, ReasonInvalid, ErrInvalid,
			"%s: the key :%s.%s cannot change to %q; delete the entry and add a new one", t.label(), t.KeyTag, old, e.Key())
	}
	t.entries[i] = e
	return nil
}

// Set is Modify that sets the given tags.
func (t *Table) Set(key string, tags map[string]string) error {
	return t.Modify(key, func(e *Entry) {
		for _, name := range sortedKeys(tags) { // new tags go at the end in a stable order
			e.Set(name, tags[name])
		}
	})
}

// Delete removes the entry with key.
func (t *Table) Delete(key string) error {
	i := t.index(key)
	if i < 0 {
		return t.noSuchKey(key)
	}
	t.entries = append(t.entries[:i:i], t.entries[i+1:]...)
	return nil
}

// Clone is a deep copy.
func (t *Table) Clone() *Table {
	c := *t
	c.entries = t.List()
	return &c
}

func (t *Table) index(key string) int {
	for i, e := range t.entries {
		if strings.EqualFold(e.Key(), key) {
			return i
		}
	}
	return -1
}

func (t *Table) check(e Entry) error {
	if p := e.check(); p != "" {
		return t.errorf(e.Key(), ReasonInvalid, ErrInvalid, "%s: entry %s: %s", t.label(), e, p)
	}
	if e.KeyTag() != t.KeyTag {
		return t.errorf(e.Key(), ReasonInvalid, ErrInvalid,
			"%s: entry %s: every entry of table %s starts with its key :%s.", t.label(), e, t.Name, t.KeyTag)
	}
	return nil
}

func (t *Table) noSuchKey(key string) error {
	return t.errorf(key, ReasonNoSuchKey, ErrNoSuchKey, "%s has no :%s.%s", t.label(), t.KeyTag, key)
}

func (t *Table) errorf(key, code string, err error, format string, a ...any) error {
	return &Error{Table: t.label(), Key: key, Code: code, Err: err, Msg: fmt.Sprintf(format, a...)}
}
