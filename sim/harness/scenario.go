// Package harness runs scenarios: one YAML file builds an emulated world (a
// principal and in-process managed systems with their CSMSERVE nodes on
// loopback), runs its steps through the production engine exactly as real
// mode does (servmgr.RunWith over FTP), checks every expectation and
// writes reports (summary, JSON, JUnit). See docs/scenarios.md.
package harness

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/rollout"
)

// Scenario is one YAML file.
type Scenario struct {
	Name        string    `yaml:"name" required:"true"`
	Description string    `yaml:"description"`
	Seed        uint64    `yaml:"seed"`
	Release     string    `yaml:"release"`
	World       World     `yaml:"world"`
	Fixtures    Fixtures  `yaml:"fixtures"`
	Steps       []Step    `yaml:"steps" required:"true"`
	Expect      *EndCheck `yaml:"expect"`
	Faults      any       `yaml:"faults"` // reserved for the fault-injection issue
	// Rollout is the default roll-out policy of every SEND and PUT2PROD
	// step over a nickname or ALL that has no rollout: of its own.
	Rollout *RolloutSpec `yaml:"rollout"`

	// File is the path the scenario was loaded from.
	File string `yaml:"-"`
}

// World is the principal and the managed systems.
type World struct {
	Principal Principal `yaml:"principal"`
	Systems   []System  `yaml:"systems"`
	Count     int       `yaml:"count"`
	Prefix    string    `yaml:"prefix"`
	// Names are the nicknames of MAINTCSM NAMES: nickname -> systems or
	// other nicknames.
	Names map[string][]string `yaml:"names"`
	// Latency and Bandwidth shape every system's link unless the system
	// says otherwise ("40ms", "10MB/s").
	Latency   string `yaml:"latency"`
	Bandwidth string `yaml:"bandwidth"`
}

// Principal configures the principal system.
type Principal struct {
	VMPSFSBlocks int64  `yaml:"vmpsfs_blocks"`
	SSI          string `yaml:"ssi"`
}

// System is one managed system, created empty at world build (VM SYSSUF
// without components); an install step puts it at a level.
type System struct {
	Name    string `yaml:"name" required:"true"`
	SSI     string `yaml:"ssi"`
	Release string `yaml:"release"`
	// Latency ("40ms") and Bandwidth ("2MB/s", "100kbit/s") shape the
	// system's CSMSERVE connections, as for a distant system.
	Latency   string `yaml:"latency"`
	Bandwidth string `yaml:"bandwidth"`
	// Password is the CSMWORK password the node accepts; default the one
	// the principal uses. A different one makes the system refuse the
	// principal's logins.
	Password string `yaml:"password"`
	// VMPSFSBlocks is the size of the system's VMPSFS file pool in 4K
	// blocks; 0 takes the world's default.
	VMPSFSBlocks int64 `yaml:"vmpsfs_blocks"`
}

// RolloutSpec is a staged roll-out policy (docs/rollout.md), turned into
// the SERVMGR options CANARY, WAVES, BUDGET, DEADLINE and RESTART.
type RolloutSpec struct {
	Canary   string   `yaml:"canary"`   // a system or nickname
	Waves    []string `yaml:"waves"`    // sizes: 5 or 25%; the last repeats
	Budget   string   `yaml:"budget"`   // failures that halt the roll-out: 2 or 10%
	Deadline string   `yaml:"deadline"` // per wave: 90s, 10m
	Restart  bool     `yaml:"restart"`
	// Off, on a step, runs it without the scenario's default policy.
	Off bool `yaml:"off"`
}

// Fixtures select the committed fixtures placed on the principal.
type Fixtures struct {
	// Sample places the sample envelopes RSU0801 and RSU0802 SERVLINK on
	// MAINTCSM's A-disk. Default true.
	Sample *bool `yaml:"sample"`
	// Envelopes are generated onto MAINTCSM's A-disk too, against the
	// sample BASE, each with its own part count and size.
	Envelopes []EnvelopeFixture `yaml:"envelopes"`
}

