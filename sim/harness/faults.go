package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/fault"
	"github.com/csmsim/csmsim/sim/world"
)

// errPrincipalKilled is what the principal's writes get once a
// principal_crash fault killed SERVMGR.
var errPrincipalKilled = errors.New("SERVMGR was killed")

// faults is a run's fault plan wired to its world: where the plan is
// asked, and what each kind does.
type faults struct {
	plan *fault.Plan

	mu     sync.Mutex
	killed bool // the principal's SERVMGR died; the next step restarts it
	full   map[string]bool
	stalls int // stalls in force: polls advance the scenario clock
}

// armFaults makes the run's plan from the scenario's faults and the seed.
func (r *runner) armFaults() error {
	var specs []fault.Spec
	for _, f := range r.sc.Faults {
		s, err := f.spec()
		if err != nil {
			return err // validation let it through: a bug
		}
		specs = append(specs, s)
	}
	plan, err := fault.NewPlan(specs, r.seed, fault.Swarm(r.sc.Swarm || r.opts.Swarm), r.targets)
	if err != nil {
		return err
	}
	r.faults = &faults{plan: plan, full: map[string]bool{}}
	for _, name := range r.names {
		n := r.nodes[name]
		n.Faults.Hook = func(phase proto.Phase) { r.atNodePhase(name, string(phase)) }
	}
	return nil
}

// targets resolves a fault's system, nickname or ALL to the world's
// systems, in world order.
func (r *runner) targets(system string) ([]string, error) {
	if strings.EqualFold(system, "ALL") {
		return r.names, nil
	}
	if _, ok := r.nodes[strings.ToUpper(system)]; ok {
		return []string{strings.ToUpper(system)}, nil
	}
	names, err := world.NamesTable(r.sc.World.Names)
	if err != nil {
		return nil, err
	}
	out, err := table.ResolveNames(names, system, func(s string) bool { _, ok := r.nodes[s]; return ok })
	if err != nil {
		return nil, fmt.Errorf("system %s: %w", system, err)
	}
	return out, nil
}

// commandOf is the fault vocabulary's name of a SERVMGR line's command.
func commandOf(line string) string {
	c, err := servmgr.Parse(line)
	if err != nil {
		return ""
	}
	switch c.(type) {
	case servmgr.SrvlvlSend:
		return "send"
	case servmgr.SystemPut2Prod:
		return "put2prod"
	case servmgr.SystemServcheck:
		return "servcheck"
	case servmgr.SrvlvlService, servmgr.SrvlvlLocalmod:
		return "service"
	case servmgr.SrvlvlPackage:
		return "package"
	}
	return ""
}

// point is where the run stands, for the plan.
func (r *runner) point(system, phase string) fault.Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fault.Point{Step: r.cur, Command: r.command, System: system, Phase: phase}
}

// atStep fires the faults of a step or a command as it begins: on the
// principal, and on each system a node fault names.
func (r *runner) atStep(ctx context.Context) {
	r.heal(false)
	for _, k := range []fault.Kind{fault.Refuse, fault.Crash, fault.DiskFull, fault.IOError, fault.Stall, fault.Skew} {
		for _, name := range r.names {
			for _, s := range r.faults.plan.Fire(k, r.point(name, ""), r.clock.Peek(), "step start") {
				r.apply(ctx, s, name)
			}
		}
	}
	for _, s := range r.faults.plan.Fire(fault.DiskFull, r.point("", ""), r.clock.Peek(), "step start") {
		r.apply(ctx, s, "")
	}
}

// atPrincipalPhase fires the faults of a phase the principal sees begin
// (transfer: the dial), synchronously: a node refused or crashed now is
// what the dial meets.
func (r *runner) atPrincipalPhase(ctx context.Context, system, phase string) {
	for _, k := range []fault.Kind{fault.Refuse, fault.Crash, fault.DiskFull, fault.IOError, fault.Stall, fault.Skew, fault.PrincipalCrash} {
		sys := system
		if k == fault.PrincipalCrash {
			sys = ""
		}
		for _, s := range r.faults.plan.Fire(k, r.point(sys, phase), r.clock.Peek(), "phase "+phase) {
			r.apply(ctx, s, system)
		}
	}
}

// atNodePhase fires the faults of a phase a node's job enters, in the job:
// a crash there leaves the job's writes undone from that point.
func (r *runner) atNodePhase(system, phase string) {
	for _, k := range []fault.Kind{fault.Crash, fault.DiskFull, fault.IOError, fault.Stall, fault.Skew} {
		for _, s := range r.faults.plan.Fire(k, r.point(system, phase), r.clock.Peek(), "phase "+phase) {
			r.apply(context.Background(), s, system)
		}
	}
}

// atSystemsFinished fires a principal_crash whose after_systems count is
// reached.
func (r *runner) atSystemsFinished(finished int) {
	pt := r.point("", "")
	pt.Finished = finished
	for _, s := range r.faults.plan.Fire(fault.PrincipalCrash, pt, r.clock.Peek(), fmt.Sprintf("after %d systems", finished)) {
		r.apply(context.Background(), s, "")
	}
}

