package harness

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of one scenario run. It holds no wall time and no
// port: the same scenario and seed give the same report, byte for byte.
type Report struct {
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
	// Timeline is every system's phases in wall time. It is left out of
	// JSON, which must not depend on timing; the HTML report draws it.
	Timeline []Span `json:"-"`
}

// Span is one phase of one system's work during a step, in wall time
// since the scenario started.
type Span struct {
	Step   int           // the StepReport.Index the phase belongs to
	System string        // VM01
	Phase  string        // transfer, validate, load or put2prod
	Start  time.Duration // since the scenario started
	End    time.Duration
	OK     bool
	Detail string // e.g. "3 files, 1.2 MB" or the failure's message
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

// WriteJSON writes the report as indented JSON, fields in a fixed order.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteJSONAll writes one report as an object and several as an array.
func WriteJSONAll(w io.Writer, reports []*Report) error {
	if len(reports) == 1 {
		return reports[0].WriteJSON(w)
	}
	b, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteSummary writes the human summary: steps, systems, expectations,
// aligned in columns.
func (r *Report) WriteSummary(w io.Writer) error {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s %s (%s, seed %d): %d steps, %d systems, %d expectations, %d failures\n",
		verdict, r.Scenario, r.File, r.Seed, len(r.Steps), len(r.Systems), len(r.Expectations), r.Failures)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tKIND\tCOMMAND\tRC\tRESULT\tMESSAGES")
	for _, s := range r.Steps {
		res := s.Status
		if s.Reason != "" && s.Status != "pass" {
			res += ": " + s.Reason
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", s.Index, s.Kind, s.Line, s.RC, res, shortIDs(s.Messages))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Systems) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SYSTEM\tTEST LEVEL\tSTATE\tPROD LEVEL\tMANAGED")
		for _, s := range r.Systems {
			m := "NO"
			if s.Managed {
				m = "YES"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Level, s.State, s.Prod, m)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, ro := range r.Rollouts {
		if err := ro.writeSummary(w); err != nil {
			return err
		}
	}
	if len(r.Expectations) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EXPECTATION\tWANT\tGOT\tRESULT")
		for _, e := range r.Expectations {
			res := e.Status
			if e.Reason != "" && e.Status != "pass" {
				res += ": " + e.Reason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, e.Want, e.Got, res)
		}
		return tw.Flush()
	}
	return nil
}

// writeSummary lists a roll-out's systems: done, failed with message id
// and reason, or untouched.
func (ro RolloutReport) writeSummary(w io.Writer) error {
	count := map[string]int{}
	for _, s := range ro.Systems {
		count[s.Status]++
	}
	state := "complete"
	if ro.Halted {
		state = "halted: " + ro.Reason
	}
	fmt.Fprintf(w, "\nROLL-OUT %s (step %d) %s; %d done, %d failed, %d untouched\n", ro.ID, ro.Step, state,
		count["done"], count["failed"], count["untouched"])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SYSTEM\tWAVE\tSTATUS\tRUN\tMESSAGE\tREASON")
	for _, s := range ro.Systems {
		wave, run := strconv.Itoa(s.Wave), "-"
		if s.Wave == 0 {
			wave = "canary"
		}
		if s.Run > 0 {
			run = strconv.Itoa(s.Run)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, wave, s.Status, run, s.Message, s.Reason)
	}
	return tw.Flush()
}

func shortIDs(ids []string) string {
	if len(ids) > 6 {
		return strings.Join(ids[:6], " ") + fmt.Sprintf(" (+%d)", len(ids)-6)
	}
	return strings.Join(ids, " ")
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as JUnit XML: one testcase per step and
// per expectation.
func (r *Report) WriteJUnit(w io.Writer) error { return WriteJUnitAll(w, []*Report{r}) }

// WriteJUnitAll writes one testsuite per report.
func WriteJUnitAll(w io.Writer, reports []*Report) error {
	var all junitSuites
	for _, r := range reports {
		s := junitSuite{Name: r.Scenario}
		add := func(name, status, reason, out string) {
			c := junitCase{Name: name, Classname: "scenario." + r.Scenario, SystemOut: out}
			switch status {
			case "fail":
				c.Failure = &junitFailure{Message: reason, Type: "expectation", Text: reason}
				s.Failures++
			case "skipped":
				c.Skipped = &junitSkipped{Message: reason}
				s.Skipped++
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		for _, st := range r.Steps {
			add(fmt.Sprintf("step %02d %s: %s", st.Index, st.Kind, st.Line), st.Status, st.Reason, strings.Join(st.Output, "\n"))
		}
		for _, e := range r.Expectations {
			add("expect "+e.Name, e.Status, e.Reason, "")
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Suites = append(all.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
