package harness

import (
	"fmt"
	"time"

	"github.com/csmsim/csmsim/sim/fault"
)

// Report is the outcome of one scenario run. It holds no wall time and no
// port: the same scenario and seed give the same report, byte for byte.
type Report struct {
	// Version is the csmsim that ran the scenario (internal/buildinfo),
	// so that a report, a CI failure's say, names the binary.
	Version      string         `json:"csmsim"`
	Scenario     string         `json:"scenario"`
	File         string         `json:"file"`
	Seed         uint64         `json:"seed"`
	Release      string         `json:"release"`
	Pass         bool           `json:"pass"`
	Failures     int            `json:"failures"`
	Steps        []StepReport   `json:"steps"`
	Systems      []SystemReport `json:"systems"`
	Expectations []Expectation  `json:"expectations"`
	// Rollouts are the staged roll-outs the steps ran, in step order.
	Rollouts []RolloutReport `json:"rollouts,omitempty"`
	// Violations are the invariants the run broke (docs/faults.md).
	Violations []Violation `json:"violations,omitempty"`
	// Faults are the faults that fired, with what they hit.
	Faults []fault.Fired `json:"faults,omitempty"`
	// Timeline is every system's phases, timed as Options.Now says, plus
	// the link time charged meanwhile (LinkTime); the HTML report draws
	// it. Which phase a STATUS poll saw end depends on timing, so the
	// JSON report carries it only when asked to (JSONOptions.Timeline).
	Timeline []Span `json:"-"`
	// LinkTime is the time each distant system's link charged to the
	// scenario's virtual clock instead of waiting it (latency and
	// bandwidth, docs/scenarios.md). Left out of the JSON report.
	LinkTime map[string]time.Duration `json:"-"`
	// StepStart is when each step that ran began (by StepReport.Index),
	// on the timeline's clock; the HTML timeline marks the steps along
	// its axis. Left out of the JSON report.
	StepStart map[int]time.Duration `json:"-"`
}

// Span is one phase of one system's work during a step, in time since
// the scenario started.
type Span struct {
	Step   int           `json:"step"`   // the StepReport.Index the phase belongs to
	System string        `json:"system"` // VM01
	Phase  string        `json:"phase"`  // transfer, validate, load or put2prod
	Start  time.Duration `json:"start_ns"`
	End    time.Duration `json:"end_ns"`
	OK     bool          `json:"ok"`
	Detail string        `json:"detail,omitempty"` // e.g. "3 files, 1.2 MB" or the failure's message
	Bytes  int64         `json:"bytes,omitempty"`  // sent to the system in the phase (a transfer's files)
}

// RolloutReport is one staged roll-out run by a step: every system of the
// roll-out as done, failed (with reason and message id) or untouched.
type RolloutReport struct {
	Step    int             `json:"step"`
	ID      string          `json:"id"`     // SEND.TEST.VM010802_BLD2.ALL
	Halted  bool            `json:"halted"` // stopped before every system was done
	Reason  string          `json:"reason,omitempty"`
	Waves   [][]string      `json:"waves"`
	Systems []RolloutSystem `json:"systems"`
}

// RolloutSystem is one system's place in a roll-out.
type RolloutSystem struct {
	Name    string `json:"name"`
	Wave    int    `json:"wave"`          // 0 is the canary
	Status  string `json:"status"`        // done, failed or untouched
	Run     int    `json:"run,omitempty"` // the run of the roll-out that did it (resume counts up)
	Message string `json:"message,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// StepReport is one step (one per repetition of a repeated step).
type StepReport struct {
	Index    int      `json:"index"`
	Kind     string   `json:"kind"`
	Line     string   `json:"line"`
	RC       int      `json:"rc"`
	Status   string   `json:"status"` // pass, fail or skipped
	Reason   string   `json:"reason,omitempty"`
	Messages []string `json:"messages"` // message ids in order of first appearance
	Output   []string `json:"output"`   // the lines, with ports replaced by PORT

	rollout *RolloutReport // the roll-out the step ran, if any
	outcome *stepOutcome   // the command's outcome, for the invariants
}

// SystemReport is a managed system's final state.
type SystemReport struct {
	Name    string `json:"name"`
	Level   string `json:"level"` // test-build level (CMS component)
	State   string `json:"state"`
	Prod    string `json:"prod"`
	Managed bool   `json:"managed"`
	Error   string `json:"error,omitempty"`
}

// Expectation is one end-of-scenario check.
type Expectation struct {
	Name   string `json:"name"`
	Want   string `json:"want"`
	Got    string `json:"got"`
	Status string `json:"status"` // pass, fail or skipped
	Reason string `json:"reason,omitempty"`
}

func (r *Report) finish() {
	r.Failures = 0
	for _, s := range r.Steps {
		if s.Status != "pass" {
			r.Failures++
		}
	}
	for _, e := range r.Expectations {
		if e.Status != "pass" {
			r.Failures++
		}
	}
	r.Failures += len(r.Violations)
	r.Pass = r.Failures == 0
	if r.Steps == nil {
		r.Steps = []StepReport{}
	}
	if r.Systems == nil {
		r.Systems = []SystemReport{}
	}
	if r.Expectations == nil {
		r.Expectations = []Expectation{}
	}
	for i := range r.Steps {
		if r.Steps[i].Messages == nil {
			r.Steps[i].Messages = []string{}
		}
		if r.Steps[i].Output == nil {
			r.Steps[i].Output = []string{}
		}
	}
}

// FailureText is one line naming the first failure, or "".
func (r *Report) FailureText() string {
	if len(r.Violations) > 0 {
		return fmt.Sprintf("%s: %s", r.File, r.Violations[0])
	}
	for _, s := range r.Steps {
		if s.Status == "fail" {
			return fmt.Sprintf("%s: step %d (%s) failed: %s", r.File, s.Index, s.Line, s.Reason)
		}
	}
	for _, e := range r.Expectations {
		if e.Status != "pass" {
			return fmt.Sprintf("%s: expectation %s failed: %s", r.File, e.Name, e.Reason)
		}
	}
	return ""
}
