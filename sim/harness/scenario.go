// Package harness runs scenarios: one YAML file builds an emulated world (a
// principal and in-process managed systems with their CSMSERVE nodes on
// loopback), runs its steps through the production engine exactly as real
// mode does (servmgr.Run over FTP), judges each step from the command's
// Outcome (its lines, each system's outcome, the roll-out's result), checks
// every expectation and writes reports (summary, JSON, JUnit, HTML). The
// files: scenario.go the schema, decode.go and validate.go strict decoding,
// run.go the runner, step*.go one step kind each, judge.go and
// endchecks.go the checks, report.go and its formats. See
// docs/scenarios.md.
package harness

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/sim/world"
)

// Scenario is one YAML file.
type Scenario struct {
	Name        string    `yaml:"name" required:"true"`
	Description string    `yaml:"description,omitempty"`
	Seed        uint64    `yaml:"seed,omitempty"`
	Release     string    `yaml:"release,omitempty"`
	World       World     `yaml:"world,omitempty"`
	Fixtures    Fixtures  `yaml:"fixtures,omitempty"`
	Steps       []Step    `yaml:"steps" required:"true"`
	Expect      *EndCheck `yaml:"expect,omitempty"`
	// Faults are injected into the run, each armed or not by the seed
	// (docs/faults.md).
	Faults []FaultSpec `yaml:"faults,omitempty"`
	// Swarm switches each fault kind on or off, and picks each fault's
	// probability, by the seed.
	Swarm bool `yaml:"swarm,omitempty"`
	// Liveness bounds how many times the scenario's SEND and PUT2PROD
	// steps may run again, once the faults are healed, to reach the end
	// expectations.
	Liveness *Liveness `yaml:"liveness,omitempty"`
	// Rollout is the default roll-out policy of every SEND and PUT2PROD
	// step over a nickname or ALL that has no rollout: of its own.
	Rollout *RolloutSpec `yaml:"rollout,omitempty"`

	// File is the path the scenario was loaded from.
	File string `yaml:"-"`
}

// World is the principal and the managed systems.
type World struct {
	Principal Principal `yaml:"principal,omitempty"`
	Systems   []System  `yaml:"systems,omitempty"`
	Count     int       `yaml:"count,omitempty"`
	Prefix    string    `yaml:"prefix,omitempty"`
	// Names are the nicknames of MAINTCSM NAMES: nickname -> systems or
	// other nicknames.
	Names map[string][]string `yaml:"names,omitempty"`
	// Latency and Bandwidth shape every system's link unless the system
	// says otherwise ("40ms", "10MB/s").
	Latency   string `yaml:"latency,omitempty"`
	Bandwidth string `yaml:"bandwidth,omitempty"`
}

// Principal configures the principal system.
type Principal struct {
	VMPSFSBlocks int64  `yaml:"vmpsfs_blocks,omitempty"`
	SSI          string `yaml:"ssi,omitempty"`
}

// System is one managed system, created empty at world build (VM SYSSUF
// without components); an install step puts it at a level.
type System struct {
	Name    string `yaml:"name" required:"true"`
	SSI     string `yaml:"ssi,omitempty"`
	Release string `yaml:"release,omitempty"`
	// Latency ("40ms") and Bandwidth ("2MB/s", "100kbit/s") shape the
	// system's CSMSERVE connections, as for a distant system.
	Latency   string `yaml:"latency,omitempty"`
	Bandwidth string `yaml:"bandwidth,omitempty"`
	// Password is the CSMWORK password the node accepts; default the one
	// the principal uses. A different one makes the system refuse the
	// principal's logins.
	Password string `yaml:"password,omitempty"`
	// VMPSFSBlocks is the size of the system's VMPSFS file pool in 4K
	// blocks; 0 takes the world's default.
	VMPSFSBlocks int64 `yaml:"vmpsfs_blocks,omitempty"`
}

// RolloutSpec is a staged roll-out policy (docs/rollout.md), turned into
// the SERVMGR options CANARY, WAVES, BUDGET, DEADLINE and RESTART.
type RolloutSpec struct {
	Canary   string   `yaml:"canary,omitempty"`   // a system or nickname
	Waves    []string `yaml:"waves,omitempty"`    // sizes: 5 or 25%; the last repeats
	Budget   string   `yaml:"budget,omitempty"`   // failures that halt the roll-out: 2 or 10%
	Deadline string   `yaml:"deadline,omitempty"` // per wave: 90s, 10m
	Restart  bool     `yaml:"restart,omitempty"`
	// Off, on a step, runs it without the scenario's default policy.
	Off bool `yaml:"off,omitempty"`
}

