package harness

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

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
