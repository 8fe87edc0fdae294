package servmgr

import (
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/fleet"
)

// Limits of the names in SERVMGR operands.
const (
	MaxLevelLen     = 16  // service level name, e.g. VM010802_BLD2
	MaxSystemLen    = 8   // system name or nickname
	MaxComponentLen = 8   // VMSES/E component name, e.g. CMS, TCPIP
	MaxEnvelopeLen  = 8   // file name of an envelope (<name> SERVLINK)
	MaxHostLen      = 253 // DNS host name
	MaxDescLen      = 128 // SRVLVL ADD description, in characters
	DefaultPort     = 4535
	// All names every system (SYSTEM PUT2PROD|QUERY|SERVCHECK, SRVLVL SEND),
	// every level (SRVLVL QUERY) or every component (SRVLVL SERVICE).
	All = "ALL"
	// Base is the unserviced base level INITIALIZE creates.
	Base = "BASE"
)

// Origins of a local modification (SRVLVL LOCALMOD options).
const (
	OriginIBM      = "IBM"
	OriginVendor   = "VENDOR"
	OriginCustomer = "CUSTOMER"
)

// Command is one parsed SERVMGR command. The concrete types below are plain
// values: compare them with ==, reflect.DeepEqual or Gomega's Equal.
type Command interface {
	// Name is the operand and sub-operand in upper case, e.g. "SRVLVL ADD".
	Name() string
	// String is the canonical command line without the word SERVMGR; it
	// parses back to an equal command.
	String() string
	// Release is the vrm the command works on ("720"); "" for MANAGED and
	// for SRVLVL SEND written without a vrm.
	Release() string
}

// Initialize is INITIALIZE vrm.
type Initialize struct{ VRM string }

// Managed is MANAGED OFF|ON, entered on a managed system.
type Managed struct{ On bool }

// SystemAdd is SYSTEM ADD vrm system level [NONESM] HOSTNAME host
// [COMMTYPE FTP] [(PORT n REQUIRE|NOREQUIRE NOCONTACT].
type SystemAdd struct {
	VRM, System, Level string
	NoESM              bool
	Host               string
	CommType           string // always "FTP" once parsed
	Port               int    // DefaultPort unless PORT is given
	Require            bool   // REQUIRE option; NOREQUIRE (the default) is false
	NoContact          bool   // NOCONTACT: record without contacting the system
}

// SystemDelete is SYSTEM DELETE vrm system.
type SystemDelete struct{ VRM, System string }

// SystemModify is SYSTEM MODIFY vrm system [HOSTNAME host] [SRVLVL level]
// [(PORT n REQUIRE|NOREQUIRE NOCONTACT]. Zero values ("", 0, nil) mean
// unchanged; at least one of Host, Level, Port and Require is set once
// parsed.
type SystemModify struct {
	VRM, System string
	Host        string
	Level       string
	Port        int
	Require     *bool
	NoContact   bool // NOCONTACT: record without contacting the system
}

// SystemPut2Prod is SYSTEM PUT2PROD vrm system|nickname|ALL [(roll-out
// options].
type SystemPut2Prod struct {
	VRM, Target string
	Rollout     *fleet.Rollout // nil: every system at once
}

// SystemQuery is SYSTEM QUERY vrm [system|nickname|ALL]; Target defaults to ALL.
type SystemQuery struct{ VRM, Target string }

// SystemServcheck is SYSTEM SERVCHECK vrm system|nickname|ALL.
type SystemServcheck struct{ VRM, Target string }

// SrvlvlAdd is SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text].
// Desc is the words after DESC as typed, joined by single blanks.
type SrvlvlAdd struct {
	VRM, Level, BasedOn string
	NoESM               bool
	Desc                string
}

// SrvlvlDelete is SRVLVL DELETE vrm level.
type SrvlvlDelete struct{ VRM, Level string }

// SrvlvlLocalmod is SRVLVL LOCALMOD vrm level comp envelope
// [(IBM|VENDOR|CUSTOMER]; Origin defaults to CUSTOMER.
type SrvlvlLocalmod struct {
	VRM, Level, Component, Envelope string
	Origin                          string
}

