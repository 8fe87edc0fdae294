package csmsimtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/leakcheck"
	"github.com/csmsim/csmsim/sim/netem"
	"github.com/csmsim/csmsim/sim/world"
)

// User is CSMWORK, the only user a CSMSERVE node lets in.
const User = "CSMWORK"

// start is the fleet clock's first reading, the scenarios' own.
func start() time.Time { return time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC) }

const (
	// stopWait bounds how long Close waits for a node's running job.
	stopWait = 10 * time.Second
	// leakGrace is how long the fleet's goroutines get to end once its
	// nodes stopped (closed connections end asynchronously).
	leakGrace = 5 * time.Second
)

// A Fleet is a simulated principal and its managed systems, each
// serving CSMSERVE on loopback. Its methods may be called from any
// goroutine; SERVMGR commands run one at a time, as one MAINTCSM types
// them.
type Fleet struct {
	id       string // the leak check's label of the fleet's goroutines
	release  string
	password string
	names    []string // systems in order
	nodes    map[string]*world.Node
	penv     *level.Env
	wire     *fleet.Wire
	link     *netem.Clock

	charged map[string]*atomic.Int64 // each shaped system's link time, made at start

	cmd      sync.Mutex // one SERVMGR (or Install) at a time
	mu       sync.Mutex // guards closed
	closed   bool
	inflight sync.WaitGroup
	ctx      context.Context // ends at Close: commands still running stop
	cancel   context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// TB is what NewFleet needs of a test: the methods of testing.TB it
// calls. *testing.T, *testing.B, *testing.F and Ginkgo's GinkgoT() have
// them (GinkgoT() is no testing.TB, whose private method only the testing
// package can implement).
type TB interface {
	Helper()
	Cleanup(func())
	Error(args ...any)
	Fatal(args ...any)
}

// NewFleet starts a fleet for t, and closes it when t and its subtests
// end (t.Cleanup; with Ginkgo, DeferCleanup), failing t if the fleet does
// not stop cleanly. A fleet that cannot start fails t at once (t.Fatal).
func NewFleet(t TB, opts ...Option) *Fleet {
	t.Helper()
	f, err := StartFleet(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	return f
}

// StartFleet starts a fleet as NewFleet does, for code without a test
// at hand (a TestMain, a Ginkgo BeforeSuite, a program); the caller
// closes it.
func StartFleet(opts ...Option) (*Fleet, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("csmsimtest: %w", err)
	}
	f := &Fleet{release: c.release, nodes: map[string]*world.Node{}, link: &netem.Clock{}, charged: map[string]*atomic.Int64{}}
	f.id = fmt.Sprintf("csmsimtest-%p", f)
	f.ctx, f.cancel = context.WithCancel(context.Background())
	// Every goroutine the fleet starts (its servers, their sessions)
	// carries its label, so that Close can wait for them all.
	leakcheck.Do(context.Background(), f.id, func(ctx context.Context) { err = f.start(ctx, c) })
	if err != nil {
		return nil, errors.Join(fmt.Errorf("csmsimtest: starting the fleet: %w", err), f.Close())
	}
	return f, nil
}

// start builds the principal and the systems, and installs the level.
func (f *Fleet) start(ctx context.Context, c *config) error {
	f.password = "csmwork-" + rand.Text()
	ps, err := world.SamplePrincipalWith(afero.NewMemMapFs(), world.PrincipalOptions{
		Releases: []world.ReleaseBase{{Release: c.release}}}, true)
	if err != nil {
		return fmt.Errorf("principal: %w", err)
	}
	for _, e := range c.envelopes {
		seed := e.Seed
		if seed == 0 {
			seed = c.seed
		}
		spec := world.Envelope{Name: e.Name, Kind: e.Kind, Component: e.Component, Release: c.release, Parts: e.Parts,
			PartBytes: e.PartBytes, Seed: seed}.Spec()
		if err := ps.PutEnvelopes(spec); err != nil {
			return fmt.Errorf("envelope %s: %w", strings.ToUpper(e.Name), err)
		}
	}
	if len(c.nicknames) > 0 {
		if err := ps.WriteNames(c.nicknames); err != nil {
			return fmt.Errorf("MAINTCSM NAMES: %w", err)
		}
	}
	clock := cms.NewStepClock(start(), time.Second)
	f.penv = &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: clock, User: level.Admin}
	// The phases' times run on a clock of their own plus the link time
	// charged: a distant system's transfer takes its time there, none on
	// the wall.
	phaseClock := cms.NewStepClock(start(), time.Millisecond)
	f.wire = &fleet.Wire{Transport: transport.NewFTP(transport.FTPOptions{Timeout: 20 * time.Second}), Password: f.password,
		Workers: 1, Serial: true, Pause: func(ctx context.Context) error { return ctx.Err() },
		Now: func() time.Time { return phaseClock.Now().Add(f.link.Elapsed()) }, Deadline: f.link.WithTimeout}
	for i, name := range c.names {
		s, err := world.InitManaged(afero.NewMemMapFs(), world.ManagedOptions{Name: name, Release: c.release, Seed: c.seed + uint64(i)})
		if err != nil {
			return fmt.Errorf("system %s: %w", name, err)
		}
		lat, bw := c.linkOf(name)
		shaped := netem.Link{Latency: lat, Bandwidth: bw}
		if !shaped.IsZero() {
			shaped.Charge = f.charge(name)
		}
		n, err := s.Serve(s.Agent(clock, table.NewMemLocker()), csmserve.Config{Password: f.password, ListenAddr: "127.0.0.1:0",
			Link: shaped, AwaitChange: world.UntilChanged})
		if err != nil {
			return fmt.Errorf("system %s: %w", name, err)
		}
		f.nodes[name] = n
		f.names = append(f.names, name)
	}
	if c.level == "" {
		return nil
	}
	return f.install(ctx, c)
}