// cutUpload and corruptUpload are the drop and corrupt faults, at a
// node's upload.
func (r *runner) cutUpload(system string) func(string) (int64, bool) {
	return func(file string) (int64, bool) {
		for _, s := range r.faults.plan.Fire(fault.Drop, r.point(system, "transfer"), r.clock.Peek(), "upload "+file) {
			return s.AfterBytes, true
		}
		return 0, false
	}
}

func (r *runner) corruptUpload(system string) func(string) (int64, bool) {
	return func(file string) (int64, bool) {
		for _, s := range r.faults.plan.Fire(fault.Corrupt, r.point(system, "transfer"), r.clock.Peek(), "upload "+file) {
			return s.AfterBytes, true
		}
		return 0, false
	}
}

// apply does what a fired fault says, on system ("" on the principal).
func (r *runner) apply(ctx context.Context, s fault.Spec, system string) {
	f := r.faults
	var n *node
	if system != "" {
		n = r.nodes[system]
	}
	switch s.Kind {
	case fault.Refuse:
		down, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = n.Down(down)
	case fault.Crash:
		n.Crash()
	case fault.DiskFull:
		if n != nil {
			n.Faults.Full(s.Disk, true)
			return
		}
		f.mu.Lock()
		f.full[s.Disk] = true
		f.mu.Unlock()
	case fault.IOError:
		n.Faults.FailWriteAfter(s.AfterWrites)
	case fault.Stall:
		n.Faults.Stall(true)
		f.mu.Lock()
		f.stalls++
		f.mu.Unlock()
	case fault.Skew:
		n.Faults.Skew(s.By)
	case fault.PrincipalCrash:
		f.mu.Lock()
		f.killed = true
		f.mu.Unlock()
		r.mu.Lock()
		if r.crash != nil {
			r.crash()
		}
		r.mu.Unlock()
	}
}

// heal ends the faults whose time is up on the scenario clock (all of
// them with all), undoing what each did.
func (r *runner) heal(all bool) {
	f := r.faults
	for _, h := range f.plan.Heal(r.clock.Peek(), all) {
		var n *node
		if h.System != "" {
			n = r.nodes[h.System]
		}
		switch h.Kind {
		case fault.Refuse:
			_ = n.Up()
		case fault.Crash:
			if err := n.Restart(); err != nil {
				r.violate(InvLiveness, 0, h.System, "the node does not restart: %v", err)
			}
		case fault.DiskFull:
			if n != nil {
				n.Faults.Full(h.Spec.Disk, false)
			} else {
				f.mu.Lock()
				f.full[h.Spec.Disk] = false
				f.mu.Unlock()
			}
		case fault.Stall:
			n.Faults.Stall(false)
			f.mu.Lock()
			f.stalls--
			f.mu.Unlock()
		case fault.Skew:
			n.Faults.Skew(0)
		}
	}
}

// principalCheck is the principal's guard: nothing is written once SERVMGR
// was killed, nor to a disk a fault filled.
func (r *runner) principalCheck(op cms.Write, target string) error {
	f := r.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.killed {
		return errPrincipalKilled
	}
	if op == cms.WriteErase {
		return nil
	}
	if f.full["VMPSFS"] && strings.HasPrefix(target, "VMPSFS:") || f.full["MAINTCSM 0191"] && target == "MAINTCSM 0191" {
		return &cms.Error{Object: target, Err: cms.ErrDiskFull, Detail: "the disk is full (a fault of the simulation)"}
	}
	return nil
}

// restartPrincipal opens the principal afresh after SERVMGR was killed,
// as the next command does.
func (r *runner) restartPrincipal() error {
	f := r.faults
	f.mu.Lock()
	killed := f.killed
	f.killed = false
	f.mu.Unlock()
	if !killed {
		return nil
	}
	ps, err := world.Open(r.psys.FS())
	if err != nil {
		return fmt.Errorf("restarting the principal: %w", err)
	}
	r.psys = ps
	r.penv.Sys = cms.Guard(ps, r.principalCheck)
	r.penv.Locker = table.NewMemLocker()
	return nil
}

// pause is the wire's wait between polls: while a fault that lasts is in
// force, it moves the scenario clock on, so that the fault heals in
// polls, not in wall time.
func (r *runner) pause(ctx context.Context) error {
	f := r.faults
	f.mu.Lock()
	stalled := f.stalls > 0
	f.mu.Unlock()
	if stalled {
		r.clock.Advance(time.Second)
		r.heal(false)
	}
	// Otherwise no wait: the node's long poll waited for the job (see
	// awaitChange), and a sleep here would tie the link time charged
	// meanwhile to the machine's load.
	return ctx.Err()
}

// fleetPhase hears a phase begin or end (fleet.Wire.Observe) for faults.
func (r *runner) faultsAtPhase(ctx context.Context, p fleet.Phase) {
	if p.End.IsZero() {
		r.atPrincipalPhase(ctx, p.System, string(p.Name))
	}
}
