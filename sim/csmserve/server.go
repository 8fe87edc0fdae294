// Package csmserve simulates CSMSERVE, the FTP node of a managed system,
// on ftpserverlib: only CSMWORK logs in, the FTP root is the flat staging
// area (CSMSERVE's 0191) of CMS files FN.FT, and `SITE CSMAGENT <words>`
// goes to the system's agent. See docs/csmserve-protocol.md.
package csmserve

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/sim/netem"
)

// User is the only user CSMSERVE lets in (case-insensitive).
const User = "CSMWORK"

// DefaultPort is CSMSERVE's port when none is configured.
const DefaultPort = 4535

// Agent is what SITE CSMAGENT forwards to: the managed system's CSMAGENT.
// CSMSERVE parses the request (a malformed one never reaches the agent)
// and sends the reply's code and text. Handle calls are serialised per
// node. An Agent may also implement JobRunner.
type Agent interface {
	Handle(req proto.Request) proto.Reply
}

// JobRunner is an optional extension of Agent: an agent whose jobs read
// the staging area says which job runs. While one does, CSMSERVE holds the
// staging area: STOR, APPE, DELE, RNFR and RNTO answer 450, so that a LOAD
// loads the files it validated. An Agent without it never holds anything.
type JobRunner interface {
	// Running is the id of the running job, 0 when none runs.
	Running() int
}

// Waiter is an optional extension of Agent: an agent that can say when a
// job changes answers STATUS <n> WAIT as a long poll. Changed is closed at
// the next change (a job starts, enters a phase or ends). An Agent without
// it answers STATUS WAIT at once, as STATUS.
type Waiter interface {
	Changed() <-chan struct{}
}

// DefaultStatusWait bounds a long poll on real time: well under a
// principal's command timeout (30s), so a phase longer than it is a
// RUNNING reply and another poll, not a timeout.
const DefaultStatusWait = 5 * time.Second

// WaitUpTo is the real-mode AwaitChange: until the change, the stop, or d
// of real time; d <= 0 means DefaultStatusWait.
func WaitUpTo(d time.Duration) func(changed, stop <-chan struct{}) {
	if d <= 0 {
		d = DefaultStatusWait
	}
	return func(changed, stop <-chan struct{}) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-changed:
		case <-stop:
		case <-t.C:
		}
	}
}

// dataTimeout bounds opening a data connection, passive or active.
const dataTimeout = 30 * time.Second

// PortRange is an inclusive range of TCP ports for passive data
// connections.
type PortRange struct{ Start, End int }

