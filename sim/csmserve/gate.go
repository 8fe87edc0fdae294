package csmserve

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A gate stands before each control connection. ftpserverlib answers a
// driver's error with a code of its own choosing (550, 552 or 553) and has
// no connection limit and no way to refuse a command: the gate adds what
// CSMSERVE needs of that (docs/csmserve-protocol.md, "Hardening"):
//
//   - 421 to a connection beyond MaxConnections, from an address locked
//     out after failed logins, or that has not logged in within
//     LoginTimeout;
//   - 502 to every command outside CSMSERVE's profile, which FEAT then
//     does not offer either;
//   - 450 to STOR, APPE, DELE, RNFR and RNTO while a job holds the staging
//     area;
//   - 501 to an active-mode data connection (PORT, EPRT) to a port below
//     1024 or to another address than the client's;
//   - with Config.ActiveFromDataPort, active-mode data from the data port
//     (active.go), or 425 when it cannot be bound.
//
// Everything else passes to ftpserverlib, line by line, over an in-memory
// pipe whose ends carry the client's addresses. Under AUTH TLS the gate
// ends the client's TLS and speaks TLS to ftpserverlib, which thus still
// has a TLS control connection (PROT, TLS required) as before.

// maxLine is the longest command line, as ftpserverlib reads them.
const maxLine = 4096

// gateListener accepts connections for ftpserverlib: it admits each and
// hands over the ftpserverlib end of its gate.
type gateListener struct {
	net.Listener
	s *Server
}

func (l *gateListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.cfg.Metrics.Connected()
		if back := l.s.admit(c); back != nil {
			return back, nil
		}
	}
}

// admit starts c's gate and returns ftpserverlib's end of it, or refuses
// c (421) and returns nil.
func (s *Server) admit(c net.Conn) net.Conn {
	remote := c.RemoteAddr().String()
	if why := s.logins.lockedOut(hostOf(c.RemoteAddr())); why != "" {
		s.log.Warn("connection refused", "remote", remote, "why", why)
		go refuseConn(c, why)
		return nil
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		_ = c.Close()
		return nil
	}
	if len(s.gates) >= s.cfg.MaxConnections {
		s.mu.Unlock()
		why := fmt.Sprintf("CSMSERVE %s serves at most %d connections; try again later", s.cfg.System, s.cfg.MaxConnections)
		s.log.Warn("connection refused", "remote", remote, "why", why)
		go refuseConn(c, why)
		return nil
	}
	front, back := net.Pipe()
	g := &gate{
		s: s, client: c, pipe: front, key: remote, ip: hostOf(c.RemoteAddr()), out: c,
		done: make(chan struct{}), authed: make(chan *tls.Conn), switched: make(chan struct{}),
	}
	// The timer is set before Stop can find the gate among s.gates and
	// close it, which stops the timer.
	g.timer = time.AfterFunc(s.cfg.LoginTimeout, g.loginTimeout)
	s.gates[remote] = g
	s.mu.Unlock()
	g.start()
	return &pipeConn{Conn: back, local: c.LocalAddr(), remote: c.RemoteAddr()}
}

// refuseConn says why c is not served, and closes it.
func refuseConn(c net.Conn, why string) {
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "421 "+why+"\r\n")
	_ = c.Close()
}

// pipeConn is ftpserverlib's end of a gate: it has the client's addresses,
// for the passive reply's address and the data connection checks.
type pipeConn struct {
	net.Conn
	local, remote net.Addr
}

func (p *pipeConn) LocalAddr() net.Addr  { return p.local }
func (p *pipeConn) RemoteAddr() net.Addr { return p.remote }

// gate relays one control connection: commands runs the client's side,
// replies ftpserverlib's.
type gate struct {
	s      *Server
	client net.Conn // as accepted
	pipe   net.Conn // the gate's end of the pipe to ftpserverlib
	key    string   // the client's address, the Server's key for it
	ip     string

	wmu sync.Mutex
	out io.Writer // the client, or its TLS layer once AUTH TLS succeeded

	loggedIn  atomic.Bool
	feat      atomic.Bool // a FEAT reply is on its way: it offers only the profile
	awaitAuth atomic.Bool // AUTH went to ftpserverlib: its reply decides on TLS

	rmu   sync.Mutex
	relay *activeRelay // the latest PORT's or EPRT's, with ActiveFromDataPort

	authed   chan *tls.Conn // replies to commands: TLS to ftpserverlib began (nil: it did not)
	switched chan struct{}  // commands to replies: the client's TLS began too
	done     chan struct{}  // closed when the gate closes
	timer    *time.Timer    // LoginTimeout
	once     sync.Once
}

func (g *gate) start() {
	go g.replies()
	go g.commands()
}

// close ends the connection both ways; ftpserverlib's session then ends.
func (g *gate) close() {
	g.once.Do(func() {
		close(g.done)
		g.timer.Stop()
		g.setRelay(nil)
		_ = g.client.Close()
		_ = g.pipe.Close()
		g.s.mu.Lock()
		if g.s.gates[g.key] == g {
			delete(g.s.gates, g.key)
		}
		g.s.mu.Unlock()
	})
}

