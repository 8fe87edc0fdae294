// Package cms holds the CMS naming rules and the small interfaces through which
// the CSM engine reaches CMS files: minidisk file areas and SFS file pools.
// It is pure Go; the emulated world (sim/cmsfs) and any real-host adapter
// implement these interfaces.
package cms

import (
	"fmt"
	"strings"
)

// NameError reports an invalid CMS name: which part of it and why.
type NameError struct {
	Part   string // "filename", "filetype", "filemode", "fileid", "directory", "filepool", "filespace", "userid", "vaddr", "device type"
	Value  string // the value as given, before folding
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Part, e.Value, e.Reason)
}

const nameChars = "A-Z 0-9 $ # @ + - : _"

// nameChar reports whether r may appear in a CMS file name, file type,
// directory name or userid.
func nameChar(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("$#@+-:_", r)
}

// checkName validates one name part and folds it to upper case. Characters
// are checked before the length so a non-ASCII rune is reported as what it
// is rather than as extra length.
func checkName(part, v string, maxLen int) (string, error) {
	if v == "" {
		return "", &NameError{part, v, "empty"}
	}
	for _, r := range v {
		if !nameChar(r) {
			return "", &NameError{part, v, fmt.Sprintf("character %q not allowed (use %s)", r, nameChars)}
		}
	}
	if len(v) > maxLen {
		return "", &NameError{part, v, fmt.Sprintf("more than %d characters", maxLen)}
	}
	return strings.ToUpper(v), nil
}

// ParseUserID validates a z/VM userid (1-8 name characters) and folds it to
// upper case. File spaces are named by userids.
func ParseUserID(s string) (string, error) {
	return checkName("userid", s, 8)
}

// ParseVaddr validates a virtual device address of 1-4 hex digits and returns
// it as 4 upper-case digits, e.g. "190" -> "0190".
func ParseVaddr(s string) (string, error) {
	if s == "" || len(s) > 4 || strings.Trim(s, "0123456789abcdefABCDEF") != "" {
		return "", &NameError{"vaddr", s, "must be 1-4 hex digits"}
	}
	return strings.Repeat("0", 4-len(s)) + strings.ToUpper(s), nil
}

// FileMode is a CMS file mode: an access letter and a mode number 0-6.
// The zero FileMode means "not given".
type FileMode struct {
	letter byte
	number byte
}

// ParseFileMode parses "A", "a1", "B0"; a missing mode number means 1.
func ParseFileMode(s string) (FileMode, error) {
	bad := func(reason string) (FileMode, error) {
		return FileMode{}, &NameError{"filemode", s, reason}
	}
	switch {
	case s == "":
		return bad("empty")
	case len(s) > 2:
		return bad("more than 2 characters (a letter A-Z and a mode number 0-6)")
	}
	l := s[0] &^ 0x20 // ASCII upper-casing; anything else fails the range check
	if l < 'A' || l > 'Z' {
		return bad(fmt.Sprintf("%q is not a letter A-Z", s[0]))
	}
	n := byte('1')
	if len(s) == 2 {
		n = s[1]
		if n < '0' || n > '6' {
			return bad(fmt.Sprintf("mode number %q is not a digit 0-6", n))
		}
	}
	return FileMode{letter: l, number: n - '0'}, nil
}

// Letter is the access letter, 'A'..'Z', or 0 for the zero FileMode.
func (m FileMode) Letter() byte { return m.letter }

// Number is the mode number 0-6.
func (m FileMode) Number() int { return int(m.number) }

// IsZero reports whether no file mode was given.
func (m FileMode) IsZero() bool { return m.letter == 0 }

func (m FileMode) String() string {
	if m.IsZero() {
		return ""
	}
	return string([]byte{m.letter, '0' + m.number})
}

// FileID names a CMS file: fn ft [fm]. Its fields can only be set through
// NewFileID or ParseFileID, so every non-zero FileID is valid and upper case.
type FileID struct {
	fn, ft string
	fm     FileMode
}

// NewFileID builds a FileID from its parts; fm may be empty (no file mode).
func NewFileID(fn, ft, fm string) (FileID, error) {
	var id FileID
	var err error
	if id.fn, err = checkName("filename", fn, 8); err != nil {
		return FileID{}, err
	}
	if id.ft, err = checkName("filetype", ft, 8); err != nil {
		return FileID{}, err
	}
	if fm != "" {
		if id.fm, err = ParseFileMode(fm); err != nil {
			return FileID{}, err
		}
	}
	return id, nil
}

// ParseFileID parses "fn ft" or "fn ft fm", words separated by blanks,
// e.g. "profile exec a1" -> PROFILE EXEC A1.
func ParseFileID(s string) (FileID, error) {
	w := strings.Fields(s)
	switch len(w) {
	case 2:
		return NewFileID(w[0], w[1], "")
	case 3:
		return NewFileID(w[0], w[1], w[2])
	}
	return FileID{}, &NameError{"fileid", s, fmt.Sprintf("want \"fn ft [fm]\", got %d words", len(w))}
}

// MustParseFileID is ParseFileID for constants; it panics on an invalid id.
func MustParseFileID(s string) FileID {
	id, err := ParseFileID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// FN is the file name.
func (id FileID) FN() string { return id.fn }

// FT is the file type.
func (id FileID) FT() string { return id.ft }

// FM is the file mode; zero when none was given.
func (id FileID) FM() FileMode { return id.fm }

// IsZero reports whether id is the zero FileID (no file).
func (id FileID) IsZero() bool { return id.fn == "" }

// Name is "FN FT", without the file mode.
func (id FileID) Name() string { return id.fn + " " + id.ft }

// String is "FN FT" or "FN FT FM".
func (id FileID) String() string {
	if id.fm.IsZero() {
		return id.Name()
	}
	return id.Name() + " " + id.fm.String()
}

// Less orders file ids by file name, then file type, as CMS LISTFILE does.
func (id FileID) Less(o FileID) bool {
	if id.fn != o.fn {
		return id.fn < o.fn
	}
	return id.ft < o.ft
}