// Config sets up one node.
type Config struct {
	// Fs is the staging area: its "/" holds the files FN.FT. For
	// disk-backed nodes use afero.NewBasePathFs(afero.NewOsFs(), dir);
	// MemMapFs is fine for small payloads only (it keeps files whole in
	// memory).
	Fs       afero.Fs
	Password string // CSMWORK's; never logged
	Agent    Agent  // nil: SITE CSMAGENT answers 502
	// ListenAddr is host:port; empty means 127.0.0.1:4535. Use
	// "127.0.0.1:0" for a free port (see Addr).
	ListenAddr   string
	PassivePorts *PortRange // nil: any free port
	// ActiveFromDataPort sends active-mode (PORT, EPRT) data from the data
	// port, the control port minus one (4534 for 4535), as FTP's 20 serves
	// 21 and vsftpd's connect_from_port_20 does. Start refuses a fixed
	// port whose data port cannot be bound; asked for port 0 it picks a
	// port whose data port is free. A transfer whose data port has since
	// been taken is answered 425. Off, data comes from any free port.
	ActiveFromDataPort bool
	// TLS, if set, offers AUTH TLS (explicit FTPS) with it; RequireTLS then
	// refuses clients that log in without it.
	TLS        *tls.Config
	RequireTLS bool
	System     string        // the system's name, for the banner and logs
	Logger     *slog.Logger  // nil: no logging
	Metrics    Metrics       // nil: nothing counted
	Idle       time.Duration // idle timeout of a session; 0 means 15 minutes

	// CutUpload injects a fault: when set, it is asked at each STOR/APPE;
	// if it says cut, the node keeps only the first n bytes of that upload
	// and drops the client's connections, as a network failure would.
	CutUpload func(name string) (n int64, cut bool)
	// CorruptUpload injects a fault: when set, it is asked at each
	// STOR/APPE; if it says flip, one bit of the byte at offset of that
	// upload is flipped as it is stored, as a bad link would.
	CorruptUpload func(name string) (offset int64, flip bool)

	// Receipts, if set, is the book the staging area keeps its receipts in
	// (Receipt): the node's agent reads the same one. nil: its own.
	Receipts *Receipts

	// AwaitChange holds a STATUS WAIT until changed is closed (the job
	// moved on) or stop is (the server stops), or until it decides to
	// answer anyway. nil: up to StatusWait of real time. A simulation hands
	// in its own, on its own clock.
	AwaitChange func(changed, stop <-chan struct{})
	// StatusWait bounds the default AwaitChange; 0 means DefaultStatusWait.
	StatusWait time.Duration

	// Link, if not zero, shapes the node's control and data connections
	// as a distant system's network would (sim/netem).
	Link netem.Link

	// The limits below are csmsim's own hardening (docs/csmserve-protocol.md,
	// "Hardening"); zero means the default.

	// MaxConnections is how many control connections the node serves at
	// once; one more is answered 421 and closed. Default 16: one principal
	// with room for retries and an operator's client.
	MaxConnections int
	// LoginTimeout closes (421) a connection that has not logged in this
	// long after connecting. Default 30s.
	LoginTimeout time.Duration
	// LoginDelay delays the 530 of a failed login from an address; each
	// further failure doubles it, up to LoginDelayMax. Defaults 500ms, 8s.
	LoginDelay, LoginDelayMax time.Duration
	// MaxLoginFailures failed logins from one address within
	// LoginFailureWindow lock it out for LoginLockout: its connections and
	// logins are answered 421. Defaults 10, 15m, 15m. A successful login
	// forgets the address's failures.
	MaxLoginFailures   int
	LoginFailureWindow time.Duration
	LoginLockout       time.Duration
	// Sleep waits out a login delay; nil means time.Sleep. Now is the
	// clock of the login limits; nil means time.Now. Injected so that
	// specs need not wait.
	Sleep func(time.Duration)
	Now   func() time.Time
}

// defaults fills in the zero fields of the limits.
func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = 16
	}
	if c.MaxLoginFailures <= 0 {
		c.MaxLoginFailures = 10
	}
	set(&c.Idle, 15*time.Minute)
	set(&c.LoginTimeout, 30*time.Second)
	set(&c.LoginDelay, 500*time.Millisecond)
	set(&c.LoginDelayMax, 8*time.Second)
	set(&c.LoginFailureWindow, 15*time.Minute)
	set(&c.StatusWait, DefaultStatusWait)
	if c.AwaitChange == nil {
		c.AwaitChange = WaitUpTo(c.StatusWait)
	}
	if c.Receipts == nil {
		c.Receipts = NewReceipts()
	}
	set(&c.LoginLockout, 15*time.Minute)
	if c.Sleep == nil {
		c.Sleep = time.Sleep
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Metrics == nil {
		c.Metrics = noMetrics{}
	}
}

// Server is one simulated CSMSERVE.
type Server struct {
	cfg     Config
	staging *StagingFs
	ftp     *ftpserver.FtpServer
	log     *slog.Logger
	logins  *logins

	mu       sync.Mutex
	listener net.Listener
	addr     string
	dataPort int              // with ActiveFromDataPort
	gates    map[string]*gate // control connections by remote address
	served   chan error
	stopped  bool
	stop     chan struct{} // closed when Stop begins: long polls answer

	agentMu sync.Mutex
}

