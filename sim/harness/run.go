package harness

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/fixtures"
	"github.com/csmsim/csmsim/internal/buildinfo"
	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/hostfs"
	"github.com/csmsim/csmsim/sim/leakcheck"
	"github.com/csmsim/csmsim/sim/memfs"
	"github.com/csmsim/csmsim/sim/netem"
	"github.com/csmsim/csmsim/sim/world"
)

// scenarioStart is the fixed start of every scenario's clock; the clock
// advances one second per reading (cms.NewStepClock), never with wall time.
func scenarioStart() time.Time { return time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC) }

// leakGrace is how long goroutines of a stopped world get to finish
// (closing connections end asynchronously) before they count as leaked.
const leakGrace = 5 * time.Second

// password is CSMWORK's on every simulated node.
const password = "scenario-csmwork-1"

// Options change how a scenario runs.
type Options struct {
	Seed    *uint64   // overrides the scenario's seed
	Workdir string    // "" builds the world in memory; else a fresh disk-backed world under it
	Out     io.Writer // progress lines; nil for none
	// Now times the systems' phases for the report's timeline (wall time
	// in the CLI). nil: a counting clock, so nothing depends on timing.
	Now func() time.Time
	// Observe hears every phase of every system as it starts and ends,
	// with the index of the step report it belongs to (progress bars).
	Observe func(step int, p fleet.Phase)
	// Swarm switches each fault kind on or off, and picks each fault's
	// probability, by the seed (as the scenario's swarm: true).
	Swarm bool
}

// node is one in-process managed system with its CSMSERVE on loopback.
type node struct {
	*world.Node
	host, port string
}

type runner struct {
	sc    *Scenario
	seed  uint64
	opts  Options
	penv  *level.Env
	psys  *world.System
	wire  *fleet.Wire
	clock *cms.StepClock
	// link is the world's virtual link time: every delay a distant
	// system's link would wait is charged to it instead (netem.Link.Charge);
	// the wire's Now and a roll-out wave's deadline run on it.
	link    *netem.Clock
	charged map[string]time.Duration // each system's link time, under mu
	nodes   map[string]*node
	names   []string // systems in world order
	ports   *regexp.Regexp

	t0        time.Time             // the timeline's zero
	spans     []Span                // the timeline, from the steps' outcomes
	stepStart map[int]time.Duration // when each step began, since t0

	violations []Violation          // the invariants broken, under mu
	seen       map[string]string    // each system's state after the last step (refused-nothing)
	states     map[string]readState // each system's state as last read, by its fs's generation
	tablesSeen string               // the principal's tables after the last step
	faults     *faults              // the run's fault plan and what it does

	// revisions are the parts each level had at the steps where a system
	// was at it: a TEST level revised on the principal (SETLOCK OFF, more
	// service, PACKAGE) leaves the systems at its earlier revision whole.
	revisions map[string][]map[string]string

	// What the phases observed while a step runs tell, under mu: the step
	// they belong to and the principal's crash countdown.
	mu         sync.Mutex
	cur        int    // the step report index phases belong to
	command    string // the running step's command, as faults name it
	crashAfter int
	finished   int
	crash      context.CancelFunc
}

func (r *runner) progress(format string, args ...any) {
	if r.opts.Out != nil {
		fmt.Fprintf(r.opts.Out, format+"\n", args...)
	}
}

// Run builds the scenario's world, runs its steps and checks its
// expectations. The error is for a world that could not be built or run;
// failed expectations are in the report (Report.Pass false).
func Run(ctx context.Context, sc *Scenario, opts Options) (*Report, error) {
	r := &runner{sc: sc, seed: sc.Seed, opts: opts, nodes: map[string]*node{}}
	if opts.Seed != nil {
		r.seed = *opts.Seed
	}
	var (
		rep *Report
		err error
	)
	id := fmt.Sprintf("%p", r)
	leakcheck.Do(ctx, id, func(ctx context.Context) { rep, err = r.run(ctx) })
	if err != nil {
		return nil, err
	}
	if n, first := leakcheck.Wait(id, leakGrace); n > 0 {
		r.violate(InvNoLeak, 0, "", "%d goroutines of the run are still running once its world stopped; the first: %s", n, first)
		rep.Violations = r.violations
	}
	rep.finish()
	return rep, nil
}

