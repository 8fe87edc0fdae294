// Package msg is the CSM message catalogue, shared by the principal
// (servmgr, level, fleet) and the managed side (agent): every message's id,
// severity and text, the lines commands issue and their return codes,
// refusals as errors, and the $CSMCMD $MSGLOG line format both sides write.
package msg

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Severity is the letter that ends a message id, as in VMSES/E.
type Severity byte

const (
	Info    Severity = 'I' // RC 0
	Warning Severity = 'W' // RC 4
	Error   Severity = 'E' // RC 8
	Severe  Severity = 'S' // RC 12
)

// RC is the return code a message of this severity gives its command.
func (s Severity) RC() int {
	switch s {
	case Info:
		return 0
	case Warning:
		return 4
	case Error:
		return 8
	}
	return 12
}

func (s Severity) String() string { return string(rune(s)) }

// The message table.
//
// Each constant is named by its message id and holds the id, a blank and the
// text's format; pass it to Messagef (or Result.Addf), which go vet checks
// like fmt.Printf. Message(id, args...) reaches the same table by id.
//
// Numbering (stable; add new messages, never renumber or reuse one):
//
//	0000-0099  general: command start and end, syntax, release, authority, storage
//	2700-2799  SRVLVL: service levels, envelopes, local mods, nucleus, packages
//	2800-2899  SYSTEM: managed systems and nicknames
//	2900-2999  INITIALIZE and MANAGED
//	3000-3049  tables (SYSSTAT, SVCSTAT, NAMES): format, generations, COND
//	3050-3099  transport to managed systems
//	3100-3999  reserved for the managed-system side (CSMAGENT, CSMSERVE)
//
// Keep the constants sorted by number and list every one in catalogFormats.
const (
	// General.
	CSM0000S = "CSM0000S Internal error: %s"
	CSM0001I = "CSM0001I SERVMGR %s started"
	CSM0002I = "CSM0002I SERVMGR %s ended RC=%d"
	CSM0003I = "CSM0003I No changes were made"
	CSM0010E = "CSM0010E Syntax error in %s, token %d %q at column %d: %s"
	CSM0011E = "CSM0011E Syntax error in %s at end of line, column %d: %s"
	CSM0012I = "CSM0012I Form: %s"
	CSM0013E = "CSM0013E No operand given; SERVMGR needs %s"
	CSM0020E = "CSM0020E Release %s is not initialized; enter SERVMGR INITIALIZE %s first"
	CSM0021E = "CSM0021E Release %s is not supported; CSM needs z/VM 7.2 (720) or later"
	CSM0022E = "CSM0022E User %s is not an administrator of file pool %s; an administrator must enter ENROLL ADMIN %s %s:"
	CSM0030E = "CSM0030E Quota of %s exceeded writing %s: %d blocks needed, %d left"
	CSM0031E = "CSM0031E %s is full writing %s"

	// SRVLVL.
	CSM2700I = "CSM2700I Service level %s added to release %s, based on %s, state TEST"
	CSM2701I = "CSM2701I Service level %s deleted from release %s"
	CSM2702I = "CSM2702I Service level %s of release %s locked"
	CSM2703I = "CSM2703I Service level %s of release %s unlocked"
	CSM2704W = "CSM2704W Service level %s of release %s was already %s"
	CSM2705I = "CSM2705I Directories of service level %s primed from %s: %d files"
	CSM2706I = "CSM2706I Directories %s left by an interrupted command were erased: %d files"
	CSM2710E = "CSM2710E Service level %s is not defined in release %s; SERVMGR SRVLVL QUERY of that release lists its levels"
	CSM2711E = "CSM2711E Service level %s already exists in release %s; choose another name"
	CSM2712E = "CSM2712E Service level name %s is longer than %d characters; choose a shorter name"
	CSM2713E = "CSM2713E Based-on level %s is not defined in release %s; SERVMGR SRVLVL QUERY of that release lists its levels"
	CSM2714E = "CSM2714E Service level %s of release %s is locked; enter SERVMGR SRVLVL SETLOCK %s %s OFF first"
	CSM2715E = "CSM2715E Service level %s of release %s is STABLE and cannot be changed; define a new level based on it"
	CSM2716E = "CSM2716E Service level %s of release %s is in use by %d system(s): %s; send them another level (SERVMGR SRVLVL SEND) or delete them (SERVMGR SYSTEM DELETE) first"
	CSM2717E = "CSM2717E Service level %s of release %s is the base of service level(s) %s; delete those first"
	CSM2718E = "CSM2718E Service level BASE of release %s cannot be %s; %s"
	CSM2719E = "CSM2719E SRVLVL %s into service level %s did not finish; enter it again before %s"
	CSM2720E = "CSM2720E Envelope %s SERVLINK not found on %s; receive it onto that disk first"
	CSM2721E = "CSM2721E Envelope %s is not valid: reason code %s at offset %d: %s"
	CSM2722E = "CSM2722E Component %s is not in envelope %s; name a component it carries, or ALL"
	CSM2723E = "CSM2723E Component %s is not known in release %s; name a component the level has"
	CSM2724I = "CSM2724I Envelope %s applied to component %s of service level %s: %d parts"
	CSM2725I = "CSM2725I Local modification %s (%s) applied to component %s of service level %s: %d parts"
	CSM2730I = "CSM2730I CMS nucleus built and dumped to %s: %d cylinders"
	CSM2731E = "CSM2731E CMS nucleus build failed: %s"
	CSM2735I = "CSM2735I SERVLINK written for component %s: %d parts, %d bytes"
	CSM2736W = "CSM2736W Nothing changed in service level %s since %s; no SERVLINK written"
	CSM2737I = "CSM2737I Package manifest %s written: %d components"
	CSM2740I = "CSM2740I Service levels of release %s:"
	CSM2741I = "CSM2741I %-16s %-16s %-6s %-4s %s"
	CSM2744I = "CSM2744I VMFSETUP of component %s in service level %s would access, in order:"
	CSM2745I = "CSM2745I %2d. %s as %s"
	CSM2760E = "CSM2760E Service level %s of release %s has no package; enter SERVMGR SRVLVL PACKAGE %s %s first"

	// SYSTEM.
	CSM2800I = "CSM2800I System %s added to release %s at service level %s (host %s, port %d)"
	CSM2801I = "CSM2801I System %s deleted from release %s"
	CSM2802I = "CSM2802I System %s of release %s modified: %s"
	CSM2803I = "CSM2803I System %s recorded without contacting it (NOCONTACT): at its first contact (SRVLVL SEND, SYSTEM PUT2PROD, SERVCHECK or MODIFY) its name, release, SSI membership and service level are checked and CSM_MANAGED YES is set"
	CSM2804I = "CSM2804I System %s not contacted (NOCONTACT): that it is the system at %s is checked at its next contact"
	CSM2810E = "CSM2810E System %s is not defined in release %s"
	CSM2811E = "CSM2811E System %s is already defined in release %s"
	CSM2812E = "CSM2812E %s is neither a system of release %s nor a nickname in MAINTCSM NAMES"
	CSM2813E = "CSM2813E Nickname %s in MAINTCSM NAMES refers to itself through %s"
	CSM2814E = "CSM2814E System %s refused: the principal already manages %d systems, at most %d are allowed"
	CSM2815E = "CSM2815E System %s is a member of SSI cluster %s; managed systems must not be SSI members"
	CSM2816E = "CSM2816E System %s runs release %s; managed systems must run z/VM 7.2 or later"
	CSM2817E = "CSM2817E SYSTEM %s %s contacts the system, and no transport is configured: give CSMWORK's password to csmsim servmgr (--password-file FILE, or the environment variable CSMSIM_CSMWORK_PASSWORD), or add the option NOCONTACT to record it now and check the system at its first contact"
	CSM2818E = "CSM2818E SYSTEM MODIFY %s SRVLVL %s must ask the system which level it is at, and %s: give CSMWORK's password to csmsim servmgr (--password-file FILE, or the environment variable CSMSIM_CSMWORK_PASSWORD) and enter it without NOCONTACT"
	CSM2819E = "CSM2819E The system at %s reports that it is %s, not %s; give the host and port of %s's own CSMSERVE, or name the system %s"
	CSM2820I = "CSM2820I Systems of release %s:"
	CSM2821I = "CSM2821I %-8s %-16s %-24s %-5s %-6s %s"
	CSM2822E = "CSM2822E System %s cannot be at host %s port %d: system %s of release %s is recorded there, and one CSMSERVE serves one system; give the host and port of %s's own CSMSERVE"
	CSM2823E = "CSM2823E %s, listed in nickname %s in MAINTCSM NAMES, is neither a system of release %s nor a nickname; add the system with SERVMGR SYSTEM ADD, or take it out of the :list. of %s"
	// A principal carries several releases; a command of one release
	// names a system of another.
	CSM2830E = "CSM2830E System %s runs release %s; service level %s of release %s was not sent to it; send it a level of release %s"
	CSM2831E = "CSM2831E System %s runs release %s, not %s; nothing was done on it; enter SERVMGR %s %s %s for it"
	CSM2832E = "CSM2832E System %s reports release %s, not %s as given on SYSTEM ADD; add it to release %s at a level of that release"

	// INITIALIZE and MANAGED.
	CSM2900I = "CSM2900I Release %s initialized: %s loaded into %s (%d files, %d blocks)"
	CSM2901E = "CSM2901E Release %s is already initialized: %s exists"
	CSM2902E = "CSM2902E File pool %s has not enough free 4K blocks: %d needed, %d free"
	CSM2903E = "CSM2903E The principal system is a member of SSI cluster %s; a CSM principal must not be an SSI member"
	CSM2904E = "CSM2904E %s not found on %s; it is needed to load release %s"
	CSM2905I = "CSM2905I Service Level Table of release %s created with level BASE"
	CSM2906I = "CSM2906I BITMAP, VVTLCL summary and SERVLVL DESCRIPT written for BASE of release %s"
	CSM2910I = "CSM2910I MANAGED %s: :CSM_MANAGED %s set in VM SYSSUF for %d components"
	CSM2911E = "CSM2911E MANAGED is only valid on a managed system"
	CSM2912E = "CSM2912E SERVICE refused for component %s: VM SYSSUF says :CSM_MANAGED YES; enter SERVMGR MANAGED OFF for emergency service"

	// Tables and transport.
	CSM3000E = "CSM3000E Table %s is malformed at line %d, column %d (offset %d): %s"
	CSM3001E = "CSM3001E Table %s changed since it was read (generation %d, now %d): reason code %s; nothing was overwritten; enter the command again"
	CSM3002E = "CSM3002E Table %s not found in %s"
	CSM3010E = "CSM3010E COND refused: system %s is at service level %s, not at the based-on level %s"
	CSM3050E = "CSM3050E SERVMGR %s needs the transport to managed systems, and none is configured"
	CSM3051E = "CSM3051E %s: cannot reach CSMSERVE at %s: %s"
	CSM3052E = "CSM3052E %s: %s"
	CSM3053I = "CSM3053I %s: %s sent to %s: %d files, %d bytes"
	CSM3054I = "CSM3054I %s: CSMAGENT %s ended RC=%d"
	CSM3055E = "CSM3055E %s: CSMAGENT %s ended RC=%d: %s"
	CSM3056I = "CSM3056I %s: service level %s loaded %s"
	CSM3057I = "CSM3057I %s: service level %s put into production"
	CSM3058I = "CSM3058I %s: no drift from service level %s (%d parts)"
	CSM3059W = "CSM3059W %s: drift from service level %s: %s %s"
	CSM3060I = "CSM3060I %s: %d of %d systems succeeded"
	CSM3061I = "CSM3061I Service level %s of release %s is now STABLE and locked"
	CSM3062E = "CSM3062E %s: CSMSERVE is busy with job %d; try again when it ends"
	CSM3063E = "CSM3063E %s: service level %s of release %s was not loaded STABLE; enter SERVMGR SRVLVL SEND %s %s %s (STABLE first"
	CSM3064I = "CSM3064I System %s reports release %s, service level %s, CSM_MANAGED YES set"
	CSM3065E = "CSM3065E System %s reports service level %s, not %s as %s; give the level the system is at"
	CSM3066W = "CSM3066W %s: CSMAGENT job %d ended RC=%d, but its messages cannot be read (%s); the outcome follows the return code, the messages are in the system's $CSMCMD $MSGLOG"
	CSM3067I = "CSM3067I System %s reports release %s, service level %s"
	CSM3068W = "CSM3068W %s: the LOAD replaced local service: %s"

	// Staged roll-outs (SRVLVL SEND and SYSTEM PUT2PROD with CANARY,
	// WAVES, BUDGET or DEADLINE).
	CSM3070I = "CSM3070I Roll-out %s run %d: %d systems in %d waves (canary %s), halts at %d failures, wave deadline %s"
	CSM3071I = "CSM3071I Roll-out %s wave %d: %d done, %d failed of %d"
	CSM3072I = "CSM3072I Roll-out %s: %d systems done in an earlier run are not redone: %s"
	CSM3073E = "CSM3073E Roll-out %s halted in wave %d: %s; %d done, %d failed, %d untouched; correct the cause and enter the same command again to resume"
	CSM3074E = "CSM3074E %s: roll-out %s wave %d did not finish within its deadline of %s"
	CSM3075I = "CSM3075I Roll-out %s complete: all %d systems done, %d in this run"
	CSM3076E = "CSM3076E Roll-out option %s: %s"
	CSM3077I = "CSM3077I Roll-out %s: %s %s, wave %d%s"
	CSM3078E = "CSM3078E Roll-out %s interrupted in wave %d: %s; enter the same command again to resume"

	// CSMAGENT on a managed system.
	CSM3100E = "CSM3100E VM SYSSUF not found on %s; the system has no VMSES/E inventory for CSM to manage"
	CSM3101I = "CSM3101I System %s is managed by CSM: :CSM_MANAGED YES set in VM SYSSUF for %d components"
	CSM3103I = "CSM3103I Service level %s recorded as installed on system %s: %d components, %d parts, production side %s"
	CSM3104E = "CSM3104E Component %s is not installed on system %s (it is not in VM SYSSUF)"
	CSM3110E = "CSM3110E COND refused: component %s of system %s is at service level %s, not at the based-on level %s; nothing was changed"
	CSM3111E = "CSM3111E %s not found in the staging area %s; send the package again"
	CSM3112E = "CSM3112E %s is not valid: reason code %s at offset %d: %s"
	CSM3113E = "CSM3113E CSMPKG MANIFEST in %s is for service level %s of release %s, not for level %s of release %s; send the package of that level"
	CSM3114E = "CSM3114E %s does not match CSMPKG MANIFEST: %s; send the package again"
	CSM3115E = "CSM3115E %s does not belong to package %s: %s; rebuild the package with SERVMGR SRVLVL PACKAGE"
	CSM3116E = "CSM3116E Minidisk %s cannot be reached with DDR; %s needs its recomp cylinders"
	CSM3117E = "CSM3117E %s holds %d cylinders; the recomp area of %s has %d"
	CSM3118E = "CSM3118E The nucleus dump %s is not usable on %s: %s"
	CSM3120I = "CSM3120I Component %s loaded from %s: %d parts"
	CSM3121I = "CSM3121I Nucleus restored with REORDER onto cylinders %d-%d of %s"
	CSM3122I = "CSM3122I Service level %s loaded on system %s, state %s"
	CSM3123W = "CSM3123W Package %s carries no SERVLINK (nothing changed since %s); only VM SYSSUF was updated"
	CSM3124E = "CSM3124E The test build of system %s is incomplete: a LOAD of service level %s did not finish; send level %s to the system again (SERVMGR SRVLVL SEND) before %s"
	CSM3125I = "CSM3125I Service level %s is loaded STABLE on system %s already; a TEST load would not make it TEST again"
	CSM3126W = "CSM3126W Service level %s replaced local service %s of component %s on system %s: %d parts replaced, %d parts of it left as it made them"
	CSM3130E = "CSM3130E PUT2PROD before a stable load: service level %s is not loaded STABLE on system %s (component %s is at level %s, state %s)"
	CSM3131I = "CSM3131I Production side %s staged from the test build: %d components, %d files"
	CSM3132I = "CSM3132I Nucleus copied from the recomp cylinders of %s to those of %s: %d cylinders"
	CSM3133I = "CSM3133I Service level %s is in production on system %s: production side %s is live"
	CSM3140I = "CSM3140I Inventory of system %s written to %s: %d components, %d parts"
	CSM3150E = "CSM3150E Envelope %s SERVLINK not found on %s"
	CSM3151E = "CSM3151E Envelope %s is not valid: reason code %s at offset %d: %s"
	CSM3152E = "CSM3152E Component %s is not in envelope %s"
	CSM3153I = "CSM3153I Envelope %s applied locally to component %s: %d parts; system %s now differs from service level %s"
	CSM3154W = "CSM3154W Nucleus parts of component %s changed; the nucleus on the recomp cylinders was not rebuilt"
	CSM3160I = "CSM3160I CSMAGENT %s started as job %d"
	CSM3161I = "CSM3161I CSMAGENT %s ended RC=%d (job %d)"
	CSM3162E = "CSM3162E CSMAGENT is busy with job %d; try again when it has ended"
	CSM3163E = "CSM3163E Job %d is not known on system %s"
)