// EnvelopeFixture is a generated RSU or COR envelope (fixtures.RSU, COR).
type EnvelopeFixture struct {
	Name      string `yaml:"name" required:"true"` // RSU0901; the file is RSU0901 SERVLINK
	Kind      string `yaml:"kind" required:"true"` // RSU or COR
	Component string `yaml:"component"`            // COR only: the component it services
	Parts     int    `yaml:"parts"`                // parts replaced; default 3
	PartBytes int64  `yaml:"part_bytes"`           // mean part size (50%..150%); default the BASE's (256)
	Seed      uint64 `yaml:"seed"`                 // default the scenario's
}

// Step is one action with its expectation. Exactly one of Servmgr,
// Managed, LocalService, Install, Node and Wait is set.
type Step struct {
	Name         string        `yaml:"name"`
	Servmgr      *string       `yaml:"servmgr"`
	Offline      bool          `yaml:"offline"`
	Repeat       *Repeat       `yaml:"repeat"`
	Rollout      *RolloutSpec  `yaml:"rollout"`
	CrashAfter   int           `yaml:"crash_after"`
	Managed      *ManagedStep  `yaml:"managed"`
	LocalService *LocalService `yaml:"local_service"`
	Install      *Install      `yaml:"install"`
	Node         *NodeStep     `yaml:"node"`
	Wait         string        `yaml:"wait"`

	Expect           *StepExpect `yaml:"expect"`
	OnFailure        string      `yaml:"on_failure"`
	NothingChanged   bool        `yaml:"nothing_changed"`
	UnchangedSystems []string    `yaml:"unchanged_systems"`

	line, col int
}

// NodeStep takes a system's CSMSERVE down (the system becomes
// unreachable) or brings it back up on the same port.
type NodeStep struct {
	System string `yaml:"system" required:"true"`
	Up     *bool  `yaml:"up" required:"true"`
}

// Repeat runs a servmgr step once per number from From to To, with ${N}
// and ${NN} (two digits) substituted.
type Repeat struct {
	From int `yaml:"from" required:"true"`
	To   int `yaml:"to" required:"true"`
}

// ManagedStep is SERVMGR MANAGED ON|OFF typed on a managed system.
type ManagedStep struct {
	System string `yaml:"system" required:"true"`
	On     *bool  `yaml:"on" required:"true"`
}

// LocalService is emergency local SERVICE on a managed system.
type LocalService struct {
	System    string `yaml:"system" required:"true"`
	Component string `yaml:"component" required:"true"`
	Envelope  string `yaml:"envelope"`
	COR       *COR   `yaml:"cor"`
}

// COR generates a corrective envelope on the system's MAINTvrm A-disk.
type COR struct {
	Name      string `yaml:"name" required:"true"`
	Component string `yaml:"component"`
	Parts     int    `yaml:"parts"`
	Seed      uint64 `yaml:"seed"`
}

// Install puts a system (or ALL) at a level the principal knows.
type Install struct {
	System string `yaml:"system" required:"true"`
	Level  string `yaml:"level" required:"true"`
}

// StepExpect is what a step must give.
type StepExpect struct {
	RC          *int          `yaml:"rc"`
	Messages    []string      `yaml:"messages"`
	NotMessages []string      `yaml:"not_messages"`
	Rollout     *RolloutCheck `yaml:"rollout"`
}

// RolloutCheck is the outcome a roll-out step must have. Empty fields are
// not checked.
type RolloutCheck struct {
	Halted    *bool    `yaml:"halted"`
	Done      *int     `yaml:"done"`      // systems done, counting earlier runs
	Failed    []string `yaml:"failed"`    // exactly these systems failed
	Untouched *int     `yaml:"untouched"` // systems never reached
	Skipped   *int     `yaml:"skipped"`   // done in an earlier run, not redone
	Reason    string   `yaml:"reason"`    // a substring of the halt reason
}

// EndCheck is checked after the last step.
type EndCheck struct {
	Systems   []SystemCheck `yaml:"systems"`
	Levels    []LevelCheck  `yaml:"levels"`
	Servcheck *Servcheck    `yaml:"servcheck"`
	Tables    []TableCheck  `yaml:"tables"`
	Files     []FileCheck   `yaml:"files"`
}