func (g *gate) loginTimeout() {
	if g.loggedIn.Load() {
		return
	}
	g.s.log.Info("closing a connection that did not log in in time", "remote", g.key, "timeout", g.s.cfg.LoginTimeout)
	g.reply(421, fmt.Sprintf("no login within %s; closing the connection", g.s.cfg.LoginTimeout))
	g.close()
}

// write sends reply lines to the client, one writer at a time.
func (g *gate) write(s string) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if _, err := io.WriteString(g.out, s); err != nil {
		g.close()
	}
}

// reply is the gate's own answer to a command.
func (g *gate) reply(code int, text string) {
	g.write(fmt.Sprintf("%d %s\r\n", code, strings.Join(strings.Fields(text), " ")))
}

// commands reads the client's commands: the gate answers those it
// refuses and passes the others on.
func (g *gate) commands() {
	defer g.close()
	r := bufio.NewReaderSize(g.client, maxLine)
	var back io.Writer = g.pipe
	for {
		b, tooLong, err := r.ReadLine()
		if err != nil || tooLong {
			return
		}
		line := string(b)
		word, arg, _ := strings.Cut(line, " ")
		cmd := verb(strings.ToUpper(word))
		if code, text := g.check(cmd, arg); code != 0 {
			g.reply(code, text)
			if code == 421 {
				return
			}
			continue
		}
		switch cmd {
		case "FEAT":
			g.feat.Store(true)
		case "AUTH":
			g.awaitAuth.Store(true)
		case "PORT", "EPRT", "PASV", "EPSV", "RETR", "STOR", "APPE", "LIST", "NLST":
			var code int
			var text string
			if line, code, text = g.active(cmd, arg, line); code != 0 {
				g.reply(code, text)
				continue
			}
		}
		if _, err := io.WriteString(back, line+"\r\n"); err != nil {
			return
		}
		if cmd != "AUTH" {
			continue
		}
		var btls *tls.Conn
		select {
		case btls = <-g.authed:
		case <-g.done:
			return
		}
		if btls == nil {
			continue
		}
		ctls := tls.Server(&bufferedConn{Conn: g.client, r: r}, g.s.cfg.TLS)
		// bounded like a login, which it usually precedes
		_ = g.client.SetDeadline(time.Now().Add(g.s.cfg.LoginTimeout))
		if err := ctls.Handshake(); err != nil {
			g.s.log.Info("TLS handshake failed", "remote", g.key, "err", err)
			return
		}
		_ = g.client.SetDeadline(time.Time{})
		g.wmu.Lock()
		g.out = ctls
		g.wmu.Unlock()
		r, back = bufio.NewReaderSize(ctls, maxLine), btls
		select {
		case g.switched <- struct{}{}:
		case <-g.done:
			return
		}
	}
}