// catalogFormats lists every message constant, sorted by number. A test
// checks it against the constants of this file.
var catalogFormats = []string{
	CSM0000S, CSM0001I, CSM0002I, CSM0003I, CSM0010E, CSM0011E, CSM0012I, CSM0013E,
	CSM0020E, CSM0021E, CSM0022E, CSM0030E, CSM0031E,
	CSM2700I, CSM2701I, CSM2702I, CSM2703I, CSM2704W, CSM2705I, CSM2706I, CSM2710E, CSM2711E,
	CSM2712E, CSM2713E, CSM2714E, CSM2715E, CSM2716E, CSM2717E, CSM2718E, CSM2719E, CSM2720E,
	CSM2721E, CSM2722E, CSM2723E, CSM2724I, CSM2725I, CSM2730I, CSM2731E, CSM2735I,
	CSM2736W, CSM2737I, CSM2740I, CSM2741I, CSM2744I, CSM2745I, CSM2760E,
	CSM2800I, CSM2801I, CSM2802I, CSM2803I, CSM2804I, CSM2810E, CSM2811E, CSM2812E, CSM2813E, CSM2814E,
	CSM2815E, CSM2816E, CSM2817E, CSM2818E, CSM2819E, CSM2820I, CSM2821I, CSM2822E, CSM2823E,
	CSM2830E, CSM2831E, CSM2832E,
	CSM2900I, CSM2901E, CSM2902E, CSM2903E, CSM2904E, CSM2905I, CSM2906I, CSM2910I,
	CSM2911E, CSM2912E,
	CSM3000E, CSM3001E, CSM3002E, CSM3010E, CSM3050E, CSM3051E, CSM3052E, CSM3053I,
	CSM3054I, CSM3055E, CSM3056I, CSM3057I, CSM3058I, CSM3059W, CSM3060I, CSM3061I,
	CSM3062E, CSM3063E, CSM3064I, CSM3065E, CSM3066W, CSM3067I, CSM3068W, CSM3070I, CSM3071I, CSM3072I,
	CSM3073E,
	CSM3074E, CSM3075I, CSM3076E, CSM3077I, CSM3078E,
	CSM3100E, CSM3101I, CSM3103I, CSM3104E, CSM3110E, CSM3111E, CSM3112E, CSM3113E,
	CSM3114E, CSM3115E, CSM3116E, CSM3117E, CSM3118E, CSM3120I, CSM3121I, CSM3122I,
	CSM3123W, CSM3124E, CSM3125I, CSM3126W, CSM3130E, CSM3131I, CSM3132I, CSM3133I, CSM3140I, CSM3150E, CSM3151E,
	CSM3152E, CSM3153I, CSM3154W, CSM3160I, CSM3161I, CSM3162E, CSM3163E,
}

