package harness

import (
	"fmt"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/rollout"
)

// checkRollout builds the step's roll-out report from the command's
// outcome, checks that no system done in an earlier run was worked on
// again, and checks the step's rollout expectation.
func (r *runner) checkRollout(sr *StepReport, st Step, out *fleet.Outcome) {
	var rep *RolloutReport
	var skipped []string
	if ro := out.Rollout; ro != nil {
		skipped = ro.Skipped
		rep = &RolloutReport{ID: ro.ID, Waves: [][]string{}, Systems: []RolloutSystem{}, Halted: ro.Halted || ro.Interrupted}
		switch {
		case ro.Halted:
			rep.Reason = r.normalize(ro.Reason)
		case ro.Interrupted:
			rep.Reason = r.normalize(ro.Cause)
		}
		for _, rec := range ro.Records {
			rs := RolloutSystem{Name: rec.System, Wave: rec.Wave, Status: strings.ToLower(string(rec.Status)), Run: rec.Run}
			if rec.Status == rollout.Failed {
				rs.Message, rs.Reason = rec.Message, r.normalize(rec.Reason)
			}
			rep.Systems = append(rep.Systems, rs)
			for len(rep.Waves) <= rec.Wave {
				rep.Waves = append(rep.Waves, []string{})
			}
			rep.Waves[rec.Wave] = append(rep.Waves[rec.Wave], rec.System)
		}
	}
	for _, s := range skipped {
		if _, worked := out.System(s); worked {
			sr.fail("system " + s + " was done in an earlier run of the roll-out and was worked on again")
		}
	}
	sr.rollout = rep
	var want *RolloutCheck
	if st.Expect != nil {
		want = st.Expect.Rollout
	}
	if want == nil {
		return
	}
	if rep == nil {
		sr.fail("a roll-out was expected; the step ran none")
		return
	}
	count := func(status string) int {
		n := 0
		for _, s := range rep.Systems {
			if s.Status == status {
				n++
			}
		}
		return n
	}
	if want.Halted != nil && *want.Halted != rep.Halted {
		sr.fail(fmt.Sprintf("roll-out halted=%t, expected %t", rep.Halted, *want.Halted))
	}
	if want.Done != nil && *want.Done != count("done") {
		sr.fail(fmt.Sprintf("roll-out has %d systems done, expected %d", count("done"), *want.Done))
	}
	if want.Untouched != nil && *want.Untouched != count("untouched") {
		sr.fail(fmt.Sprintf("roll-out has %d systems untouched, expected %d", count("untouched"), *want.Untouched))
	}
	if want.Skipped != nil && *want.Skipped != len(skipped) {
		sr.fail(fmt.Sprintf("roll-out skipped %d systems done earlier, expected %d", len(skipped), *want.Skipped))
	}
	if want.Failed != nil {
		var got []string
		for _, s := range rep.Systems {
			if s.Status == "failed" {
				got = append(got, s.Name)
			}
		}
		exp := make([]string, len(want.Failed))
		for i, f := range want.Failed {
			exp[i] = strings.ToUpper(f)
		}
		slices.Sort(got)
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			sr.fail(fmt.Sprintf("roll-out failed [%s], expected [%s]", strings.Join(got, " "), strings.Join(exp, " ")))
		}
	}
	if want.Reason != "" && !strings.Contains(rep.Reason, want.Reason) {
		sr.fail(fmt.Sprintf("roll-out reason %q does not contain %q", rep.Reason, want.Reason))
	}
}
