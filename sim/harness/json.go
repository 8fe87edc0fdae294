package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// JSONOptions say what a JSON report carries besides the report itself.
type JSONOptions struct {
	// Timeline adds every system's phases (Report.Timeline) and when each
	// fault fired and healed, so that the HTML report can be drawn again
	// from the JSON (ReadJSON). They are timed as the run was, and which
	// phase a STATUS poll saw end depends on timing: with them, two runs
	// of the same scenario and seed differ in these times and spans, and
	// in nothing else.
	Timeline bool
}

// jsonReport is a Report as JSON, with its timeline when asked for.
type jsonReport struct {
	*Report
	Timeline []Span `json:"timeline,omitempty"`
	// FaultTimes are the times of Faults, one for each, in order.
	FaultTimes []faultTime `json:"fault_times,omitempty"`
	// StepStart is when each step that ran began (Report.StepStart).
	StepStart map[int]time.Duration `json:"step_start_ns,omitempty"`
}

// faultTime is when a fault fired and healed (zero: at the end of the
// steps), on the scenario clock.
type faultTime struct {
	At    time.Time `json:"at"`
	Until time.Time `json:"until"`
}

// WriteJSON writes the report as indented JSON, fields in a fixed order.
func (r *Report) WriteJSON(w io.Writer) error { return WriteJSONWith(w, []*Report{r}, JSONOptions{}) }

// WriteJSONAll writes one report as an object and several as an array.
func WriteJSONAll(w io.Writer, reports []*Report) error {
	return WriteJSONWith(w, reports, JSONOptions{})
}

// WriteJSONWith writes one report as an object and several as an array,
// with what o asks for.
func WriteJSONWith(w io.Writer, reports []*Report, o JSONOptions) error {
	out := make([]jsonReport, len(reports))
	for i, r := range reports {
		out[i].Report = r
		if o.Timeline {
			out[i].Timeline, out[i].StepStart = r.Timeline, r.StepStart
			for _, f := range r.Faults {
				out[i].FaultTimes = append(out[i].FaultTimes, faultTime{At: f.At, Until: f.Until})
			}
		}
	}
	var v any = out
	if len(out) == 1 {
		v = out[0]
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// maxJSONReport bounds a JSON report ReadJSON reads: fleet54's, with
// its timeline, is under 1 MiB.
const maxJSONReport = 256 << 20

// ReadJSON reads a JSON report as WriteJSONWith writes it: one report or
// an array of them, with the timeline if it carries one. name is for
// errors. Unknown fields are refused: the file is not a csmsim report, or
// one of a newer csmsim.
func ReadJSON(r io.Reader, name string) ([]*Report, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxJSONReport+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxJSONReport {
		return nil, fmt.Errorf("%s is larger than %d MiB; a csmsim JSON report is far smaller", name, maxJSONReport>>20)
	}
	b = bytes.TrimSpace(b)
	var many []json.RawMessage
	switch {
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &many); err != nil {
			return nil, notReport(name, err)
		}
	default:
		many = []json.RawMessage{b}
	}
	if len(many) == 0 {
		return nil, fmt.Errorf("%s holds no report (an empty array); write one with csmsim run --report json", name)
	}
	var out []*Report
	for i, raw := range many {
		jr := jsonReport{Report: &Report{}}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&jr); err != nil {
			if len(many) > 1 {
				name = fmt.Sprintf("%s: report %d", name, i+1)
			}
			return nil, notReport(name, err)
		}
		if jr.Scenario == "" {
			return nil, notReport(name, errors.New("no scenario name"))
		}
		if len(jr.FaultTimes) > 0 && len(jr.FaultTimes) != len(jr.Faults) {
			return nil, notReport(name, fmt.Errorf("%d fault_times for %d faults", len(jr.FaultTimes), len(jr.Faults)))
		}
		for i, t := range jr.FaultTimes {
			jr.Faults[i].At, jr.Faults[i].Until = t.At, t.Until
		}
		jr.Report.Timeline, jr.Report.StepStart = jr.Timeline, jr.StepStart
		out = append(out, jr.Report)
	}
	return out, nil
}

func notReport(name string, err error) error {
	return fmt.Errorf("%s is not a csmsim JSON report (%v); write one with csmsim run --report json", name, err)
}
