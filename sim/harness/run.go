package harness

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/fixtures"
	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/world"
)

// scenarioStart is the fixed start of every scenario's clock; the clock
// advances one second per reading (cms.NewStepClock), never with wall time.
func scenarioStart() time.Time { return time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC) }

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
	nodes map[string]*node
	names []string // systems in world order
	ports *regexp.Regexp
	base  fixtures.BaseSpec

	t0    time.Time // the timeline's zero
	spans []Span    // the timeline, from the steps' outcomes

	// What the phases observed while a step runs tell, under mu: the step
	// they belong to and the principal's crash countdown.
	mu         sync.Mutex
	cur        int // the step report index phases belong to
	crashAfter int
	finished   int
	crash      context.CancelFunc
}

// observe hears a phase from the engine (Wire.Observe) as it happens.
func (r *runner) observe(p fleet.Phase) {
	r.mu.Lock()
	cur := r.cur
	if !p.End.IsZero() {
		if p.Last() && p.OK && r.crashAfter > 0 {
			if r.finished++; r.finished == r.crashAfter {
				r.progress("the principal stops after %d systems finished (crash_after)", r.finished)
				r.crash()
			}
		}
	}
	r.mu.Unlock()
	if r.opts.Observe != nil {
		r.opts.Observe(cur, p)
	}
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
	defer r.stop()
	if err := r.build(ctx); err != nil {
		return nil, fmt.Errorf("%s: building the world: %w", sc.File, err)
	}
	rep := &Report{Scenario: sc.Name, File: filepath.Base(sc.File), Seed: r.seed, Release: sc.Release}
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
	if stopped {
		rep.Expectations = append(rep.Expectations, Expectation{Name: "end expectations", Status: "skipped",
			Reason: "not checked: the scenario stopped at a failed step"})
	} else {
		rep.Expectations = append(rep.Expectations, r.endChecks(ctx)...)
	}
	rep.Systems = r.finalSystems()
	rep.Timeline = r.spans
	rep.finish()
	return rep, nil
}

func (r *runner) build(ctx context.Context) error {
	sc := r.sc
	fsFor := func(name string) (afero.Fs, error) { return afero.NewMemMapFs(), nil }
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
			return afero.NewBasePathFs(afero.NewOsFs(), p), nil
		}
	}
	base, _, _ := fixtures.Sample()
	r.base = base
	pfs, err := fsFor("principal")
	if err != nil {
		return err
	}
	ps, err := world.SamplePrincipalWith(pfs, world.PrincipalOptions{SSI: sc.World.Principal.SSI,
		VMPSFSBlocks: sc.World.Principal.VMPSFSBlocks, Unload: world.BaseUnload(base)}, sc.Fixtures.Sample == nil || *sc.Fixtures.Sample)
	if err != nil {
		return err
	}
	for _, f := range sc.Fixtures.Envelopes {
		if err := ps.PutEnvelopes(r.envelope(f)); err != nil {
			return fmt.Errorf("fixture envelope %s: %w", strings.ToUpper(f.Name), err)
		}
	}
	if len(sc.World.Names) > 0 {
		if err := writeNames(ps, sc.World.Names); err != nil {
			return err
		}
	}
	r.clock = cms.NewStepClock(scenarioStart(), time.Second)
	r.psys = ps
	r.penv = &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: r.clock, User: "MAINTCSM"}
	now := r.opts.Now
	if now == nil {
		now = cms.NewStepClock(scenarioStart(), time.Millisecond).Now
	}
	r.t0 = now()
	r.wire = &fleet.Wire{Transport: transport.NewFTP(transport.FTPOptions{Timeout: 20 * time.Second}), Password: password,
		Workers: 16, Pause: func(ctx context.Context) error { time.Sleep(2 * time.Millisecond); return ctx.Err() },
		Now: now, Observe: r.observe}
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
		pw := password
		if spec.Password != "" {
			pw = spec.Password
		}
		served, err := s.Serve(s.Agent(r.clock, table.NewMemLocker()), csmserve.Config{Password: pw, ListenAddr: "127.0.0.1:0", Link: link})
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
	r.progress("world built: principal and %d managed systems", len(r.names))
	return nil
}

