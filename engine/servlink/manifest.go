package servlink

import (
	"fmt"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

// ManifestName is the name of the first tar member of every stream.
const ManifestName = "MANIFEST.JSON"

// MaxManifestSize bounds the manifest member; a larger one is refused with
// ReasonBadManifest before it is read (it is the only member held in memory).
const MaxManifestSize = 16 << 20

// MaxTime is the largest manifest Time a USTAR header can carry.
const MaxTime = 1<<33 - 1

// Kind is what a stream is.
type Kind string

const (
	KindRSU      Kind = "RSU"      // IBM recommended service upgrade envelope
	KindCOR      Kind = "COR"      // IBM corrective service envelope
	KindLocalMod Kind = "LOCALMOD" // local modification envelope
	KindServlink Kind = "SERVLINK" // one component of a service level package
	KindPackage  Kind = "PACKAGE"  // package manifest: lists the SERVLINKs, no parts
)

// Kinds lists the known kinds.
func Kinds() []Kind { return []Kind{KindRSU, KindCOR, KindLocalMod, KindServlink, KindPackage} }

// IsEnvelope reports whether k is a service envelope (RSU, COR, LOCALMOD).
func (k Kind) IsEnvelope() bool { return k == KindRSU || k == KindCOR || k == KindLocalMod }

// Areas, the VMSES/E service directories of a component.
const (
	AreaDelta = "DELTA"
	AreaApply = "APPLY"
	AreaBuild = "BUILD"
)

// Areas lists the areas in their canonical order.
func Areas() []string { return []string{AreaDelta, AreaApply, AreaBuild} }

// Origins lists the origins of a local modification.
func Origins() []string { return []string{"IBM", "VENDOR", "CUSTOMER"} }

// Manifest is the first member of every stream (MANIFEST.JSON). See FORMAT.md.
type Manifest struct {
	Format     int           `json:"format"`            // FormatVersion
	Kind       Kind          `json:"kind"`              //
	Name       string        `json:"name"`              // envelope name (RSU0801), SERVLINK component (CMS), PACKAGE level
	Release    string        `json:"release"`           // "720"
	Level      string        `json:"level,omitempty"`   // service level (SERVLINK/PACKAGE); "" for envelopes
	BasedOn    string        `json:"basedon,omitempty"` // based-on level (SERVLINK/PACKAGE), for COND checks
	Origin     string        `json:"origin,omitempty"`  // LOCALMOD: IBM|VENDOR|CUSTOMER
	Time       int64         `json:"time,omitempty"`    // Unix seconds: the mtime of every member; 0 if none
	Components []string      `json:"components"`        // components covered, sorted
	Parts      []Part        `json:"parts,omitempty"`   // in stream order
	Servlinks  []ServlinkRef `json:"servlinks,omitempty"`
}

// Part is one file carried by a stream.
type Part struct {
	Component string `json:"component"`         // CP, CMS, REXX, TCPIP, VMSES, ...
	Area      string `json:"area"`              // DELTA | APPLY | BUILD
	File      string `json:"file"`              // CMS file id "FN FT", upper case, one blank
	Size      int64  `json:"size"`              // bytes
	SHA256    string `json:"sha256"`            // 64 lower-case hex digits
	PTF       string `json:"ptf,omitempty"`     // e.g. UM12345; required in RSU and COR
	Nucleus   bool   `json:"nucleus,omitempty"` // part of the CMS nucleus: SERVICE must rebuild it
}

// ServlinkRef is one SERVLINK file listed by a PACKAGE manifest.
type ServlinkRef struct {
	Component string `json:"component"`
	File      string `json:"file"` // CMS file id, e.g. "CMS SERVLINK"
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
}

// Member is the tar member name of p: <COMPONENT>/<AREA>/<FN>.<FT>. It
// assumes p.File is canonical (as Manifest.Check demands).
func (p Part) Member() string {
	return p.Component + "/" + p.Area + "/" + strings.Replace(p.File, " ", ".", 1)
}

// Label names m in messages: "<KIND> <NAME>", e.g. "SERVLINK CMS".
func (m Manifest) Label() string {
	if m.Kind == "" && m.Name == "" {
		return ""
	}
	return strings.TrimSpace(string(m.Kind) + " " + m.Name)
}

// Clone returns a deep copy of m.
func (m Manifest) Clone() Manifest {
	m.Components = slices.Clone(m.Components)
	m.Parts = slices.Clone(m.Parts)
	m.Servlinks = slices.Clone(m.Servlinks)
	return m
}

// Check validates m as NewWriter and NewReader do, and returns the first
// fault as an *Error (Member MANIFEST.JSON, Offset 0) with ReasonUnsupported,
// ReasonBadName or ReasonDuplicate.
func (m Manifest) Check() error {
	if err := m.check(); err != nil {
		return err
	}
	return nil
}

// check returns a typed nil on success so callers can test err != nil.
func (m Manifest) check() *Error {
	bad := func(r ReasonCode, format string, a ...any) *Error {
		return &Error{Package: m.Label(), Member: ManifestName, Reason: r, Detail: fmt.Sprintf(format, a...)}
	}
	if m.Format != FormatVersion {
		return bad(ReasonUnsupported, "format %d; this release reads format %d", m.Format, FormatVersion)
	}
	if !slices.Contains(Kinds(), m.Kind) {
		return bad(ReasonUnsupported, "kind %q; known kinds are RSU, COR, LOCALMOD, SERVLINK, PACKAGE", m.Kind)
	}

	// Name.
	switch m.Kind {
	case KindPackage:
		if err := checkLevel(m.Name); err != "" {
			return bad(ReasonBadName, "name %q: %s", m.Name, err)
		}
	default:
		if err := checkWord(m.Name); err != "" {
			return bad(ReasonBadName, "name %q: %s", m.Name, err)
		}
	}
	if len(m.Release) != 3 || strings.Trim(m.Release, "0123456789") != "" {
		return bad(ReasonBadName, "release %q: must be 3 digits, e.g. 720", m.Release)
	}

	// Level, based-on level, origin, time.
	if m.Kind.IsEnvelope() {
		if m.Level != "" || m.BasedOn != "" {
			return bad(ReasonBadName, "level %q, basedon %q: an envelope has no service level", m.Level, m.BasedOn)
		}
	} else {
		if err := checkLevel(m.Level); err != "" {
			return bad(ReasonBadName, "level %q: %s", m.Level, err)
		}
		if err := checkLevel(m.BasedOn); err != "" {
			return bad(ReasonBadName, "basedon %q: %s (BASE for a level built on the base)", m.BasedOn, err)
		}
	}
	if m.Kind == KindLocalMod {
		if !slices.Contains(Origins(), m.Origin) {
			return bad(ReasonBadName, "origin %q: must be IBM, VENDOR or CUSTOMER", m.Origin)
		}
	} else if m.Origin != "" {
		return bad(ReasonBadName, "origin %q: only a LOCALMOD has an origin", m.Origin)
	}
	if m.Time < 0 || m.Time > MaxTime {
		return bad(ReasonBadName, "time %d: must be 0..%d (Unix seconds)", m.Time, int64(MaxTime))
	}

	// Components.
	for i, c := range m.Components {
		if err := checkWord(c); err != "" {
			return bad(ReasonBadName, "components[%d] %q: %s", i, c, err)
		}
		if i > 0 && c == m.Components[i-1] {
			return bad(ReasonDuplicate, "component %q listed twice", c)
		}
		if i > 0 && c < m.Components[i-1] {
			return bad(ReasonBadName, "components not sorted: %q after %q", c, m.Components[i-1])
		}
	}
	if m.Kind == KindServlink && (len(m.Components) != 1 || m.Components[0] != m.Name) {
		return bad(ReasonBadName, "a SERVLINK covers exactly its own component: want components [%q], have %q", m.Name, m.Components)
	}

	// Parts.
	used := make(map[string]bool, len(m.Components))
	switch {
	case m.Kind == KindPackage && len(m.Parts) > 0:
		return bad(ReasonBadName, "a PACKAGE manifest carries no parts (it has %d); the parts belong in its SERVLINKs", len(m.Parts))
	case m.Kind != KindPackage && len(m.Parts) == 0:
		return bad(ReasonBadName, "no parts")
	}
	seen := make(map[string]int, len(m.Parts))
	for i, p := range m.Parts {
		at := fmt.Sprintf("parts[%d]", i)
		if err := checkWord(p.Component); err != "" {
			return bad(ReasonBadName, "%s component %q: %s", at, p.Component, err)
		}
		if _, ok := slices.BinarySearch(m.Components, p.Component); !ok {
			return bad(ReasonBadName, "%s component %q is not in components %q", at, p.Component, m.Components)
		}
		used[p.Component] = true
		if !slices.Contains(Areas(), p.Area) {
			return bad(ReasonBadName, "%s area %q: must be DELTA, APPLY or BUILD", at, p.Area)
		}
		if err := checkFile(p.File); err != "" {
			return bad(ReasonBadName, "%s file %q: %s", at, p.File, err)
		}
		if p.Size < 0 {
			return bad(ReasonBadName, "%s (%s) size %d: negative", at, p.File, p.Size)
		}
		if !isSHA256(p.SHA256) {
			return bad(ReasonBadName, "%s (%s) sha256 %q: want 64 lower-case hex digits", at, p.File, p.SHA256)
		}
		if p.PTF != "" {
			if err := checkWord(p.PTF); err != "" {
				return bad(ReasonBadName, "%s (%s) ptf %q: %s", at, p.File, p.PTF, err)
			}
		} else if m.Kind == KindRSU || m.Kind == KindCOR {
			return bad(ReasonBadName, "%s (%s): no PTF; every part of an %s envelope names its PTF", at, p.File, m.Kind)
		}
		mem := p.Member()
		if j, dup := seen[mem]; dup {
			return bad(ReasonDuplicate, "parts[%d] and parts[%d] are both %s", j, i, mem)
		}
		seen[mem] = i
	}

	// Servlinks.
	if m.Kind != KindPackage && len(m.Servlinks) > 0 {
		return bad(ReasonBadName, "only a PACKAGE manifest lists servlinks")
	}
	for i, s := range m.Servlinks {
		at := fmt.Sprintf("servlinks[%d]", i)
		if err := checkWord(s.Component); err != "" {
			return bad(ReasonBadName, "%s component %q: %s", at, s.Component, err)
		}
		if _, ok := slices.BinarySearch(m.Components, s.Component); !ok {
			return bad(ReasonBadName, "%s component %q is not in components %q", at, s.Component, m.Components)
		}
		if used[s.Component] {
			return bad(ReasonDuplicate, "two servlinks for component %s", s.Component)
		}
		used[s.Component] = true
		if err := checkFile(s.File); err != "" {
			return bad(ReasonBadName, "%s file %q: %s", at, s.File, err)
		}
		if s.Size < 0 {
			return bad(ReasonBadName, "%s (%s) size %d: negative", at, s.File, s.Size)
		}
		if !isSHA256(s.SHA256) {
			return bad(ReasonBadName, "%s (%s) sha256 %q: want 64 lower-case hex digits", at, s.File, s.SHA256)
		}
	}
	for _, c := range m.Components {
		if !used[c] {
			return bad(ReasonBadName, "component %s is listed but has no %s", c, map[bool]string{true: "servlink", false: "parts"}[m.Kind == KindPackage])
		}
	}
	return nil
}

// checkWord checks a component, envelope name or PTF: 1-8 CMS name
// characters, upper case. It returns "" or what is wrong.
func checkWord(s string) string {
	id, err := cms.NewFileID(s, "X", "")
	if err != nil {
		return err.(*cms.NameError).Reason
	}
	if id.FN() != s {
		return fmt.Sprintf("write it in upper case, %q", id.FN())
	}
	return ""
}

// checkLevel checks a service level name: 1-16 CMS name characters, upper
// case (a level is an SFS directory name).
func checkLevel(s string) string {
	if s == "" {
		return "empty"
	}
	for _, r := range s {
		if _, err := cms.NewFileID(string(r), "X", ""); err != nil {
			return err.(*cms.NameError).Reason
		}
	}
	if len(s) > cms.MaxDirNameLen {
		return fmt.Sprintf("more than %d characters", cms.MaxDirNameLen)
	}
	if u := strings.ToUpper(s); u != s {
		return fmt.Sprintf("write it in upper case, %q", u)
	}
	return ""
}

// checkFile checks a CMS file id in canonical form "FN FT".
func checkFile(s string) string {
	id, err := cms.ParseFileID(s)
	if err != nil {
		return err.Error()
	}
	if !id.FM().IsZero() {
		return "give FN FT without a file mode"
	}
	if id.Name() != s {
		return fmt.Sprintf("write it as %q", id.Name())
	}
	return ""
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
