package cms_test

import (
	"errors"
	"testing"

	"github.com/csmsim/csmsim/engine/cms"
)

// FuzzParseFileID checks that parsing never panics, that every refusal is a
// *NameError, and that an accepted id prints to text that parses back to
// the same id.
func FuzzParseFileID(f *testing.F) {
	for _, s := range []string{"profile exec a1", "$CSMCMD $MSGLOG", "A B C7", "a.b c", "x y z", "é b", "  a  b  a0 ", "TOOLONGNAME X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := cms.ParseFileID(s)
		if err != nil {
			var ne *cms.NameError
			if !errors.As(err, &ne) {
				t.Fatalf("ParseFileID(%q): error %v is not a *NameError", s, err)
			}
			return
		}
		again, err := cms.ParseFileID(id.String())
		if err != nil {
			t.Fatalf("ParseFileID(%q) = %q, which does not parse: %v", s, id, err)
		}
		if again != id {
			t.Fatalf("ParseFileID(%q) = %q, reparsed as %q", s, id, again)
		}
	})
}
