package harness

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/servmgr"
)

// servmgrStep runs a servmgr step, once or once per repetition, each
// through servmgr.Run as real mode does, and judges each outcome.
func (r *runner) servmgrStep(ctx context.Context, st Step) []StepReport {
	var reports []StepReport
	from, to := 0, 0
	if st.Repeat != nil {
		from, to = st.Repeat.From, st.Repeat.To
	}
	r.mu.Lock()
	base := r.cur
	r.mu.Unlock()
	for n := from; n <= to; n++ {
		typed := r.substitute(*st.Servmgr, n)
		opts := r.rolloutOptions(st, typed)
		line := withOptions(typed, opts)
		cur := base + n - from
		if err := r.restartPrincipal(); err != nil {
			r.violate(InvLiveness, cur, "", "%v", err)
		}
		r.mu.Lock()
		r.cur, r.command = cur, commandOf(line)
		r.crashAfter, r.finished = st.CrashAfter, 0
		stepCtx, cancel := context.WithCancel(ctx)
		r.crash = cancel
		r.mu.Unlock()
		r.atStep(stepCtx)
		wire := r.wire
		if st.Offline {
			wire = nil
		}
		mark := r.faults.plan.Mark()
		r.stepStarts(cur)
		out := servmgr.Run(stepCtx, r.penv, wire, []string{line})
		cancel()
		shown := *st.Servmgr
		if st.Repeat != nil {
			shown = placeholder.ReplaceAllStringFunc(shown, func(m string) string {
				if m == "${N}" || m == "${NN}" {
					return r.substitute(m, n)
				}
				return m
			})
		}
		sr := r.judge(st, withOptions(shown, opts), out.Result, causes(out)...) // the policy's options, as run
		if out.Fleet != nil {
			r.record(cur, out.Fleet)
			r.checkRollout(&sr, st, out.Fleet)
		}
		sr.outcome = &stepOutcome{result: out.Result, fleet: out.Fleet, faulted: r.faults.plan.Hit(mark)}
		reports = append(reports, sr)
	}
	return reports
}

func (r *runner) substitute(line string, n int) string {
	return placeholder.ReplaceAllStringFunc(repeatLine(line, n), func(m string) string {
		sm := placeholder.FindStringSubmatch(m)
		switch {
		case sm[3] == "N":
			return strconv.Itoa(n)
		case sm[3] == "NN":
			return fmt.Sprintf("%02d", n)
		}
		nd := r.nodes[strings.ToUpper(sm[2])]
		if sm[1] == "HOST" {
			return nd.host
		}
		return nd.port
	})
}

// repeatLine is a repeated step's line for repetition n: ${N} and ${NN}
// first, so that they may name a system: ${HOST:VM${NN}}.
func repeatLine(line string, n int) string {
	return strings.NewReplacer("${NN}", fmt.Sprintf("%02d", n), "${N}", strconv.Itoa(n)).Replace(line)
}

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

// observe hears a phase from the engine (Wire.Observe) as it happens.
func (r *runner) observe(p fleet.Phase) {
	r.faultsAtPhase(context.Background(), p)
	r.mu.Lock()
	cur := r.cur
	finished := 0
	if !p.End.IsZero() && p.Last() && p.OK {
		r.finished++
		finished = r.finished
		if r.crashAfter > 0 && r.finished == r.crashAfter {
			r.progress("the principal stops after %d systems finished (crash_after)", r.finished)
			r.crash()
		}
	}
	r.mu.Unlock()
	if finished > 0 {
		r.atSystemsFinished(finished)
	}
	if r.opts.Observe != nil {
		r.opts.Observe(cur, p)
	}
}

// record adds a command's phases to the timeline, system by system in
// the target's order.
func (r *runner) record(step int, out *fleet.Outcome) {
	for _, s := range out.Systems {
		for _, p := range s.Phases {
			r.spans = append(r.spans, Span{Step: step, System: s.System, Phase: string(p.Name), Start: p.Begin.Sub(r.t0),
				End: p.End.Sub(r.t0), OK: p.OK, Detail: r.normalize(p.Detail), Bytes: p.Bytes})
		}
	}
}