// install is the Installed option: the level defined and serviced, put
// on every system, and every system added.
func (f *Fleet) install(ctx context.Context, c *config) error {
	rel, lvl := c.release, c.level
	lines := []string{"initialize " + rel, fmt.Sprintf("srvlvl add %s %s basedon BASE", rel, lvl)}
	for _, e := range c.services {
		lines = append(lines, fmt.Sprintf("srvlvl service %s %s all %s", rel, lvl, e))
	}
	if err := f.setup(ctx, lines...); err != nil {
		return err
	}
	if err := f.installOn(f.names, lvl); err != nil {
		return err
	}
	lines = nil
	for _, name := range f.names {
		n := f.Node(name)
		lines = append(lines, fmt.Sprintf("system add %s %s %s hostname %s (port %d norequire", rel, name, lvl, n.Host(), n.Port()))
	}
	return f.setup(ctx, lines...)
}

// setup runs SERVMGR lines of the fleet's own making, each of which must
// end with RC 0.
func (f *Fleet) setup(ctx context.Context, lines ...string) error {
	for _, line := range lines {
		out := servmgr.Run(ctx, f.penv, f.wire, []string{line})
		if out.RC != 0 {
			return fmt.Errorf("SERVMGR %s ended RC=%d:\n%s", line, out.RC, strings.Join(out.Strings(), "\n"))
		}
	}
	return nil
}

// Install puts system (or every system, for ALL) at level, a level of the
// fleet's release defined on the principal, as installing z/VM does: a
// full package of the level staged on the system, its components
// installed, loaded STABLE and put into production. The principal is only
// read, and SYSSTAT is left as it is: SYSTEM ADD records the system.
func (f *Fleet) Install(system, level string) error {
	if err := f.begin(); err != nil {
		return err
	}
	defer f.inflight.Done()
	targets := []string{strings.ToUpper(system)}
	if strings.EqualFold(system, "ALL") {
		targets = f.names
	}
	for _, s := range targets {
		if _, err := f.node(s); err != nil {
			return err
		}
	}
	f.cmd.Lock()
	defer f.cmd.Unlock()
	return f.installOn(targets, strings.ToUpper(level))
}

func (f *Fleet) installOn(systems []string, lvl string) error {
	for _, name := range systems {
		n := f.nodes[name]
		res, err := world.InstallLevel(n.Sys, f.penv, n.Env, f.release, lvl)
		if err != nil {
			return fmt.Errorf("csmsimtest: installing level %s of release %s on %s: %w\n%s", lvl, f.release, name, err,
				strings.Join(res.Strings(), "\n"))
		}
	}
	return nil
}