// FaultSpec is one faults: entry (fault.Spec as written).
type FaultSpec struct {
	Kind         string  `yaml:"kind" required:"true"`
	System       string  `yaml:"system,omitempty"`
	During       string  `yaml:"during,omitempty"`
	Probability  float64 `yaml:"probability,omitempty"`
	AfterBytes   int64   `yaml:"after_bytes,omitempty"`
	AfterSystems int     `yaml:"after_systems,omitempty"`
	AfterWrites  int     `yaml:"after_writes,omitempty"`
	For          string  `yaml:"for,omitempty"`
	Times        int     `yaml:"times,omitempty"`
	Disk         string  `yaml:"disk,omitempty"`
	By           string  `yaml:"by,omitempty"`
}

// Liveness is the bound of the liveness check: the end state must be
// reached within Within runs of the same commands again. Default 3.
type Liveness struct {
	Within int `yaml:"within,omitempty"`
}

// Fixtures select the committed fixtures placed on the principal.
type Fixtures struct {
	// Sample places the sample envelopes RSU0801 and RSU0802 SERVLINK on
	// MAINTCSM's A-disk. Default true.
	Sample *bool `yaml:"sample,omitempty"`
	// Envelopes are generated onto MAINTCSM's A-disk too, against the
	// sample BASE, each with its own part count and size.
	Envelopes []EnvelopeFixture `yaml:"envelopes,omitempty"`
}

// EnvelopeFixture is a generated RSU or COR envelope (fixtures.RSU, COR).
type EnvelopeFixture struct {
	Name      string `yaml:"name" required:"true"` // RSU0901; the file is RSU0901 SERVLINK
	Kind      string `yaml:"kind" required:"true"` // RSU or COR
	Component string `yaml:"component,omitempty"`  // COR only: the component it services
	Parts     int    `yaml:"parts,omitempty"`      // parts replaced; default 3
	PartBytes int64  `yaml:"part_bytes,omitempty"` // mean part size (50%..150%); default the BASE's (256)
	Seed      uint64 `yaml:"seed,omitempty"`       // default the scenario's
	Release   string `yaml:"release,omitempty"`    // the release it services; default the scenario's
}

// Step is one action with its expectation. Exactly one of Servmgr,
// Managed, LocalService, Install, Node and Wait is set.
type Step struct {
	Name         string        `yaml:"name,omitempty"`
	Servmgr      *string       `yaml:"servmgr,omitempty"`
	Offline      bool          `yaml:"offline,omitempty"`
	Repeat       *Repeat       `yaml:"repeat,omitempty"`
	Rollout      *RolloutSpec  `yaml:"rollout,omitempty"`
	CrashAfter   int           `yaml:"crash_after,omitempty"`
	Managed      *ManagedStep  `yaml:"managed,omitempty"`
	LocalService *LocalService `yaml:"local_service,omitempty"`
	Install      *Install      `yaml:"install,omitempty"`
	Node         *NodeStep     `yaml:"node,omitempty"`
	Wait         string        `yaml:"wait,omitempty"`

	Expect           *StepExpect `yaml:"expect,omitempty"`
	OnFailure        string      `yaml:"on_failure,omitempty"`
	NothingChanged   bool        `yaml:"nothing_changed,omitempty"`
	UnchangedSystems []string    `yaml:"unchanged_systems,omitempty"`

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
	Envelope  string `yaml:"envelope,omitempty"`
	COR       *COR   `yaml:"cor,omitempty"`
}

// COR generates a corrective envelope on the system's MAINTvrm A-disk.
type COR struct {
	Name      string `yaml:"name" required:"true"`
	Component string `yaml:"component,omitempty"`
	Parts     int    `yaml:"parts,omitempty"`
	Seed      uint64 `yaml:"seed,omitempty"`
}

// Install puts a system (or ALL) at a level the principal knows.
type Install struct {
	System string `yaml:"system" required:"true"`
	Level  string `yaml:"level" required:"true"`
}

// StepExpect is what a step must give.
type StepExpect struct {
	RC          RCs           `yaml:"rc,omitempty"`
	Messages    []string      `yaml:"messages,omitempty"`
	NotMessages []string      `yaml:"not_messages,omitempty"`
	Rollout     *RolloutCheck `yaml:"rollout,omitempty"`
}

// RCs are the return codes a step may end with: one (rc: 0) or any of a
// list (rc: [0, 8]) for a step a fault may break. None means 0.
type RCs []int

// UnmarshalYAML reads one return code or a list of them.
func (r *RCs) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var rc int
		if err := n.Decode(&rc); err != nil {
			return fmt.Errorf("rc must be a return code (0, 4, 8, 12) or a list of them, found %q", n.Value)
		}
		*r = RCs{rc}
		return nil
	}
	var rcs []int
	if err := n.Decode(&rcs); err != nil || len(rcs) == 0 {
		return fmt.Errorf("rc must be a return code (0, 4, 8, 12) or a non-empty list of them")
	}
	*r = rcs
	return nil
}