// TableCheck is a row of one of the principal's tables: SYSSTAT, SVCSTAT
// and ROLLOUT (of the scenario's release) or NAMES.
type TableCheck struct {
	Table  string            `yaml:"table" required:"true"`
	Key    string            `yaml:"key" required:"true"`
	Tags   map[string]string `yaml:"tags"`   // each tag must have this value
	Absent bool              `yaml:"absent"` // the row must not exist
}

// FileCheck is a file's SHA-256 on the principal or a managed system, or
// its equality with the same file elsewhere.
type FileCheck struct {
	System string `yaml:"system" required:"true"` // PRINCIPAL or a system name
	Area   string `yaml:"area" required:"true"`   // "MAINTCSM 0191" (minidisk) or "VMPSFS:CSM720." (SFS directory)
	File   string `yaml:"file" required:"true"`   // "CSM SYSSTAT"
	SHA256 string `yaml:"sha256"`
	SameAs string `yaml:"same_as"` // PRINCIPAL or a system: the same area and file there
}

// SystemCheck is a managed system's final state (CMS component row of VM
// SYSSUF). Empty fields are not checked. Name ALL checks every system.
type SystemCheck struct {
	Name    string `yaml:"name" required:"true"`
	Level   string `yaml:"level"`
	State   string `yaml:"state"`
	Prod    string `yaml:"prod"`
	Managed *bool  `yaml:"managed"`
}

// LevelCheck is a row of the Service Level Table.
type LevelCheck struct {
	Name  string `yaml:"name" required:"true"`
	State string `yaml:"state"`
	Lock  string `yaml:"lock"`
}

// Servcheck runs SYSTEM SERVCHECK <release> ALL at the end.
type Servcheck struct {
	Clean bool     `yaml:"clean"`
	Drift []string `yaml:"drift"`
}

// Error is one problem in a scenario file, with its position.
type Error struct {
	File         string
	Line, Column int
	Msg, Hint    string
}

func (e Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	if e.Hint != "" {
		s += " (hint: " + e.Hint + ")"
	}
	return s
}

// Errors are all problems found in one file.
type Errors []Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Validate loads a file and reports its problems, without running it.
func Validate(path string) error {
	_, err := Load(path)
	return err
}

// Load reads, strictly decodes and checks a scenario. Problems come back
// as Errors, each with file:line:column.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse is Load on bytes already read; file names the errors.
func Parse(file string, b []byte) (*Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, Errors{yamlError(file, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "empty scenario", Hint: "a scenario needs at least name and steps"}}
	}
	var errs Errors
	walk(file, doc.Content[0], reflect.TypeOf(Scenario{}), "scenario", &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return nil, Errors{yamlError(file, err)}
	}
	sc.File = file
	root := doc.Content[0]
	if steps := valueOf(root, "steps"); steps != nil {
		for i := range sc.Steps {
			if i < len(steps.Content) {
				sc.Steps[i].line, sc.Steps[i].col = steps.Content[i].Line, steps.Content[i].Column
			}
		}
	}
	errs = sc.check(root)
	if len(errs) > 0 {
		return nil, errs
	}
	sc.defaults()
	return &sc, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlError(file string, err error) Error {
	line := 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &line)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "\n", " ")
	return Error{File: file, Line: line, Column: 1, Msg: msg, Hint: "fix the YAML syntax"}
}