// New checks cfg and returns a node that is not listening yet.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Fs == nil:
		return nil, errors.New("csmserve: no staging file system (Config.Fs)")
	case cfg.Password == "":
		return nil, errors.New("csmserve: no password for " + User)
	case cfg.RequireTLS && cfg.TLS == nil:
		return nil, errors.New("csmserve: RequireTLS without a TLS configuration")
	case cfg.PassivePorts != nil && (cfg.PassivePorts.Start <= 0 || cfg.PassivePorts.End < cfg.PassivePorts.Start || cfg.PassivePorts.End > 65535):
		return nil, fmt.Errorf("csmserve: bad passive port range %d-%d", cfg.PassivePorts.Start, cfg.PassivePorts.End)
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = fmt.Sprintf("127.0.0.1:%d", DefaultPort)
	}
	if cfg.System == "" {
		cfg.System = "CSMSERVE"
	}
	cfg.defaults()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		cfg:     cfg,
		staging: &StagingFs{base: cfg.Fs, receipts: cfg.Receipts},
		log:     log.With("system", cfg.System),
		gates:   map[string]*gate{},
		stop:    make(chan struct{}),
	}
	s.logins = newLogins(&s.cfg)
	s.ftp = ftpserver.NewFtpServer(s)
	s.ftp.Logger = s.log
	return s, nil
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.listener != nil {
		s.mu.Unlock()
		return errors.New("csmserve: already started")
	}
	l, data, err := s.listen()
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("csmserve %s: listening on %s: %w", s.cfg.System, s.cfg.ListenAddr, err)
	}
	s.dataPort = data
	// Shaped under the gates, so Stop and CutUpload close the real
	// connection through the shaping wrapper.
	s.listener = &gateListener{Listener: s.cfg.Link.Listener(l), s: s}
	s.addr = l.Addr().String()
	s.mu.Unlock()
	if err := s.ftp.Listen(); err != nil { // calls GetSettings
		l.Close()
		return fmt.Errorf("csmserve %s: listening on %s: %w", s.cfg.System, s.cfg.ListenAddr, err)
	}
	served := make(chan error, 1)
	s.mu.Lock()
	s.served = served
	s.mu.Unlock()
	go func() { served <- s.ftp.Serve() }()
	s.log.Info("CSMSERVE listening", "addr", s.addr, "active data port", s.dataPort, "tls", s.cfg.TLS != nil, "link", s.cfg.Link.String())
	return nil
}

// Serve is Start, then waits until the node stops.
func (s *Server) Serve() error {
	if err := s.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	ch := s.served
	s.mu.Unlock()
	err := <-ch
	ch <- err
	return err
}

// Addr is the address the node listens on, once started.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Staging is the confined staging area the node serves.
func (s *Server) Staging() *StagingFs { return s.staging }

// Stop closes the listener and every session, and waits (within ctx) for
// the server loop to end.
// Kill stops the node as a killed process does: every connection is reset
// at once (the client always sees a reset, never an orderly close) and no
// session ends cleanly.
func (s *Server) Kill() {
	s.mu.Lock()
	for _, g := range s.gates {
		if tc, ok := g.client.(interface{ SetLinger(int) error }); ok {
			_ = tc.SetLinger(0)
		}
	}
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Stop(ctx)
}

