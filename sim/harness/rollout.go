package harness

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/msg"
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

// The roll-out's lines, as engine/fleet writes them.
var (
	rolloutStart  = regexp.MustCompile(`^Roll-out (\S+) run \d+: \d+ systems in \d+ waves`)
	rolloutSystem = regexp.MustCompile(`^Roll-out (\S+): (\S+) (DONE|FAILED|UNTOUCHED), wave (\d+)(?:, run (\d+))?(?:: (\S+) (.*))?$`)
	rolloutSkip   = regexp.MustCompile(`^Roll-out \S+: \d+ systems done in an earlier run are not redone: (.*)$`)
	rolloutHalt   = regexp.MustCompile(`^Roll-out \S+ (?:halted|interrupted) in wave \d+: (.*?)(?:; \d+ done.*|; enter the same command.*)?$`)
)

// checkRollout builds the step's roll-out report from its messages,
// checks that no system done in an earlier run was touched again, and
// checks the step's rollout expectation.
func (r *runner) checkRollout(sr *StepReport, st Step, res msg.Result) {
	var rep *RolloutReport
	var skipped []string
	for _, l := range res.Lines {
		switch l.ID {
		case "CSM3070I":
			if m := rolloutStart.FindStringSubmatch(l.Text); m != nil {
				rep = &RolloutReport{ID: m[1], Waves: [][]string{}, Systems: []RolloutSystem{}}
			}
		case "CSM3072I":
			if m := rolloutSkip.FindStringSubmatch(l.Text); m != nil {
				skipped = strings.Fields(m[1])
			}
		case "CSM3077I":
			if m := rolloutSystem.FindStringSubmatch(l.Text); m != nil && rep != nil {
				wave, _ := strconv.Atoi(m[4])
				run, _ := strconv.Atoi(m[5])
				rep.Systems = append(rep.Systems, RolloutSystem{Name: m[2], Wave: wave, Status: strings.ToLower(m[3]), Run: run,
					Message: m[6], Reason: r.normalize(m[7])})
				for len(rep.Waves) <= wave {
					rep.Waves = append(rep.Waves, []string{})
				}
				rep.Waves[wave] = append(rep.Waves[wave], m[2])
			}
		case "CSM3073E", "CSM3078E":
			if rep != nil {
				rep.Halted = true
				if m := rolloutHalt.FindStringSubmatch(l.Text); m != nil {
					rep.Reason = r.normalize(m[1])
				}
			}
		}
	}
	r.mu.Lock()
	for _, s := range skipped {
		if r.touched[s] {
			sr.fail("system " + s + " was done in an earlier run of the roll-out and was worked on again")
		}
	}
	r.mu.Unlock()
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