// replies relays ftpserverlib's replies to the client, each whole in one
// write as a server sends it: a multi-line reply (FEAT) is then one
// segment on the wire, and one latency on a shaped link, not one a line.
func (g *gate) replies() {
	defer g.close()
	br := bufio.NewReader(g.pipe)
	var reply strings.Builder
	for {
		line, err := br.ReadString('\n')
		code, final := replyCode(line)
		// Decided before the line goes out: once the client has a reply
		// it sends its next command, which must find the gate's state
		// (logged in, awaiting AUTH's reply) as this reply makes it.
		authReply := final && g.awaitAuth.CompareAndSwap(true, false)
		if final && code == 230 && g.loggedIn.CompareAndSwap(false, true) {
			g.timer.Stop()
		}
		if line != "" && g.offered(line, final) {
			reply.WriteString(line)
		}
		if (final || err != nil) && reply.Len() > 0 {
			g.write(reply.String())
			reply.Reset()
		}
		if err != nil {
			return
		}
		if !authReply {
			continue
		}
		var btls *tls.Conn
		if code == 234 {
			// Both ends of the pipe are this process: there is no peer
			// to authenticate, only ftpserverlib's TLS to satisfy.
			btls = tls.Client(&bufferedConn{Conn: g.pipe, r: br}, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec
			if err := btls.Handshake(); err != nil {
				g.s.log.Warn("TLS to ftpserverlib failed", "remote", g.key, "err", err)
				return
			}
			br = bufio.NewReader(btls)
		}
		select {
		case g.authed <- btls:
		case <-g.done:
			return
		}
		if btls != nil {
			select {
			case <-g.switched:
			case <-g.done:
				return
			}
		}
	}
}

// offered filters a FEAT reply: a feature line passes if the profile has
// its command.
func (g *gate) offered(line string, final bool) bool {
	if !g.feat.Load() {
		return true
	}
	if final {
		g.feat.Store(false)
		return true
	}
	if !strings.HasPrefix(line, " ") {
		return true
	}
	f := strings.Fields(line)
	return len(f) > 0 && (inProfile(f[0]) || f[0] == "UTF8")
}

// check is the gate's answer to cmd, or code 0 to pass it on.
func (g *gate) check(cmd, arg string) (int, string) {
	switch {
	case !inProfile(cmd):
		return 502, printable(cmd) + " is not supported by CSMSERVE"
	case cmd == "PASS":
		if why := g.s.logins.lockedOut(g.ip); why != "" {
			g.s.cfg.Metrics.LoginFailed()
			return 421, why
		}
	case holds(cmd) && g.loggedIn.Load():
		if err := g.s.held(); err != nil {
			return 450, err.Error()
		}
	case cmd == "PORT" || cmd == "EPRT":
		a, ok := dataAddr(cmd, arg)
		switch {
		case !ok: // ftpserverlib says what is wrong with it
		case a.Port < 1024:
			return 501, "CSMSERVE opens no data connection to a port below 1024"
		case !a.IP.Equal(net.ParseIP(g.ip)):
			return 501, "CSMSERVE opens data connections only to the address of the control connection, " + g.ip
		}
	}
	return 0, ""
}

// active carries active mode from the data port (ActiveFromDataPort): a
// PORT or EPRT is passed on naming a new relay, a transfer command first
// has the relay connect to the client, and passive mode drops the relay.
// It returns the line to pass on, or the gate's own reply.
func (g *gate) active(cmd, arg, line string) (string, int, string) {
	if !g.s.cfg.ActiveFromDataPort {
		return line, 0, ""
	}
	switch cmd {
	case "PORT", "EPRT":
		a, ok := dataAddr(cmd, arg)
		if !ok {
			g.setRelay(nil)
			return line, 0, ""
		}
		local, isTCP := g.client.LocalAddr().(*net.TCPAddr)
		if !isTCP {
			return "", 425, "CSMSERVE has no TCP address to send data from"
		}
		from := &net.TCPAddr{IP: local.IP, Zone: local.Zone, Port: g.s.DataPort()}
		r, err := newActiveRelay(a, from, g.s.cfg.Link.Conn)
		if err != nil {
			g.s.log.Warn("active mode", "remote", g.key, "err", err)
			return "", 425, "CSMSERVE cannot prepare the data connection: " + err.Error()
		}
		g.setRelay(r)
		return cmd + " " + r.arg(cmd), 0, ""
	case "PASV", "EPSV":
		g.setRelay(nil)
	default:
		g.rmu.Lock()
		r := g.relay
		g.rmu.Unlock()
		if r == nil {
			return line, 0, ""
		}
		if err := r.connect(dataTimeout); err != nil {
			g.s.log.Warn("active mode", "remote", g.key, "err", err)
			return "", 425, err.Error()
		}
	}
	return line, 0, ""
}

// setRelay puts r in place of the gate's relay, which it closes.
func (g *gate) setRelay(r *activeRelay) {
	g.rmu.Lock()
	old := g.relay
	g.relay = r
	g.rmu.Unlock()
	if old != nil {
		old.close()
	}
}

// inProfile says CSMSERVE answers cmd (docs/csmserve-protocol.md).
func inProfile(cmd string) bool {
	switch cmd {
	case "USER", "PASS", "AUTH", "PBSZ", "PROT", "FEAT", "OPTS", "SYST", "NOOP", "QUIT", "ABOR",
		"TYPE", "MODE", "PASV", "EPSV", "PORT", "EPRT", "ALLO", "REST",
		"STOR", "APPE", "RETR", "SIZE", "LIST", "NLST", "DELE", "RNFR", "RNTO", "XSHA256",
		"SITE", "PWD", "XPWD", "CWD", "XCWD", "CDUP":
		return true
	}
	return false
}

// holds says cmd changes the staging area, which a running job holds.
func holds(cmd string) bool {
	switch cmd {
	case "STOR", "APPE", "DELE", "RNFR", "RNTO":
		return true
	}
	return false
}

// verb is a command word as ftpserverlib reads it: ABOR, STAT and QUIT
// may follow Telnet IP and Synch bytes.
func verb(word string) string {
	if inProfile(word) {
		return word
	}
	for _, v := range [...]string{"ABOR", "STAT", "QUIT"} {
		if strings.HasSuffix(word, v) {
			return v
		}
	}
	return word
}

// printable is a command word fit for a reply.
func printable(word string) string {
	if word == "" || len(word) > 8 || strings.ContainsFunc(word, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		return "That command"
	}
	return word
}

// replyCode reads a reply line's code; final is false for the lines
// before the last of a multi-line reply.
func replyCode(line string) (code int, final bool) {
	if len(line) < 4 {
		return 0, false
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil {
		return 0, false
	}
	return code, line[3] == ' '
}

// bufferedConn reads what a reader took from the connection first: the
// bytes that follow AUTH's line belong to the TLS handshake.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