func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.served == nil || s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	close(s.stop)
	ch := s.served
	gates := make([]*gate, 0, len(s.gates))
	for _, g := range s.gates {
		gates = append(gates, g)
	}
	s.mu.Unlock()
	err := s.ftp.Stop()
	// Closing the connections (not ftpserverlib's ClientContext.Close, which
	// races with the session's own goroutine) ends each session.
	for _, g := range gates {
		g.close()
	}
	select {
	case serr := <-ch:
		ch <- serr
		if err == nil {
			err = serr
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}

// MainDriver

// GetSettings is ftpserverlib's MainDriver.
func (s *Server) GetSettings() (*ftpserver.Settings, error) {
	s.mu.Lock()
	l := s.listener
	s.mu.Unlock()
	st := &ftpserver.Settings{
		Listener:          l,
		ListenAddr:        s.cfg.ListenAddr,
		Banner:            "CSMSERVE " + s.cfg.System,
		IdleTimeout:       int(s.cfg.Idle / time.Second),
		ConnectionTimeout: int(dataTimeout / time.Second),
		// for XSHA256; the gate refuses the other digests, and FEAT does
		// not offer them
		EnableHASH:          true,
		DisableSite:         false,
		DisableSTAT:         true,
		DisableMLSD:         true,
		DisableMLST:         true,
		DisableMFMT:         true,
		DefaultTransferType: ftpserver.TransferTypeBinary,
		DisableLISTArgs:     false,
		// Data connections go to the control connection's peer only (the
		// gate refuses other addresses and privileged ports), from any
		// local port or through the gate's relay from the data port: a
		// node need not run as root to serve active mode.
		ActiveConnectionsCheck:  ftpserver.IPMatchRequired,
		PasvConnectionsCheck:    ftpserver.IPMatchRequired,
		ActiveTransferPortNon20: true,
	}
	if s.cfg.ActiveFromDataPort {
		// ftpserverlib connects to the relay on loopback, not to the
		// client; the gate has checked the client's address.
		st.ActiveConnectionsCheck = ftpserver.IPMatchDisabled
	}
	if st.IdleTimeout < 1 {
		st.IdleTimeout = 1
	}
	if p := s.cfg.PassivePorts; p != nil {
		st.PassiveTransferPortRange = ftpserver.PortRange{Start: p.Start, End: p.End}
	}
	if s.cfg.RequireTLS {
		st.TLSRequired = ftpserver.MandatoryEncryption
	}
	return st, nil
}

var _ ftpserver.MainDriverExtensionPassiveWrapper = (*Server)(nil)

// WrapPassiveListener is ftpserverlib's MainDriverExtensionPassiveWrapper:
// passive data connections go over the node's Link too (under FTPS, the
// TLS records are what is shaped).
func (s *Server) WrapPassiveListener(l net.Listener) (net.Listener, error) {
	return s.cfg.Link.Listener(l), nil
}

// ClientConnected is ftpserverlib's MainDriver.
func (s *Server) ClientConnected(cc ftpserver.ClientContext) (string, error) {
	s.log.Debug("client connected", "client", cc.ID(), "remote", cc.RemoteAddr().String())
	return "CSMSERVE " + s.cfg.System + " ready; only " + User + " may log in", nil
}

// ClientDisconnected is ftpserverlib's MainDriver.
func (s *Server) ClientDisconnected(cc ftpserver.ClientContext) {
	s.log.Debug("client disconnected", "client", cc.ID())
}

var errLogin = errors.New("only " + User + " may log in, with its password")

// AuthUser is ftpserverlib's MainDriver: CSMWORK with its password only.
// A failure is logged (never the password) and answered late, the later
// the more the address has failed; see logins.
func (s *Server) AuthUser(cc ftpserver.ClientContext, user, pass string) (ftpserver.ClientDriver, error) {
	ip := hostOf(cc.RemoteAddr())
	if why := s.logins.lockedOut(ip); why != "" {
		s.cfg.Metrics.LoginFailed()
		return nil, errors.New(why) // the gate answers 421 first; this is a backstop
	}
	userOK := strings.EqualFold(user, User)
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.Password)) == 1
	if !userOK || !passOK {
		s.cfg.Metrics.LoginFailed()
		delay, n, locked := s.logins.failed(ip)
		s.log.Warn("login refused", "client", cc.ID(), "user", user, "remote", cc.RemoteAddr().String(),
			"failures", n, "delay", delay)
		if locked {
			s.log.Warn("too many failed logins: locking the address out", "remote", ip,
				"failures", n, "for", s.cfg.LoginLockout)
		}
		s.cfg.Sleep(delay)
		return nil, errLogin
	}
	s.logins.succeeded(ip)
	s.log.Debug("login", "client", cc.ID(), "user", User)
	return &session{StagingFs: s.staging, srv: s, cc: cc}, nil
}

// GetTLSConfig is ftpserverlib's MainDriver; without Config.TLS AUTH TLS
// is refused and not listed in FEAT.
func (s *Server) GetTLSConfig() (*tls.Config, error) {
	if s.cfg.TLS == nil {
		return nil, errors.New("this CSMSERVE offers no FTPS")
	}
	return s.cfg.TLS, nil
}

// session is one logged-in CSMWORK: the staging area plus SITE.
type session struct {
	*StagingFs
	srv *Server
	cc  ftpserver.ClientContext
}

var (
	_ ftpserver.ClientDriver                  = (*session)(nil)
	_ ftpserver.ClientDriverExtensionSite     = (*session)(nil)
	_ ftpserver.ClientDriverExtensionFileList = (*session)(nil)
	_ ftpserver.ClientDriverExtensionHasher   = (*session)(nil)
)