func valueOf(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// walk checks n against t: known keys, kinds and scalar types, required
// fields, each error at its own line and column.
func walk(file string, n *yaml.Node, t reflect.Type, where string, errs *Errors) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	add := func(n *yaml.Node, hint, format string, args ...any) {
		*errs = append(*errs, Error{File: file, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value: the field keeps its default
	}
	switch t.Kind() {
	case reflect.Interface:
		return
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			add(n, "write it as key: value lines", "%s must be a mapping, found %s", where, kindName(n))
			return
		}
		fields := map[string]reflect.StructField{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = f
			names = append(names, tag)
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				add(k, hintFor(k.Value, names), "unknown field %q in %s", k.Value, where)
				continue
			}
			seen[k.Value] = true
			walk(file, v, f.Type, k.Value, errs)
		}
		for _, name := range names {
			if fields[name].Tag.Get("required") == "true" && !seen[name] {
				add(n, "add "+name+": to "+where, "missing required field %q in %s", name, where)
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			add(n, "write it as key: value lines", "%s must be a mapping, found %s", where, kindName(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(file, n.Content[i+1], t.Elem(), where+" "+n.Content[i].Value, errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			add(n, "write a list, one '- item' per line", "%s must be a list, found %s", where, kindName(n))
			return
		}
		for _, c := range n.Content {
			walk(file, c, t.Elem(), where+" item", errs)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			add(n, "", "%s must be %s, found %s", where, typeName(t), kindName(n))
			return
		}
		v := reflect.New(t)
		if err := n.Decode(v.Interface()); err != nil {
			add(n, "", "%s must be %s, found %q", where, typeName(t), n.Value)
		}
	}
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Uint64:
		return "a non-negative integer"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// hintFor suggests the nearest known key.
func hintFor(key string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if d := distance(key, n); d < bestD {
			best, bestD = n, d
		}
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	if bestD <= 3 {
		return fmt.Sprintf("did you mean %q? known fields: %s", best, strings.Join(sorted, ", "))
	}
	return "known fields: " + strings.Join(sorted, ", ")
}

func distance(a, b string) int {
	d := make([]int, len(b)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(b); j++ {
			cur := d[j]
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[j] = min(d[j]+1, d[j-1]+1, prev+c)
			prev = cur
		}
	}
	return d[len(b)]
}

var placeholder = regexp.MustCompile(`\$\{(HOST|PORT):([A-Za-z0-9]+)\}|\$\{(N|NN)\}`)

// check is the semantic validation after decoding.
func (sc *Scenario) check(root *yaml.Node) Errors {
	var errs Errors
	at := func(n *yaml.Node, hint, format string, args ...any) {
		line, col := 1, 1
		if n != nil {
			line, col = n.Line, n.Column
		}
		errs = append(errs, Error{File: sc.File, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
	reserved := func(key, later string) {
		if n := valueOf(root, key); n != nil && !(n.Tag == "!!null" || len(n.Content) == 0 && n.Kind != yaml.ScalarNode) {
			at(n, "remove it or leave it empty", "%s: is reserved for %s and must be empty for now", key, later)
		}
	}
	reserved("faults", "the fault-injection issue")
	if sc.Rollout != nil {
		sc.checkRollout(sc.Rollout, valueOf(root, "rollout"), at)
	}
	if fx := valueOf(root, "fixtures"); fx != nil {
		envs := valueOf(fx, "envelopes")
		for i, e := range sc.Fixtures.Envelopes {
			var n *yaml.Node
			if envs != nil && i < len(envs.Content) {
				n = envs.Content[i]
			}
			kind := strings.ToUpper(e.Kind)
			switch {
			case kind != "RSU" && kind != "COR":
				at(valueOf(n, "kind"), "RSU or COR", "envelope %s: kind %q", e.Name, e.Kind)
			case kind == "COR" && e.Component == "":
				at(n, "add component: CP (or another component of the BASE)", "envelope %s: a COR needs a component", e.Name)
			}
			if e.Parts < 0 || e.PartBytes < 0 {
				at(n, "", "envelope %s: parts and part_bytes must not be negative", e.Name)
			}
			if len(e.Name) == 0 || len(e.Name) > 8 {
				at(valueOf(n, "name"), "a CMS file name: 1 to 8 characters", "envelope name %q", e.Name)
			}
		}
	}
	world := valueOf(root, "world")
	if sc.World.Count > 0 && len(sc.World.Systems) > 0 {
		at(valueOf(world, "count"), "use either systems: or count: with prefix:", "world has both systems and count")
	}
	if sc.World.Count < 0 || sc.World.Count > 99 {
		at(valueOf(world, "count"), "", "world count must be 0..99")
	}
	known := map[string]bool{}
	for i, s := range sc.systemSpecs() {
		name := strings.ToUpper(s.Name)
		if known[name] {
			var n *yaml.Node
			if sys := valueOf(world, "systems"); sys != nil && i < len(sys.Content) {
				n = sys.Content[i]
			}
			at(n, "", "system %s is defined twice", name)
		}
		known[name] = true
		if _, err := sc.link(s); err != nil {
			var n *yaml.Node
			if sys := valueOf(world, "systems"); sys != nil && i < len(sys.Content) {
				n = sys.Content[i]
			} else {
				n = world
			}
			at(n, "latency like 40ms, bandwidth like 10MB/s or 100kbit/s", "system %s: %v", name, err)
		}
	}
	steps := valueOf(root, "steps")
	if len(sc.Steps) == 0 {
		at(steps, "add at least one step", "steps is empty")
	}
	for i, st := range sc.Steps {
		var sn *yaml.Node
		if steps != nil && i < len(steps.Content) {
			sn = steps.Content[i]
		}
		need := func(sys string, key string) {
			if sys == "" || strings.EqualFold(sys, "ALL") && key == "install" {
				return
			}
			if !known[strings.ToUpper(sys)] {
				at(valueOf(sn, key), "define it under world: systems:", "step %d names system %s, which is not in the world", i+1, sys)
			}
		}
		n := 0
		for _, set := range []bool{st.Servmgr != nil, st.Managed != nil, st.LocalService != nil, st.Install != nil, st.Node != nil, st.Wait != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			at(sn, "use exactly one of servmgr:, managed:, local_service:, install:, node:, wait:", "step %d has %d actions", i+1, n)
		}
		if st.Wait != "" {
			if d, err := time.ParseDuration(st.Wait); err != nil || d < 0 {
				at(valueOf(sn, "wait"), "a duration such as 30s, 10m or 2h", "wait %q is not a duration", st.Wait)
			}
		}
		if st.Node != nil {
			need(st.Node.System, "node")
		}
		if (st.Rollout != nil || st.CrashAfter != 0) && st.Servmgr == nil {
			at(sn, "rollout: and crash_after: apply to servmgr steps", "step %d has rollout: or crash_after: without servmgr:", i+1)
		}
		if st.CrashAfter < 0 {
			at(valueOf(sn, "crash_after"), "the number of systems to finish before the principal stops", "crash_after must not be negative")
		}
		if st.Rollout != nil {
			sc.checkRollout(st.Rollout, valueOf(sn, "rollout"), at)
		}
		if st.OnFailure != "" && st.OnFailure != "stop" && st.OnFailure != "continue" {
			at(valueOf(sn, "on_failure"), "stop or continue", "on_failure %q is not valid", st.OnFailure)
		}
		if st.Repeat != nil && st.Servmgr == nil {
			at(valueOf(sn, "repeat"), "repeat applies to servmgr steps", "repeat without servmgr")
		}
		if st.Repeat != nil && (st.Repeat.From > st.Repeat.To || st.Repeat.From < 0) {
			at(valueOf(sn, "repeat"), "from must be 0 or more and not above to", "repeat from %d to %d", st.Repeat.From, st.Repeat.To)
		}

		if st.Servmgr != nil {
			for _, m := range placeholder.FindAllStringSubmatch(*st.Servmgr, -1) {
				if m[2] != "" {
					need(m[2], "servmgr")
				} else if st.Repeat == nil {
					at(valueOf(sn, "servmgr"), "add repeat: {from: 1, to: N}", "${%s} needs repeat:", m[3])
				}
			}
		}
		if st.Managed != nil {
			need(st.Managed.System, "managed")
		}
		if st.LocalService != nil {
			need(st.LocalService.System, "local_service")
			if (st.LocalService.Envelope == "") == (st.LocalService.COR == nil) {
				at(valueOf(sn, "local_service"), "give envelope: NAME (on the system's A-disk) or cor: {...} to generate one", "local_service needs exactly one of envelope and cor")
			}
		}
		if st.Install != nil {
			need(st.Install.System, "install")
		}
		for _, u := range st.UnchangedSystems {
			need(u, "unchanged_systems")
		}
	}
	if sc.Expect != nil {
		ex := valueOf(root, "expect")
		for _, s := range sc.Expect.Systems {
			if !known[strings.ToUpper(s.Name)] && !strings.EqualFold(s.Name, "ALL") {
				at(valueOf(ex, "systems"), "", "expect names system %s, which is not in the world", s.Name)
			}
		}
		for i, t := range sc.Expect.Tables {
			if !slices.Contains(fleet.Tables(), strings.ToUpper(t.Table)) {
				var n *yaml.Node
				if ts := valueOf(ex, "tables"); ts != nil && i < len(ts.Content) {
					n = valueOf(ts.Content[i], "table")
				}
				last := len(fleet.Tables()) - 1
				at(n, strings.Join(fleet.Tables()[:last], ", ")+" or "+fleet.Tables()[last], "unknown table %q", t.Table)
			}
		}
		for i, f := range sc.Expect.Files {
			var n *yaml.Node
			if fs := valueOf(ex, "files"); fs != nil && i < len(fs.Content) {
				n = fs.Content[i]
			}
			for _, sys := range []string{f.System, f.SameAs} {
				if sys != "" && !strings.EqualFold(sys, "PRINCIPAL") && !known[strings.ToUpper(sys)] {
					at(n, "PRINCIPAL or a system of the world", "file check names system %s, which is not in the world", sys)
				}
			}
			if (f.SHA256 == "") == (f.SameAs == "") {
				at(n, "give sha256: or same_as:", "file check needs exactly one of sha256 and same_as")
			}
		}
		if sc.Expect.Servcheck != nil && sc.Expect.Servcheck.Clean && len(sc.Expect.Servcheck.Drift) > 0 {
			at(valueOf(ex, "servcheck"), "", "servcheck cannot be both clean and drift")
		}
	}
	return errs
}

// checkRollout checks a roll-out policy's values where they are written.
func (sc *Scenario) checkRollout(r *RolloutSpec, n *yaml.Node, at func(*yaml.Node, string, string, ...any)) {
	if r.Off && (r.Canary != "" || len(r.Waves) > 0 || r.Budget != "" || r.Deadline != "" || r.Restart) {
		at(n, "off: true runs the step without a policy; drop the other fields", "rollout off: true with other fields")
	}
	for i, w := range r.Waves {
		if _, err := rollout.ParseSize(w); err != nil {
			var wn *yaml.Node
			if ws := valueOf(n, "waves"); ws != nil && i < len(ws.Content) {
				wn = ws.Content[i]
			}
			at(wn, "a count (5) or a percentage (25%)", "wave size: %v", err)
		}
	}
	if r.Budget != "" {
		if _, err := rollout.ParseSize(r.Budget); err != nil {
			at(valueOf(n, "budget"), "a count (2) or a percentage (10%)", "budget: %v", err)
		}
	}
	if r.Deadline != "" {
		if d, err := time.ParseDuration(r.Deadline); err != nil || d <= 0 {
			at(valueOf(n, "deadline"), "a duration such as 90s or 10m", "deadline %q is not a positive duration", r.Deadline)
		}
	}
}

// options renders the policy as SERVMGR roll-out options.
func (r *RolloutSpec) options() string {
	var o []string
	if r.Canary != "" {
		o = append(o, "CANARY "+r.Canary)
	}
	if len(r.Waves) > 0 {
		o = append(o, "WAVES "+strings.Join(r.Waves, ","))
	}
	if r.Budget != "" {
		o = append(o, "BUDGET "+r.Budget)
	}
	if r.Deadline != "" {
		o = append(o, "DEADLINE "+r.Deadline)
	}
	if r.Restart {
		o = append(o, "RESTART")
	}
	return strings.Join(o, " ")
}

func (sc *Scenario) defaults() {
	if sc.Release == "" {
		sc.Release = "720"
	}
	if sc.World.Prefix == "" {
		sc.World.Prefix = "VM"
	}
	for i := range sc.Steps {
		if sc.Steps[i].OnFailure == "" {
			sc.Steps[i].OnFailure = "stop"
		}
	}
}

// systemSpecs lists the managed systems, listed or by count and prefix.
func (sc *Scenario) systemSpecs() []System {
	if sc.World.Count > 0 {
		prefix := sc.World.Prefix
		if prefix == "" {
			prefix = "VM"
		}
		out := make([]System, sc.World.Count)
		for i := range out {
			out[i] = System{Name: fmt.Sprintf("%s%02d", strings.ToUpper(prefix), i+1)}
		}
		return out
	}
	out := append([]System(nil), sc.World.Systems...)
	for i := range out {
		out[i].Name = strings.ToUpper(out[i].Name)
	}
	return out
}