// SrvlvlService is SRVLVL SERVICE vrm level comp|ALL envelope.
type SrvlvlService struct{ VRM, Level, Component, Envelope string }

// SrvlvlPackage is SRVLVL PACKAGE vrm level.
type SrvlvlPackage struct{ VRM, Level string }

// SrvlvlSend is SRVLVL SEND [vrm] level system|nickname|ALL
// [(TEST|STABLE COND]. TEST is the default. The vrm may be left out, as in
// the overview's "servmgr srvlvl send vm010802_BLD2 vm01 (stable"; VRM is
// then "" and the level names the release.
type SrvlvlSend struct {
	VRM, Level, Target string
	Stable             bool
	Cond               bool
	Rollout            *fleet.Rollout // nil: every system at once
}

// SrvlvlSetlock is SRVLVL SETLOCK vrm level ON|OFF.
type SrvlvlSetlock struct {
	VRM, Level string
	On         bool
}

// SrvlvlQuery is SRVLVL QUERY vrm [level|ALL]; Level defaults to ALL.
type SrvlvlQuery struct{ VRM, Level string }

// SrvlvlVmfsetup is SRVLVL VMFSETUP vrm level comp.
type SrvlvlVmfsetup struct{ VRM, Level, Component string }

func (Initialize) Name() string      { return "INITIALIZE" }
func (Managed) Name() string         { return "MANAGED" }
func (SystemAdd) Name() string       { return "SYSTEM ADD" }
func (SystemDelete) Name() string    { return "SYSTEM DELETE" }
func (SystemModify) Name() string    { return "SYSTEM MODIFY" }
func (SystemPut2Prod) Name() string  { return "SYSTEM PUT2PROD" }
func (SystemQuery) Name() string     { return "SYSTEM QUERY" }
func (SystemServcheck) Name() string { return "SYSTEM SERVCHECK" }
func (SrvlvlAdd) Name() string       { return "SRVLVL ADD" }
func (SrvlvlDelete) Name() string    { return "SRVLVL DELETE" }
func (SrvlvlLocalmod) Name() string  { return "SRVLVL LOCALMOD" }
func (SrvlvlService) Name() string   { return "SRVLVL SERVICE" }
func (SrvlvlPackage) Name() string   { return "SRVLVL PACKAGE" }
func (SrvlvlSend) Name() string      { return "SRVLVL SEND" }
func (SrvlvlSetlock) Name() string   { return "SRVLVL SETLOCK" }
func (SrvlvlQuery) Name() string     { return "SRVLVL QUERY" }
func (SrvlvlVmfsetup) Name() string  { return "SRVLVL VMFSETUP" }

func (c Initialize) Release() string      { return c.VRM }
func (Managed) Release() string           { return "" }
func (c SystemAdd) Release() string       { return c.VRM }
func (c SystemDelete) Release() string    { return c.VRM }
func (c SystemModify) Release() string    { return c.VRM }
func (c SystemPut2Prod) Release() string  { return c.VRM }
func (c SystemQuery) Release() string     { return c.VRM }
func (c SystemServcheck) Release() string { return c.VRM }
func (c SrvlvlAdd) Release() string       { return c.VRM }
func (c SrvlvlDelete) Release() string    { return c.VRM }
func (c SrvlvlLocalmod) Release() string  { return c.VRM }
func (c SrvlvlService) Release() string   { return c.VRM }
func (c SrvlvlPackage) Release() string   { return c.VRM }
func (c SrvlvlSend) Release() string      { return c.VRM }
func (c SrvlvlSetlock) Release() string   { return c.VRM }
func (c SrvlvlQuery) Release() string     { return c.VRM }
func (c SrvlvlVmfsetup) Release() string  { return c.VRM }