// Msg is one entry of the message table.
type Msg struct {
	ID     string // CSMnnnnX, e.g. CSM2760E
	Sev    Severity
	Format string // the text's format, without the id
}

var idPattern = regexp.MustCompile(`^CSM[0-9]{4}[IWES]$`)

var (
	catalog []Msg
	byID    = map[string]Msg{}
)

func init() {
	for _, f := range catalogFormats {
		id, text, _ := strings.Cut(f, " ")
		if _, dup := byID[id]; dup || !idPattern.MatchString(id) {
			panic("msg: bad or duplicate message id " + id)
		}
		m := Msg{ID: id, Sev: Severity(id[len(id)-1]), Format: text}
		catalog = append(catalog, m)
		byID[id] = m
	}
}

// Catalog returns the message table, sorted by id.
func Catalog() []Msg {
	out := append([]Msg(nil), catalog...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the table entry of id.
func Lookup(id string) (Msg, bool) {
	m, ok := byID[id]
	return m, ok
}

// Line is one message as a command issues it.
type Line struct {
	ID   string
	Sev  Severity
	Text string
}

// String is the message as printed and logged: "CSM2760E <text>".
func (l Line) String() string { return l.ID + " " + l.Text }

// RC is the return code of the line's severity.
func (l Line) RC() int { return l.Sev.RC() }

func internal(format string, args ...any) Line {
	return Line{ID: "CSM0000S", Sev: Severe, Text: "Internal error: " + fmt.Sprintf(format, args...)}
}

// Messagef issues a message from one of the constants above, e.g.
// Messagef(CSM2710E, level, vrm). go vet checks its arguments against the
// format. A format that is not in the table gives a CSM0000S line.
func Messagef(format string, args ...any) Line {
	s := fmt.Sprintf(format, args...)
	id, _, _ := strings.Cut(format, " ")
	m, ok := byID[id]
	if !ok || m.ID+" "+m.Format != format {
		return internal("message format %q is not in the message table", format)
	}
	_, text, _ := strings.Cut(s, " ")
	return Line{ID: id, Sev: m.Sev, Text: text}
}

// Message issues message id with args, e.g. Message("CSM2710E", level, vrm).
// An unknown id gives a CSM0000S line. Prefer Messagef with the constant,
// which go vet checks.
func Message(id string, args ...any) Line {
	m, ok := byID[id]
	if !ok {
		return internal("message %s is not in the message table", id)
	}
	return Line{ID: id, Sev: m.Sev, Text: fmt.Sprintf(m.Format, args...)}
}

// Result is what a command produced: its messages and its return code, the
// highest of its messages' (0 without any).
type Result struct {
	RC    int
	Lines []Line
}

// Add appends lines and raises RC to the highest severity seen.
func (r *Result) Add(lines ...Line) {
	for _, l := range lines {
		r.Lines = append(r.Lines, l)
		if rc := l.RC(); rc > r.RC {
			r.RC = rc
		}
	}
}

// Addf adds Messagef(format, args...).
func (r *Result) Addf(format string, args ...any) {
	r.Add(Messagef(format, args...))
}

// Failed reports an error or worse (RC 8 or more): by the all-or-nothing
// rule, nothing was changed.
func (r Result) Failed() bool { return r.RC >= Error.RC() }

// Strings renders the lines as printed.
func (r Result) Strings() []string {
	out := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		out[i] = l.String()
	}
	return out
}

// ParseLine reads a message line as String writes it, "CSM3110E text":
// the id (CSM, four digits, a severity letter) gives the severity. Ids
// outside this catalogue are accepted, as a real host's agent may issue
// them; the VMSES/E severity letter still says what they mean.
func ParseLine(s string) (Line, error) {
	s = strings.TrimSpace(s)
	id, text, _ := strings.Cut(s, " ")
	if !idPattern.MatchString(id) {
		return Line{}, fmt.Errorf("message line %q does not start with a message id such as CSM3110E", s)
	}
	return Line{ID: id, Sev: Severity(id[len(id)-1]), Text: text}, nil
}

// ParseLines reads lines as a job's messages file holds them, one message
// per line; blank lines are skipped. The error names the line number.
func ParseLines(text string) ([]Line, error) {
	var out []Line
	for i, s := range strings.Split(text, "\n") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		l, err := ParseLine(s)
		if err != nil {
			return out, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, l)
	}
	return out, nil
}