// envelope generates a fixture envelope against the sample BASE, its
// parts sized around PartBytes.
func (r *runner) envelope(f EnvelopeFixture) fixtures.EnvelopeSpec {
	base := r.base
	if f.PartBytes > 0 {
		base.Scale.PartBytes = f.PartBytes
	}
	seed, parts := f.Seed, f.Parts
	if seed == 0 {
		seed = r.seed
	}
	if parts == 0 {
		parts = 3
	}
	name := strings.ToUpper(f.Name)
	if strings.EqualFold(f.Kind, "COR") {
		return fixtures.COR(r.sc.Release, name, seed, base, strings.ToUpper(f.Component), parts)
	}
	return fixtures.RSU(r.sc.Release, name, seed, base, parts)
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

func (st Step) kind() string {
	switch {
	case st.Servmgr != nil:
		if st.Offline {
			return "servmgr-offline"
		}
		return "servmgr"
	case st.Managed != nil:
		return "managed"
	case st.LocalService != nil:
		return "local_service"
	case st.Install != nil:
		return "install"
	case st.Node != nil:
		return "node"
	case st.Wait != "":
		return "wait"
	}
	return "?"
}

// describe is the step as the report shows it: the servmgr line as
// written (placeholders not substituted), or the action in words.
func (st Step) describe() string {
	switch {
	case st.Servmgr != nil:
		return *st.Servmgr
	case st.Managed != nil:
		return fmt.Sprintf("MANAGED %s on %s", map[bool]string{true: "ON", false: "OFF"}[*st.Managed.On], strings.ToUpper(st.Managed.System))
	case st.LocalService != nil:
		env := st.LocalService.Envelope
		if st.LocalService.COR != nil {
			env = st.LocalService.COR.Name + " (generated COR)"
		}
		return fmt.Sprintf("local SERVICE %s %s on %s", strings.ToUpper(st.LocalService.Component), strings.ToUpper(env), strings.ToUpper(st.LocalService.System))
	case st.Install != nil:
		return fmt.Sprintf("install %s at %s", strings.ToUpper(st.Install.System), strings.ToUpper(st.Install.Level))
	case st.Node != nil:
		return fmt.Sprintf("CSMSERVE on %s %s", strings.ToUpper(st.Node.System), map[bool]string{true: "up", false: "down"}[*st.Node.Up])
	case st.Wait != "":
		return "wait " + st.Wait
	}
	return ""
}

func (r *runner) substitute(line string, n int) string {
	// ${N} and ${NN} first, so they may name a system: ${HOST:VM${NN}}.
	line = strings.NewReplacer("${NN}", fmt.Sprintf("%02d", n), "${N}", strconv.Itoa(n)).Replace(line)
	return placeholder.ReplaceAllStringFunc(line, func(m string) string {
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

// step runs one step (a repeated servmgr step gives one result each).
func (r *runner) step(ctx context.Context, i int, st Step) ([]StepReport, error) {
	var before map[string]string
	nodeBefore := map[string]map[string]string{}
	var err error
	if st.NothingChanged {
		if before, err = snapshot(r.psys.FS(), principalIgnore); err != nil {
			return nil, err
		}
	}
	for _, u := range st.UnchangedSystems {
		if nodeBefore[strings.ToUpper(u)], err = snapshot(r.nodes[strings.ToUpper(u)].Sys.FS(), nodeIgnore); err != nil {
			return nil, err
		}
	}
	var reports []StepReport
	switch {
	case st.Servmgr != nil:
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
			r.mu.Lock()
			r.cur = cur
			r.crashAfter, r.finished = st.CrashAfter, 0
			stepCtx, cancel := context.WithCancel(ctx)
			r.crash = cancel
			r.mu.Unlock()
			wire := r.wire
			if st.Offline {
				wire = nil
			}
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
			reports = append(reports, sr)
		}
	case st.Managed != nil:
		res, err := agent.Managed(r.nodes[strings.ToUpper(st.Managed.System)].Env, *st.Managed.On)
		if err != nil {
			res.Add(agent.Lines(err)...)
		}
		reports = append(reports, r.judge(st, st.describe(), res))
	case st.LocalService != nil:
		reports = append(reports, r.judge(st, st.describe(), r.localService(st.LocalService)))
	case st.Install != nil:
		res, err := r.install(st.Install)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r.judge(st, st.describe(), res))
	case st.Node != nil:
		res, err := r.nodeUpDown(strings.ToUpper(st.Node.System), *st.Node.Up)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r.judge(st, st.describe(), res))
	case st.Wait != "":
		d, _ := time.ParseDuration(st.Wait) // checked at load
		r.clock.Advance(d)
		reports = append(reports, r.judge(st, st.describe(), msg.Result{}))
	}
	last := &reports[len(reports)-1]
	if st.NothingChanged {
		after, err := snapshot(r.psys.FS(), principalIgnore)
		if err != nil {
			return nil, err
		}
		if d := diff(before, after); d != "" {
			last.fail("the principal changed: " + d)
		}
	}
	for _, u := range st.UnchangedSystems {
		name := strings.ToUpper(u)
		after, err := snapshot(r.nodes[name].Sys.FS(), nodeIgnore)
		if err != nil {
			return nil, err
		}
		if d := diff(nodeBefore[name], after); d != "" {
			last.fail("system " + name + " changed: " + d)
		}
	}
	return reports, nil
}

func (r *runner) localService(ls *LocalService) msg.Result {
	var res msg.Result
	n := r.nodes[strings.ToUpper(ls.System)]
	envelope := strings.ToUpper(ls.Envelope)
	if c := ls.COR; c != nil {
		comp := c.Component
		if comp == "" {
			comp = ls.Component
		}
		parts := c.Parts
		if parts == 0 {
			parts = 1
		}
		seed := c.Seed
		if seed == 0 {
			seed = r.seed
		}
		cor := fixtures.COR(r.sc.Release, strings.ToUpper(c.Name), seed, r.base, strings.ToUpper(comp), parts)
		disk, err := n.Sys.Minidisk(agent.MaintUser(r.sc.Release), agent.LocalDiskVaddr)
		if err == nil {
			err = cms.WriteFile(disk, cms.MustParseFileID(cor.FileID()), func(w io.Writer) error { return fixtures.WriteEnvelope(w, cor) })
		}
		if err != nil {
			res.Add(msg.Messagef(msg.CSM0000S, "writing the generated COR: "+err.Error()))
			return res
		}
		envelope = cor.Name
	}
	res, err := agent.LocalService(n.Env, strings.ToUpper(ls.Component), envelope)
	if err != nil {
		res.Add(agent.Lines(err)...)
	}
	return res
}

func (r *runner) install(in *Install) (msg.Result, error) {
	targets := []string{strings.ToUpper(in.System)}
	if strings.EqualFold(in.System, "ALL") {
		targets = r.names
	}
	var all msg.Result
	for _, name := range targets {
		n := r.nodes[name]
		res, err := world.InstallLevel(n.Sys, r.penv, n.Env, r.sc.Release, strings.ToUpper(in.Level))
		if err != nil {
			res.Add(agent.Lines(err)...)
		}
		if len(targets) > 1 {
			// one line per system is enough in the report
			summary := msg.Result{}
			for _, l := range res.Lines {
				if l.Sev != msg.Info {
					summary.Add(l)
				}
			}
			all.Add(summary.Lines...)
			continue
		}
		all.Add(res.Lines...)
	}
	return all, nil
}

// causes are the ids of the agents' lines behind a command's failures,
// which its own lines quote (CSM3055E quotes the job's CSM3110E).
func causes(out servmgr.Outcome) []string {
	var ids []string
	if out.Fleet != nil {
		for _, s := range out.Fleet.Systems {
			if s.Cause != nil {
				ids = append(ids, s.Cause.ID)
			}
		}
	}
	return ids
}

// judge checks a result against the step's expectation. A message the
// step expects may be one of its lines or a cause they quote.
func (r *runner) judge(st Step, line string, res msg.Result, causes ...string) StepReport {
	sr := StepReport{Kind: st.kind(), Line: line, RC: res.RC, Status: "pass"}
	seen := map[string]bool{}
	all := map[string]bool{}
	for _, l := range res.Lines {
		if !seen[l.ID] {
			seen[l.ID] = true
			sr.Messages = append(sr.Messages, l.ID)
		}
		all[l.ID] = true
		sr.Output = append(sr.Output, r.normalize(l.String()))
	}
	for _, id := range causes {
		all[id] = true
	}
	wantRC := 0
	var ex StepExpect
	if st.Expect != nil {
		ex = *st.Expect
		if ex.RC != nil {
			wantRC = *ex.RC
		}
	}
	if res.RC != wantRC {
		sr.fail(fmt.Sprintf("RC=%d, expected %d", res.RC, wantRC))
	}
	for _, id := range ex.Messages {
		if !all[strings.ToUpper(id)] {
			sr.fail("message " + strings.ToUpper(id) + " expected, not given")
		}
	}
	for _, id := range ex.NotMessages {
		if all[strings.ToUpper(id)] {
			sr.fail("message " + strings.ToUpper(id) + " given, not expected")
		}
	}
	return sr
}

func (sr *StepReport) fail(reason string) {
	sr.Status = "fail"
	if sr.Reason != "" {
		sr.Reason += "; "
	}
	sr.Reason += reason
}

// Files that change on every command and are not state: the message logs.
func principalIgnore(p string) bool { return strings.Contains(p, "$MSGLOG") }

// On a managed system, CSMSERVE's staging disk receives packages and job
// messages; only the system itself counts.
func nodeIgnore(p string) bool {
	return strings.Contains(p, agent.StagingOwner+"."+agent.StagingVaddr) || strings.Contains(p, "$MSGLOG")
}

// snapshot hashes every file of fsys (and records every directory).
func snapshot(fsys afero.Fs, ignore func(string) bool) (map[string]string, error) {
	out := map[string]string{}
	err := afero.Walk(fsys, "/", func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if ignore(p) {
			return nil
		}
		if info.IsDir() {
			out[p] = "dir"
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%x", h.Sum(nil))
		return nil
	})
	return out, err
}

func diff(a, b map[string]string) string {
	var d []string
	for p, h := range a {
		if h2, ok := b[p]; !ok {
			d = append(d, "removed "+p)
		} else if h2 != h {
			d = append(d, "changed "+p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			d = append(d, "added "+p)
		}
	}
	sort.Strings(d)
	if len(d) > 5 {
		d = append(d[:5], fmt.Sprintf("and %d more", len(d)-5))
	}
	return strings.Join(d, ", ")
}

// systemState reads a system's CMS component row of VM SYSSUF.
func (r *runner) systemState(name string) SystemReport {
	n := r.nodes[name]
	sr := SystemReport{Name: name, Level: "-", State: "-", Prod: "-"}
	info, err := agent.Info(n.Env)
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	sr.Managed = info.Managed
	inv, _, err := agent.Query(n.Env)
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	if e, ok := inv.Get("CMS"); ok {
		sr.Level, _ = e.Get(agent.TagLevel)
		sr.State, _ = e.Get(agent.TagState)
		sr.Prod, _ = e.Get(agent.TagProd)
	}
	return sr
}

func (r *runner) finalSystems() []SystemReport {
	out := make([]SystemReport, 0, len(r.names))
	for _, name := range r.names {
		out = append(out, r.systemState(name))
	}
	return out
}

func (r *runner) endChecks(ctx context.Context) []Expectation {
	ex := r.sc.Expect
	if ex == nil {
		return nil
	}
	var out []Expectation
	check := func(name, want, got string) {
		e := Expectation{Name: name, Want: want, Got: got, Status: "pass"}
		if !strings.EqualFold(want, got) {
			e.Status, e.Reason = "fail", fmt.Sprintf("got %s, expected %s", got, want)
		}
		out = append(out, e)
	}
	var systems []SystemCheck
	for _, s := range ex.Systems {
		if !strings.EqualFold(s.Name, "ALL") {
			systems = append(systems, s)
			continue
		}
		for _, n := range r.names { // ALL: the same check on every system
			c := s
			c.Name = n
			systems = append(systems, c)
		}
	}
	for _, s := range systems {
		name := strings.ToUpper(s.Name)
		got := r.systemState(name)
		if got.Error != "" {
			out = append(out, Expectation{Name: "system " + name, Status: "fail", Reason: r.normalize(got.Error)})
			continue
		}
		if s.Level != "" {
			check("system "+name+" level", s.Level, got.Level)
		}
		if s.State != "" {
			check("system "+name+" state", s.State, got.State)
		}
		if s.Prod != "" {
			check("system "+name+" prod", s.Prod, got.Prod)
		}
		if s.Managed != nil {
			check("system "+name+" managed", strconv.FormatBool(*s.Managed), strconv.FormatBool(got.Managed))
		}
	}
	if len(ex.Levels) > 0 {
		_, levels, err := r.penv.ReadLevels(r.sc.Release)
		for _, l := range ex.Levels {
			name := strings.ToUpper(l.Name)
			if err != nil {
				out = append(out, Expectation{Name: "level " + name, Status: "fail", Reason: err.Error()})
				continue
			}
			en, ok := levels.Get(name)
			if !ok {
				out = append(out, Expectation{Name: "level " + name, Want: "defined", Got: "not defined", Status: "fail",
					Reason: "level " + name + " is not in the Service Level Table"})
				continue
			}
			if l.State != "" {
				v, _ := en.Get("STATE")
				check("level "+name+" state", l.State, v)
			}
			if l.Lock != "" {
				v, _ := en.Get("LOCK")
				check("level "+name+" lock", l.Lock, v)
			}
		}
	}
	if sc := ex.Servcheck; sc != nil {
		res := servmgr.Run(ctx, r.penv, r.wire, []string{"system servcheck " + r.sc.Release + " all"})
		drift := map[string]bool{}
		if res.Fleet != nil {
			for _, s := range res.Fleet.Systems {
				if len(s.Drift) > 0 {
					drift[s.System] = true
				}
			}
		}
		got := sortedKeys(drift)
		want := []string{}
		for _, d := range sc.Drift {
			want = append(want, strings.ToUpper(d))
		}
		sort.Strings(want)
		e := Expectation{Name: "servcheck", Want: "clean", Got: "clean", Status: "pass"}
		if len(want) > 0 {
			e.Want = "drift " + strings.Join(want, " ")
		}
		if len(got) > 0 {
			e.Got = "drift " + strings.Join(got, " ")
		}
		if e.Want != e.Got {
			e.Status, e.Reason = "fail", fmt.Sprintf("got %s, expected %s", e.Got, e.Want)
		} else if len(want) == 0 && res.RC != 0 {
			e.Status, e.Reason = "fail", fmt.Sprintf("SERVCHECK ended RC=%d", res.RC)
			for _, l := range res.Lines {
				if l.Sev != msg.Info {
					e.Reason += "; " + r.normalize(l.String())
					break
				}
			}
			e.Got = fmt.Sprintf("RC=%d", res.RC)
		}
		out = append(out, e)
	}
	out = append(out, r.tableChecks(ex.Tables)...)
	out = append(out, r.fileChecks(ex.Files)...)
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// writeNames writes MAINTCSM NAMES on MAINTCSM's A-disk, nicknames sorted
// so the same scenario always gives the same file.
func writeNames(ps *world.System, names map[string][]string) error {
	t, err := table.New(table.Names().Name, table.Names().KeyTag)
	if err != nil {
		return err
	}
	for _, nick := range slices.Sorted(maps.Keys(names)) {
		if err := t.Add(table.NewEntry(table.Names().KeyTag, strings.ToUpper(nick), table.TagList, strings.ToUpper(strings.Join(names[nick], " ")))); err != nil {
			return err
		}
	}
	if err := table.CheckNames(t); err != nil {
		return err
	}
	return ps.WriteAdminFile(table.Names().File.Name(), func(w io.Writer) error {
		_, err := t.WriteTo(w)
		return err
	})
}
