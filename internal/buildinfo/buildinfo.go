// Package buildinfo says which csmsim is running: the module version, the
// VCS revision and whether the tree it was built from was modified, as the
// Go toolchain recorded them in the binary (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is what the binary knows of its own build.
type Info struct {
	Module   string // github.com/csmsim/csmsim
	Version  string // v1.2.3, a pseudo-version (v0.0.0-2026...-1a2f87e0f2c4+dirty), or (devel)
	Revision string // the VCS revision; "" when the build recorded none
	Time     string // the revision's commit time, RFC 3339
	Modified bool   // the tree had changes the revision does not hold
	Go       string // go1.26.8
}

// Read is this binary's Info. Under go test, with go build -buildvcs=false
// or outside a git checkout, the build records no revision and the
// version is (devel): Info says so rather than failing.
func Read() Info {
	i := Info{Module: "github.com/csmsim/csmsim", Version: "(devel)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	if bi.Main.Path != "" {
		i.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		i.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		i.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// String is the version on one line, as reports carry it:
// "v0.0.0-20261125103000-1a2f87e0f2c4+dirty (revision 1a2f87e0f2c4, modified)",
// or "(devel) (no VCS information)".
func (i Info) String() string {
	if i.Revision == "" {
		return i.Version + " (no VCS information)"
	}
	s := i.Version + " (revision " + short(i.Revision)
	if i.Modified {
		s += ", modified"
	}
	return s + ")"
}

// Long is what csmsim version prints: the line, then each part.
func (i Info) Long() string {
	var b strings.Builder
	fmt.Fprintf(&b, "csmsim %s\n", i)
	fmt.Fprintf(&b, "module    %s %s\n", i.Module, i.Version)
	if i.Revision == "" {
		b.WriteString("revision  unknown: built without VCS information (go test, go build -buildvcs=false, or outside a git checkout)\n")
		b.WriteString("modified  unknown\n")
	} else {
		fmt.Fprintf(&b, "revision  %s\n", strings.TrimSpace(i.Revision+" "+i.Time))
		fmt.Fprintf(&b, "modified  %s\n", map[bool]string{true: "yes", false: "no"}[i.Modified])
	}
	fmt.Fprintf(&b, "go        %s %s/%s\n", i.Go, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

// short is a revision as pseudo-versions abbreviate it: 12 characters.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
