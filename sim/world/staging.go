package world

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/csmserve"
)

// StagingFs is CSMSERVE's FTP root: the files of its 0191 disk, charged
// to the disk as they are written, so that a full disk refuses an upload
// (552).
func (s *System) StagingFs() (afero.Fs, error) {
	m, err := s.cms.Minidisk(agent.StagingOwner, agent.StagingVaddr)
	if err != nil {
		return nil, err
	}
	return m.RawFs(), nil
}

// Node is a managed system serving CSMSERVE: its agent, the agent's job
// runner, and the FTP server on its staging disk. Up, Down, Stop, Crash,
// Restart, Addr and Running may be called from any goroutine.
type Node struct {
	Sys  *System
	Env  *agent.Env // the agent as CSMSERVE runs it: its writes and clock obey Faults
	Jobs *agent.Jobs
	// Server is the running CSMSERVE, nil while the node is down. Up and
	// Down set and clear it under mu: read it directly only where neither
	// can run at the same time (right after Serve), else use Addr.
	Server *csmserve.Server
	// Faults are the faults in force on the node, across restarts.
	Faults *Faults

	mu     sync.Mutex // guards Sys, Env, Jobs, Server, cfg and killed
	cfg    csmserve.Config
	base   agent.Env // as Serve got it: each incarnation is built around it
	killed *bool     // the running incarnation was killed
}

// Serve starts the system's CSMSERVE with cfg, its Fs, Agent and System
// filled in: the staging disk as the FTP root and env's CSMAGENT behind
// SITE.
func (s *System) Serve(env *agent.Env, cfg csmserve.Config) (*Node, error) {
	n := &Node{Faults: &Faults{}, base: *env, cfg: cfg}
	wait := cfg.AwaitChange
	if wait == nil {
		wait = csmserve.WaitUpTo(cfg.StatusWait)
	}
	n.cfg.AwaitChange = n.Faults.awaitChange(wait)
	if err := n.incarnate(s); err != nil {
		return nil, err
	}
	return n, n.Up()
}

// incarnate builds the agent, its jobs and CSMSERVE's configuration of a
// (re)started node on s. n.mu is held, or n is not shared yet.
func (n *Node) incarnate(s *System) error {
	staging, err := s.StagingFs()
	if err != nil {
		return err
	}
	killed := new(bool)
	dead := func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return *killed
	}
	fs := stagingFs{Fs: staging, f: n.Faults, killed: dead}
	// A new incarnation knows no receipts, as a restarted process would not.
	book := csmserve.NewReceipts()
	env := n.base
	env.Sys = cms.Guard(s, n.Faults.check(killed, &n.mu))
	env.Clock = skewed{n.base.Clock, n.Faults}
	env.Watch = n.Faults.watch
	env.Receipts = receipts{book: book, fs: fs}
	n.Sys, n.Env, n.Jobs, n.killed = s, &env, agent.NewJobs(&env), killed
	n.cfg.Fs, n.cfg.Agent, n.cfg.System, n.cfg.Receipts = fs, csmserve.ForAgent(n.Jobs, &env), s.Name(), book
	return nil
}

// receipts are CSMSERVE's receipts of the staging area, as the agent
// reads them.
type receipts struct {
	book *csmserve.Receipts
	fs   afero.Fs
}

func (r receipts) Receipt(id cms.FileID) (agent.Receipt, bool) {
	rc, ok := r.book.Of(r.fs, proto.FileName(id))
	return agent.Receipt{Size: rc.Size, SHA256: rc.SHA256}, ok
}

// Crash kills the node as kill -9 would: CSMSERVE's connections drop at
// once, and the writes of whatever its agent was doing fail from now on,
// leaving its files as they were. Restart brings it back.
func (n *Node) Crash() {
	n.mu.Lock()
	*n.killed = true
	srv := n.Server
	n.Server = nil
	n.mu.Unlock()
	if srv != nil {
		srv.Kill()
	}
}

// Restart brings a crashed (or stopped) node back on its address with its
// disks as they were: the system opened afresh, as a rebooted z/VM finds
// it, a new agent, and CSMSERVE.
func (n *Node) Restart() error {
	n.mu.Lock()
	if n.Server != nil {
		n.mu.Unlock()
		return nil
	}
	s, err := Open(n.Sys.fs)
	if err == nil {
		err = n.incarnate(s)
	}
	n.mu.Unlock()
	if err != nil {
		return fmt.Errorf("restarting %s: %w", n.Sys.Name(), err)
	}
	return n.Up()
}

// Up starts the node's CSMSERVE again after Down, on the address it had.
func (n *Node) Up() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.Server != nil {
		return nil
	}
	srv, err := csmserve.New(n.cfg)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("starting CSMSERVE of %s on %s: %w", n.Sys.Name(), n.cfg.ListenAddr, err)
	}
	n.Server, n.cfg.ListenAddr = srv, srv.Addr()
	return nil
}

// Down stops the node's CSMSERVE (the system becomes unreachable); its
// agent and jobs stay.
func (n *Node) Down(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.Server == nil {
		return nil
	}
	err := n.Server.Stop(ctx)
	n.Server = nil
	return err
}

// Addr is the address CSMSERVE listens on, or listens on again after Up.
func (n *Node) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cfg.ListenAddr
}

// Running says whether CSMSERVE is up.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.Server != nil
}

// Stop lets the running job end, then stops CSMSERVE.
func (n *Node) Stop(ctx context.Context) error {
	return errors.Join(n.Jobs.Shutdown(ctx), n.Down(ctx))
}

// UntilChanged is a node's long poll (csmserve.Config.AwaitChange) in a
// simulated world: until the job moves on, on no clock, so that how long a
// job takes never depends on the machine's load. A job that cannot move on
// is stalled, and the node's faults answer for it (Faults.awaitChange).
func UntilChanged(changed, stop <-chan struct{}) {
	select {
	case <-changed:
	case <-stop:
	}
}