// run runs the steps and the end checks, and stops the world.
func (r *runner) run(ctx context.Context) (*Report, error) {
	sc := r.sc
	defer r.stop()
	if err := r.build(ctx); err != nil {
		return nil, fmt.Errorf("%s: building the world: %w", sc.File, err)
	}
	rep := &Report{Version: buildinfo.Read().String(), Scenario: sc.Name, File: filepath.Base(sc.File), Seed: r.seed, Release: sc.Release}
	stopped := false
	for i, st := range sc.Steps {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if stopped {
			rep.Steps = append(rep.Steps, StepReport{Index: len(rep.Steps) + 1, Kind: st.kind(), Line: st.describe(), Status: "skipped",
				Reason: "an earlier step failed (on_failure: stop)"})
			continue
		}
		r.mu.Lock()
		r.cur = len(rep.Steps) + 1
		r.mu.Unlock()
		r.stepStarts(len(rep.Steps) + 1) // a servmgr step marks each repetition again
		results, err := r.step(ctx, i, st)
		if err != nil {
			return nil, fmt.Errorf("%s:%d:%d: step %d: %w", sc.File, st.line, st.col, i+1, err)
		}
		for _, sr := range results {
			sr.Index = len(rep.Steps) + 1
			if sr.rollout != nil {
				sr.rollout.Step = sr.Index
				rep.Rollouts = append(rep.Rollouts, *sr.rollout)
			}
			rep.Steps = append(rep.Steps, sr)
			r.checkInvariants(sr.Index, sr.outcome)
			mark := "ok"
			if sr.Status != "pass" {
				mark = "FAILED: " + sr.Reason
			}
			r.progress("step %d %s: %s RC=%d %s", sr.Index, sr.Kind, sr.Line, sr.RC, mark)
			if sr.Status != "pass" && st.OnFailure == "stop" {
				stopped = true
			}
		}
	}
	r.heal(true)
	if stopped {
		rep.Expectations = append(rep.Expectations, Expectation{Name: "end expectations", Status: "skipped",
			Reason: "not checked: the scenario stopped at a failed step"})
	} else {
		rep.Expectations = append(rep.Expectations, r.liveness(ctx, rep)...)
	}
	r.checkInvariants(0, nil)
	rep.Violations = r.violations
	rep.Faults = r.faults.plan.FiredAll()
	rep.Systems = r.finalSystems()
	rep.Timeline = r.spans
	rep.StepStart = r.stepStart
	r.mu.Lock()
	rep.LinkTime = maps.Clone(r.charged)
	r.mu.Unlock()
	return rep, nil
}

// stepStarts marks step (a StepReport.Index) as beginning now, on the
// timeline's clock.
func (r *runner) stepStarts(step int) {
	if r.stepStart == nil {
		r.stepStart = map[int]time.Duration{}
	}
	r.stepStart[step] = r.wire.Now().Sub(r.t0)
}