// allows says rc is one of the expected return codes.
func (r RCs) allows(rc int) bool {
	if len(r) == 0 {
		return rc == 0
	}
	return slices.Contains(r, rc)
}

// expected says what was expected, as a failure reports it.
func (r RCs) expected() string {
	switch len(r) {
	case 0:
		return "0"
	case 1:
		return fmt.Sprint(r[0])
	}
	s := make([]string, len(r))
	for i, rc := range r {
		s[i] = fmt.Sprint(rc)
	}
	return "one of " + strings.Join(s, ", ")
}

// RolloutCheck is the outcome a roll-out step must have. Empty fields are
// not checked.
type RolloutCheck struct {
	Halted    *bool    `yaml:"halted,omitempty"`
	Done      *int     `yaml:"done,omitempty"`      // systems done, counting earlier runs
	Failed    []string `yaml:"failed,omitempty"`    // exactly these systems failed
	Untouched *int     `yaml:"untouched,omitempty"` // systems never reached
	Skipped   *int     `yaml:"skipped,omitempty"`   // done in an earlier run, not redone
	Reason    string   `yaml:"reason,omitempty"`    // a substring of the halt reason
}

// EndCheck is checked after the last step.
type EndCheck struct {
	Systems   []SystemCheck `yaml:"systems,omitempty"`
	Levels    []LevelCheck  `yaml:"levels,omitempty"`
	Servcheck *Servcheck    `yaml:"servcheck,omitempty"`
	Tables    []TableCheck  `yaml:"tables,omitempty"`
	Files     []FileCheck   `yaml:"files,omitempty"`
}

// TableCheck is a row of one of the principal's tables: SYSSTAT, SVCSTAT
// and ROLLOUT (of the scenario's release) or NAMES.
type TableCheck struct {
	Table   string            `yaml:"table" required:"true"`
	Release string            `yaml:"release,omitempty"` // SVCSTAT and ROLLOUT: whose; default the scenario's
	Key     string            `yaml:"key" required:"true"`
	Tags    map[string]string `yaml:"tags,omitempty"`   // each tag must have this value
	Absent  bool              `yaml:"absent,omitempty"` // the row must not exist
}

// FileCheck is a file's SHA-256 on the principal or a managed system, or
// its equality with the same file elsewhere.
type FileCheck struct {
	System string `yaml:"system" required:"true"` // PRINCIPAL or a system name
	Area   string `yaml:"area" required:"true"`   // "MAINTCSM 0191" (minidisk) or "VMPSFS:CSM720." (SFS directory)
	File   string `yaml:"file" required:"true"`   // "CSM SYSSTAT"
	SHA256 string `yaml:"sha256,omitempty"`
	SameAs string `yaml:"same_as,omitempty"` // PRINCIPAL or a system: the same area and file there
}

// SystemCheck is a managed system's final state (CMS component row of VM
// SYSSUF). Empty fields are not checked. Name ALL checks every system.
type SystemCheck struct {
	Name    string `yaml:"name" required:"true"`
	Level   string `yaml:"level,omitempty"`
	State   string `yaml:"state,omitempty"`
	Prod    string `yaml:"prod,omitempty"`
	Managed *bool  `yaml:"managed,omitempty"`
}

// LevelCheck is a row of the Service Level Table.
type LevelCheck struct {
	Name    string `yaml:"name" required:"true"`
	Release string `yaml:"release,omitempty"` // the level's release; default the scenario's
	State   string `yaml:"state,omitempty"`
	Lock    string `yaml:"lock,omitempty"`
}

// Servcheck runs SYSTEM SERVCHECK <release> ALL at the end, for the
// scenario's release and each other initialized release the systems run.
// Clean is a pointer so that clean: false (drift on at least one system)
// is not taken for a missing clean:.
type Servcheck struct {
	Clean *bool    `yaml:"clean,omitempty"`
	Drift []string `yaml:"drift,omitempty"` // exactly these systems drift
}

// releases are the releases the principal carries: the scenario's, then
// each release its systems run (7.2 or later: CSM has no BASE of an
// older one, whose systems are there to be refused).
func (sc *Scenario) releases() []string {
	out := []string{sc.Release}
	for _, s := range sc.systemSpecs() {
		rel := s.Release
		if rel == "" {
			rel = world.DefaultRelease
		}
		if level.CheckRelease(rel) == nil && !slices.Contains(out, rel) {
			out = append(out, rel)
		}
	}
	return out
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