// words joins the non-empty words with blanks.
func words(w ...string) string {
	out := w[:0:0]
	for _, s := range w {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// opts renders an options part, "" when there are none.
func opts(o ...string) string {
	s := words(o...)
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func onOff(on bool) string {
	if on {
		return "ON"
	}
	return "OFF"
}

func flag(set bool, kw string) string {
	if set {
		return kw
	}
	return ""
}

func (c Initialize) String() string { return words(c.Name(), c.VRM) }
func (c Managed) String() string    { return words(c.Name(), onOff(c.On)) }

func (c SystemAdd) String() string {
	var host, comm, port string
	if c.Host != "" {
		host = "HOSTNAME " + c.Host
	}
	if c.CommType != "" {
		comm = "COMMTYPE " + c.CommType
	}
	if c.Port != 0 {
		port = "PORT " + strconv.Itoa(c.Port)
	}
	req := "NOREQUIRE"
	if c.Require {
		req = "REQUIRE"
	}
	return words(c.Name(), c.VRM, c.System, c.Level, flag(c.NoESM, "NONESM"), host, comm, opts(port, req, flag(c.NoContact, "NOCONTACT")))
}

func (c SystemDelete) String() string { return words(c.Name(), c.VRM, c.System) }

func (c SystemModify) String() string {
	var host, level, port, req string
	if c.Host != "" {
		host = "HOSTNAME " + c.Host
	}
	if c.Level != "" {
		level = "SRVLVL " + c.Level
	}
	if c.Port != 0 {
		port = "PORT " + strconv.Itoa(c.Port)
	}
	if c.Require != nil {
		req = "NOREQUIRE"
		if *c.Require {
			req = "REQUIRE"
		}
	}
	return words(c.Name(), c.VRM, c.System, host, level, opts(port, req, flag(c.NoContact, "NOCONTACT")))
}

func (c SystemPut2Prod) String() string {
	return words(c.Name(), c.VRM, c.Target, opts(rolloutWords(c.Rollout)...))
}
func (c SystemQuery) String() string     { return words(c.Name(), c.VRM, c.Target) }
func (c SystemServcheck) String() string { return words(c.Name(), c.VRM, c.Target) }

func (c SrvlvlAdd) String() string {
	var desc, based string
	if c.BasedOn != "" {
		based = "BASEDON " + c.BasedOn
	}
	if c.Desc != "" {
		desc = "DESC " + c.Desc
	}
	return words(c.Name(), c.VRM, c.Level, based, flag(c.NoESM, "NONESM"), desc)
}

func (c SrvlvlDelete) String() string { return words(c.Name(), c.VRM, c.Level) }

func (c SrvlvlLocalmod) String() string {
	return words(c.Name(), c.VRM, c.Level, c.Component, c.Envelope, opts(c.Origin))
}

func (c SrvlvlService) String() string {
	return words(c.Name(), c.VRM, c.Level, c.Component, c.Envelope)
}

func (c SrvlvlPackage) String() string { return words(c.Name(), c.VRM, c.Level) }

func (c SrvlvlSend) String() string {
	mode := "TEST"
	if c.Stable {
		mode = "STABLE"
	}
	return words(c.Name(), c.VRM, c.Level, c.Target, opts(append([]string{mode, flag(c.Cond, "COND")}, rolloutWords(c.Rollout)...)...))
}

// rolloutWords renders roll-out options as typed.
func rolloutWords(r *fleet.Rollout) []string {
	if r == nil {
		return nil
	}
	var out []string
	if r.Canary != "" {
		out = append(out, "CANARY "+r.Canary)
	}
	if len(r.Waves) > 0 {
		sizes := make([]string, len(r.Waves))
		for i, w := range r.Waves {
			sizes[i] = w.String()
		}
		out = append(out, "WAVES "+strings.Join(sizes, ","))
	}
	if r.Budget.N > 0 {
		out = append(out, "BUDGET "+r.Budget.String())
	}
	if r.Deadline > 0 {
		out = append(out, "DEADLINE "+r.Deadline.String())
	}
	return append(out, flag(r.Restart, "RESTART"))
}

func (c SrvlvlSetlock) String() string { return words(c.Name(), c.VRM, c.Level, onOff(c.On)) }
func (c SrvlvlQuery) String() string   { return words(c.Name(), c.VRM, c.Level) }
func (c SrvlvlVmfsetup) String() string {
	return words(c.Name(), c.VRM, c.Level, c.Component)
}