func (r *runner) build(ctx context.Context) error {
	sc := r.sc
	// In memory: sparse images, and the bytes systems share (one level's
	// parts on every system) held once.
	fsFor := func(name string) (afero.Fs, error) { return memfs.New(memfs.Options{}), nil }
	if r.opts.Workdir != "" {
		if err := os.MkdirAll(r.opts.Workdir, 0o755); err != nil {
			return err
		}
		dir, err := os.MkdirTemp(r.opts.Workdir, safeName(sc.Name)+"-")
		if err != nil {
			return err
		}
		r.progress("world on disk in %s", dir)
		fsFor = func(name string) (afero.Fs, error) {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(p, 0o755); err != nil {
				return nil, err
			}
			return hostfs.New(p), nil
		}
	}
	pfs, err := fsFor("principal")
	if err != nil {
		return err
	}
	var releases []world.ReleaseBase
	for _, rel := range sc.releases() {
		releases = append(releases, world.ReleaseBase{Release: rel, Unload: world.BaseUnload(world.SampleBase(rel))})
	}
	ps, err := world.SamplePrincipalWith(pfs, world.PrincipalOptions{SSI: sc.World.Principal.SSI,
		VMPSFSBlocks: sc.World.Principal.VMPSFSBlocks, Releases: releases}, sc.Fixtures.Sample == nil || *sc.Fixtures.Sample)
	if err != nil {
		return err
	}
	for _, f := range sc.Fixtures.Envelopes {
		if err := ps.PutEnvelopes(r.envelope(f)); err != nil {
			return fmt.Errorf("fixture envelope %s: %w", strings.ToUpper(f.Name), err)
		}
	}
	if len(sc.World.Names) > 0 {
		if err := ps.WriteNames(sc.World.Names); err != nil {
			return err
		}
	}
	r.clock = cms.NewStepClock(scenarioStart(), time.Second)
	r.psys = ps
	r.penv = &level.Env{Sys: cms.Guard(ps, r.principalCheck), Locker: table.NewMemLocker(), Clock: r.clock, User: "MAINTCSM"}
	now := r.opts.Now
	if now == nil {
		now = cms.NewStepClock(scenarioStart(), time.Millisecond).Now
	}
	r.link, r.charged = &netem.Clock{}, map[string]time.Duration{}
	// The phases' times and the roll-out's deadlines include the link time
	// charged: a distant system's transfer takes its time on the wire's
	// clock, and none on the wall.
	wireNow := func() time.Time { return now().Add(r.link.Elapsed()) }
	r.wire = &fleet.Wire{Transport: transport.NewFTP(transport.FTPOptions{Timeout: 20 * time.Second}), Password: password,
		Workers: 1, Serial: true, Pause: r.pause, Now: wireNow, Observe: r.observe, Deadline: r.link.WithTimeout}
	var ports []string
	for i, spec := range sc.systemSpecs() {
		fsys, err := fsFor(spec.Name)
		if err != nil {
			return err
		}
		s, err := world.InitManaged(fsys, world.ManagedOptions{Name: spec.Name, SSI: spec.SSI, Release: spec.Release, Seed: r.seed + uint64(i),
			VMPSFSBlocks: spec.VMPSFSBlocks})
		if err != nil {
			return fmt.Errorf("system %s: %w", spec.Name, err)
		}
		link, err := sc.link(spec)
		if err != nil {
			return fmt.Errorf("system %s: %w", spec.Name, err)
		}
		if !link.IsZero() {
			link.Charge = r.charge(spec.Name)
		}
		pw := password
		if spec.Password != "" {
			pw = spec.Password
		}
		served, err := s.Serve(s.Agent(r.clock, table.NewMemLocker()), csmserve.Config{Password: pw, ListenAddr: "127.0.0.1:0", Link: link,
			AwaitChange: world.UntilChanged,
			CutUpload:   r.cutUpload(spec.Name), CorruptUpload: r.corruptUpload(spec.Name)})
		if err != nil {
			return fmt.Errorf("system %s: %w", spec.Name, err)
		}
		n := &node{Node: served}
		n.host, n.port, _ = strings.Cut(served.Server.Addr(), ":")
		ports = append(ports, regexp.QuoteMeta(n.port))
		r.nodes[spec.Name] = n
		r.names = append(r.names, spec.Name)
	}
	if len(ports) > 0 {
		r.ports = regexp.MustCompile(`\b(` + strings.Join(ports, "|") + `)\b`)
	}
	if err := r.armFaults(); err != nil {
		return err
	}
	// The timeline's zero: the world built, the first step about to run.
	r.t0 = now()
	r.progress("world built: principal and %d managed systems", len(r.names))
	return nil
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

// charge is system's link's Charge: the delay goes on the world's link
// clock and on the system's account, and no wall time passes.
func (r *runner) charge(system string) func(time.Duration) {
	return func(d time.Duration) {
		r.mu.Lock()
		r.charged[system] += d
		r.mu.Unlock()
		r.link.Charge(d)
	}
}

// envelope is a fixture envelope, its release and seed the scenario's
// unless it names its own.
func (r *runner) envelope(f EnvelopeFixture) fixtures.EnvelopeSpec {
	e := world.Envelope{Name: f.Name, Kind: f.Kind, Component: f.Component, Release: f.Release, Parts: f.Parts,
		PartBytes: f.PartBytes, Seed: f.Seed}
	if e.Release == "" {
		e.Release = r.sc.Release
	}
	if e.Seed == 0 {
		e.Seed = r.seed
	}
	return e.Spec()
}

func (r *runner) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range r.names {
		_ = r.nodes[name].Stop(ctx)
	}
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// normalize removes what varies between runs: the nodes' ports.
func (r *runner) normalize(s string) string {
	s = loopback.ReplaceAllString(s, "127.0.0.1:PORT")
	if r.ports != nil {
		s = r.ports.ReplaceAllString(s, "PORT")
	}
	return s
}

var loopback = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// liveness checks the end expectations; when faults fired and the end
// state is not reached, the faults are healed and the scenario's SEND and
// PUT2PROD steps run again, in order, up to the scenario's bound (3 by
// default): a roll-out a fault halted and a retry finished passes, one that
// never finishes breaks the liveness invariant. The retries are steps of
// the report, of kind liveness.
func (r *runner) liveness(ctx context.Context, rep *Report) []Expectation {
	exps := r.endChecks(ctx)
	if len(r.faults.plan.FiredAll()) == 0 || !failing(exps) {
		return exps
	}
	within := 3
	if r.sc.Liveness != nil {
		within = r.sc.Liveness.Within
	}
	var again []Step
	for _, st := range r.sc.Steps {
		if st.Servmgr != nil && st.Repeat == nil {
			if c := commandOf(*st.Servmgr); c == "send" || c == "put2prod" {
				retry := st
				retry.Expect, retry.CrashAfter, retry.NothingChanged, retry.UnchangedSystems = &StepExpect{RC: RCs{0, 4, 8}}, 0, false, nil
				again = append(again, retry)
			}
		}
	}
	for try := 1; try <= within && len(again) > 0 && failing(exps); try++ {
		for _, st := range again {
			r.mu.Lock()
			r.cur = len(rep.Steps) + 1
			r.mu.Unlock()
			for _, sr := range r.servmgrStep(ctx, st) {
				sr.Index, sr.Kind = len(rep.Steps)+1, "liveness"
				rep.Steps = append(rep.Steps, sr)
				r.checkInvariants(sr.Index, sr.outcome)
			}
		}
		exps = r.endChecks(ctx)
	}
	if failing(exps) {
		r.violate(InvLiveness, 0, "", "once the faults were healed, %d runs of the scenario's SEND and PUT2PROD steps did not reach its end state", within)
	}
	return exps
}

func failing(exps []Expectation) bool {
	return slices.ContainsFunc(exps, func(e Expectation) bool { return e.Status != "pass" })
}