// Site handles every SITE command: CSMAGENT goes to the agent, anything
// else (CHMOD, SYMLINK, MKDIR, ...) is refused.
func (d *session) Site(param string) *ftpserver.AnswerCommand {
	words := strings.Fields(param)
	if len(words) == 0 {
		return &ftpserver.AnswerCommand{Code: 501, Message: "SITE needs a command: SITE CSMAGENT <verb> <args>"}
	}
	if !strings.EqualFold(words[0], "CSMAGENT") {
		return &ftpserver.AnswerCommand{Code: 502,
			Message: fmt.Sprintf("SITE %s is not supported by CSMSERVE; use SITE CSMAGENT <verb> <args>", strings.ToUpper(words[0]))}
	}
	if d.srv.cfg.Agent == nil {
		return &ftpserver.AnswerCommand{Code: 502, Message: "CSMAGENT is not available on this node"}
	}
	req, err := proto.ParseRequest(strings.Join(words[1:], " "))
	if err != nil {
		var m *proto.Malformed
		if !errors.As(err, &m) {
			m = &proto.Malformed{Problem: err.Error(), Form: proto.FormAny}
		}
		return &ftpserver.AnswerCommand{Code: m.Code(), Message: m.String()}
	}
	rep := d.srv.status(req)
	if rep == nil {
		d.srv.agentMu.Lock()
		rep = d.srv.cfg.Agent.Handle(req)
		d.srv.agentMu.Unlock()
	}
	d.srv.log.Debug("SITE CSMAGENT", "request", req.String(), "code", rep.Code())
	return &ftpserver.AnswerCommand{Code: rep.Code(), Message: rep.String()}
}

// status answers STATUS <n> WAIT of an agent that is a Waiter: the status
// now if the job has ended, else once the job changed (or AwaitChange
// gave up waiting). It holds no lock while it waits: other sessions'
// requests go on. nil for any other request.
func (s *Server) status(req proto.Request) proto.Reply {
	st, ok := req.(proto.Status)
	w, waits := s.cfg.Agent.(Waiter)
	if !ok || !st.Wait || !waits {
		return nil
	}
	ask := func() proto.Reply {
		s.agentMu.Lock()
		defer s.agentMu.Unlock()
		return s.cfg.Agent.Handle(st)
	}
	changed := w.Changed() // before the status: no change in between is missed
	rep := ask()
	if js, ok := rep.(proto.JobStatus); !ok || js.Ended {
		return rep
	}
	s.cfg.AwaitChange(changed, s.stop)
	return ask()
}

// cutFile writes its first left bytes, then drops the client's
// connections and fails.
type cutFile struct {
	afero.File
	left int64
	drop func()
	cut  bool
}

var errCut = errors.New("fault injected: connection dropped")

func (c *cutFile) Write(p []byte) (int, error) {
	if c.cut {
		return 0, errCut
	}
	if int64(len(p)) <= c.left {
		n, err := c.File.Write(p)
		c.left -= int64(n)
		return n, err
	}
	n, err := c.File.Write(p[:c.left])
	c.left -= int64(n)
	if err != nil {
		return n, err
	}
	c.cut = true
	c.drop()
	return n, errCut
}

// ReadFrom keeps io.Copy on Write, so the cut happens at the right byte.
func (c *cutFile) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{c}, r)
}

// drop closes a session's control connection, as a network failure would.
func (s *Server) drop(cc ftpserver.ClientContext) {
	s.mu.Lock()
	g := s.gates[cc.RemoteAddr().String()]
	s.mu.Unlock()
	if g != nil {
		g.close()
	}
}

// flipFile stores an upload with one bit of the byte at offset flipped.
type flipFile struct {
	afero.File
	at, off int64 // the byte to flip; bytes written so far
}

func (f *flipFile) Write(p []byte) (int, error) {
	if f.at >= f.off && f.at < f.off+int64(len(p)) {
		q := append([]byte(nil), p...)
		q[f.at-f.off] ^= 0x01
		p = q
	}
	n, err := f.File.Write(p)
	f.off += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy on Write, so the flip lands on its byte.
func (f *flipFile) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{f}, r)
}
