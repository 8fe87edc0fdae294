package table

import (
	"bytes"
	"fmt"
	"io"
	"sort"
)

// WriteTo writes the table: the header, then one line per entry in order,
// each tag as :NAME.value separated by one blank. The same table always
// gives the same bytes. It refuses a table that would not read back as
// itself (possible only if its exported fields were set by hand).
func (t *Table) WriteTo(w io.Writer) (int64, error) {
	b, err := t.bytes()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

func (t *Table) bytes() ([]byte, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, ":%s.%s :%s.%d :%s.%d\n", tagTable, t.Name, tagGen, t.Gen, tagEntries, len(t.entries))
	for _, e := range t.entries {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// validate checks the header fields; entries were checked when added.
func (t *Table) validate() error {
	p := checkName(t.Name)
	if p == "" && (t.KeyTag != "" || len(t.entries) > 0) { // an empty table read by Parse has no key tag yet
		p = checkName(t.KeyTag)
	}
	if p != "" {
		return t.errorf("", ReasonInvalid, ErrInvalid, "%s: table name %q, key tag %q: %s", t.label(), t.Name, t.KeyTag, p)
	}
	if t.Gen == 0 {
		return t.errorf("", ReasonInvalid, ErrInvalid, "%s: generation 0; generations start at 1", t.label())
	}
	for _, e := range t.entries {
		if e.KeyTag() != t.KeyTag {
			return t.errorf(e.Key(), ReasonInvalid, ErrInvalid, "%s: entry %s does not start with the key :%s.", t.label(), e, t.KeyTag)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
