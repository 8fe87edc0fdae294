package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/rollout"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/sim/netem"
)

// rolloutOptions are the step's roll-out policy (or the scenario's
// default) as SERVMGR options for its SEND or PUT2PROD line, so scenarios
// drive the same surface a sysprog types; "" for none. The default
// applies only over a nickname or ALL, and never to a line that already
// has roll-out options.
func (r *runner) rolloutOptions(st Step, line string) string {
	pol, explicit := st.Rollout, st.Rollout != nil
	if pol == nil {
		pol = r.sc.Rollout
	}
	if pol == nil || pol.Off {
		return ""
	}
	cmd, err := servmgr.Parse(line)
	if err != nil {
		return "" // the step reports the syntax error
	}
	var target string
	switch c := cmd.(type) {
	case servmgr.SrvlvlSend:
		if c.Rollout != nil {
			return ""
		}
		target = c.Target
	case servmgr.SystemPut2Prod:
		if c.Rollout != nil {
			return ""
		}
		target = c.Target
	default:
		return ""
	}
	if !explicit && r.nodes[strings.ToUpper(target)] != nil {
		return "" // one system: nothing to stage
	}
	return pol.options()
}

// withOptions appends SERVMGR options to a command line, opening its
// options part if it has none.
func withOptions(line, opts string) string {
	if opts == "" {
		return line
	}
	line = strings.TrimSuffix(strings.TrimSpace(line), ")")
	if !strings.Contains(line, "(") {
		return line + " (" + opts
	}
	return line + " " + opts
}

// record adds a command's phases to the timeline, system by system in
// the target's order.
func (r *runner) record(step int, out *fleet.Outcome) {
	for _, s := range out.Systems {
		for _, p := range s.Phases {
			r.spans = append(r.spans, Span{Step: step, System: s.System, Phase: string(p.Name), Start: p.Begin.Sub(r.t0),
				End: p.End.Sub(r.t0), OK: p.OK, Detail: r.normalize(p.Detail)})
		}
	}
}

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

// link is a system's network link from its own fields or the world's.
func (sc *Scenario) link(s System) (netem.Link, error) {
	var l netem.Link
	lat, bw := s.Latency, s.Bandwidth
	if lat == "" {
		lat = sc.World.Latency
	}
	if bw == "" {
		bw = sc.World.Bandwidth
	}
	if lat != "" {
		d, err := time.ParseDuration(lat)
		if err != nil || d < 0 {
			return l, fmt.Errorf("latency %q is not a duration such as 40ms", lat)
		}
		l.Latency = d
	}
	if bw != "" {
		b, err := netem.ParseBandwidth(bw)
		if err != nil {
			return l, err
		}
		l.Bandwidth = b
	}
	return l, nil
}

// nodeUpDown stops a system's CSMSERVE or starts it again on its port.
func (r *runner) nodeUpDown(name string, up bool) (msg.Result, error) {
	n := r.nodes[name]
	if up {
		return msg.Result{}, n.Up()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return msg.Result{}, n.Down(ctx)
}
