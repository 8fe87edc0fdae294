package world

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
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
// runner, and the FTP server on its staging disk. Up, Down, Stop, Addr
// and Running may be called from any goroutine.
type Node struct {
	Sys  *System
	Env  *agent.Env
	Jobs *agent.Jobs
	// Server is the running CSMSERVE, nil while the node is down. Up and
	// Down set and clear it under mu: read it directly only where neither
	// can run at the same time (right after Serve), else use Addr.
	Server *csmserve.Server

	mu  sync.Mutex // guards Server and cfg
	cfg csmserve.Config
}

// Serve starts the system's CSMSERVE with cfg, its Fs, Agent and System
// filled in: the staging disk as the FTP root and env's CSMAGENT behind
// SITE.
func (s *System) Serve(env *agent.Env, cfg csmserve.Config) (*Node, error) {
	staging, err := s.StagingFs()
	if err != nil {
		return nil, err
	}
	n := &Node{Sys: s, Env: env, Jobs: agent.NewJobs(env)}
	cfg.Fs, cfg.Agent, cfg.System = staging, csmserve.ForAgent(n.Jobs, env), s.Name()
	n.cfg = cfg
	return n, n.Up()
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