// Close stops every node, letting a job in flight end first, once the
// SERVMGR commands still running have stopped (Close cancels them), and
// waits until every goroutine of the fleet has ended. It reports what did
// not stop. Close may be called more than once: the later calls return
// what the first did. The systems' state stays readable.
func (f *Fleet) Close() error {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closed = true
		f.mu.Unlock()
		f.cancel()
		f.inflight.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), stopWait)
		defer cancel()
		var errs []error
		for _, name := range f.names {
			if err := f.nodes[name].Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("csmsimtest: stopping %s's CSMSERVE: %w", name, err))
			}
		}
		if n, first := leakcheck.Wait(f.id, leakGrace); n > 0 {
			errs = append(errs, fmt.Errorf("csmsimtest: %d goroutines of the fleet still run %v after its nodes stopped; the first: %s",
				n, leakGrace, first))
		}
		f.closeErr = errors.Join(errs...)
	})
	return f.closeErr
}

// begin admits a call that works on the fleet until Close; the caller
// ends it with f.inflight.Done.
func (f *Fleet) begin() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("csmsimtest: the fleet is closed; start another (NewFleet, StartFleet)")
	}
	f.inflight.Add(1)
	return nil
}

// SystemNames are the managed systems, in the order the options gave
// them.
func (f *Fleet) SystemNames() []string { return slices.Clone(f.names) }

// Release is the release of the fleet's service and systems, e.g. "720".
func (f *Fleet) Release() string { return f.release }

// Credentials are the user and password every node of the fleet lets in
// (CSMWORK's), as the principal logs in. The password is made for each
// fleet and written nowhere else.
func (f *Fleet) Credentials() (user, password string) { return User, f.password }

// A Node is a managed system's CSMSERVE, the FTP server the principal
// reaches it by.
type Node struct {
	name, addr string
}

// Node is the CSMSERVE of system (any case). It panics if the fleet has
// no such system: a test names the systems it asked for (SystemNames).
func (f *Fleet) Node(system string) Node {
	n, err := f.node(system)
	if err != nil {
		panic(err)
	}
	return Node{name: strings.ToUpper(system), addr: n.Addr()}
}

func (f *Fleet) node(system string) (*world.Node, error) {
	n, ok := f.nodes[strings.ToUpper(system)]
	if !ok {
		return nil, fmt.Errorf("csmsimtest: the fleet has no system %s; its systems are %s", strings.ToUpper(system),
			strings.Join(f.names, ", "))
	}
	return n, nil
}

// Name is the system's name, e.g. VM01.
func (n Node) Name() string { return n.name }

// Addr is where the node's CSMSERVE listens, host:port on loopback,
// e.g. 127.0.0.1:40123: the HOSTNAME and PORT of the system's SYSTEM ADD
// (Installed types them).
func (n Node) Addr() string { return n.addr }

// Host is the host of Addr, 127.0.0.1.
func (n Node) Host() string {
	h, _, _ := net.SplitHostPort(n.addr)
	return h
}

// Port is the port of Addr.
func (n Node) Port() int {
	_, p, _ := net.SplitHostPort(n.addr)
	port, _ := strconv.Atoi(p)
	return port
}

// LinkTime is the time system's link (Link) has charged so far: every
// latency and every pacing wait of its connections, in both directions.
// It is zero for a system whose link is not shaped. No wall time passes
// for it.
func (f *Fleet) LinkTime(system string) time.Duration {
	if lt, ok := f.charged[strings.ToUpper(system)]; ok {
		return time.Duration(lt.Load())
	}
	return 0
}

// charge is system's link's Charge: the delay goes on the fleet's link
// clock (SEND's phases, a wave's DEADLINE) and on the system's account.
func (f *Fleet) charge(system string) func(time.Duration) {
	lt := &atomic.Int64{}
	f.charged[system] = lt
	return func(d time.Duration) {
		lt.Add(int64(d))
		f.link.Charge(d)
	}
}
