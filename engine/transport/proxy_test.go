package transport_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// ftpProxy stands between the transport and a real FTP server on
// loopback, as a network path does, and does to uploads what a real
// server will not do on demand: cut the whole session after so many bytes
// of a file, or flip one byte of it on the way. It relays each control
// connection line by line and routes every data connection through
// itself: it rewrites the server's passive replies (229 EPSV, 227 PASV)
// and the client's PORT and EPRT to addresses of its own.
type ftpProxy struct {
	server string // the server's control address
	port   int

	mu       sync.Mutex
	cutAfter map[string]int64 // upload name -> cut its session after this many bytes, once
	flipAt   map[string]int64 // upload name -> flip the byte at this offset of every upload
	cuts     int
	hooks    map[string]func()  // client command verb -> called before it is relayed
	verbs    []string           // every command verb the clients sent, in order
	conns    map[io.Closer]bool // every connection and listener open, closed at the end of the spec
	done     bool
	wg       sync.WaitGroup
}

// startProxy relays to server (host:port) from a loopback port until the
// spec ends.
func startProxy(server string) *ftpProxy {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	p := &ftpProxy{server: server, port: l.Addr().(*net.TCPAddr).Port,
		cutAfter: map[string]int64{}, flipAt: map[string]int64{}, conns: map[io.Closer]bool{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.session(c) }()
		}
	}()
	DeferCleanup(func() {
		l.Close()
		p.mu.Lock()
		p.done = true
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// cutOnce cuts the session of the first upload of name after n bytes of
// it: its data connection and both control connections close at once,
// as when a link goes down.
func (p *ftpProxy) cutOnce(name string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutAfter[name] = n
}

// flip damages the byte at offset off of every upload of name.
func (p *ftpProxy) flip(name string, off int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flipAt[name] = off
}

// onCommand calls f each time a client sends a command verb, before the
// server has it.
func (p *ftpProxy) onCommand(verb string, f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hooks == nil {
		p.hooks = map[string]func(){}
	}
	p.hooks[verb] = f
}

// sent is every command verb the clients sent so far, in order.
func (p *ftpProxy) sent() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.verbs)
}

// cutCount is how many sessions the proxy has cut.
func (p *ftpProxy) cutCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// track registers c to be closed with its session or the proxy; false
// when that already happened (c is then closed).
func (p *ftpProxy) track(s *proxySession, c io.Closer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done || s.cut {
		c.Close()
		return false
	}
	p.conns[c] = true
	s.conns = append(s.conns, c)
	return true
}

// proxySession is one control connection's relay and its data
// connections.
type proxySession struct {
	p      *ftpProxy
	upload string      // the name of the latest STOR or APPE, under p.mu
	conns  []io.Closer // under p.mu
	cut    bool        // under p.mu
}

func (p *ftpProxy) session(client net.Conn) {
	s := &proxySession{p: p}
	if !p.track(s, client) {
		return
	}
	server, err := net.DialTimeout("tcp", p.server, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(s, server) {
		client.Close()
		return
	}
	serverHost, _, _ := net.SplitHostPort(p.server)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.relayLines(server, client, func(line string) string { return s.fromServer(line, serverHost) })
	}()
	s.relayLines(client, server, s.fromClient)
	<-done
	s.close()
}

// relayLines copies CRLF lines from src to dst through edit until either
// side ends, then closes both.
func (s *proxySession) relayLines(src, dst net.Conn, edit func(string) string) {
	defer src.Close()
	defer dst.Close()
	r := bufio.NewReader(src)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			if _, werr := io.WriteString(dst, edit(line)); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// fromClient notes what is being uploaded and relays active-mode data.
func (s *proxySession) fromClient(line string) string {
	verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	verb = strings.ToUpper(verb)
	s.p.mu.Lock()
	s.p.verbs = append(s.p.verbs, verb)
	hook := s.p.hooks[verb]
	s.p.mu.Unlock()
	if hook != nil {
		hook()
	}
	switch verb {
	case "STOR", "APPE":
		s.p.mu.Lock()
		s.upload = arg
		s.p.mu.Unlock()
	case "PORT":
		// the client listens at h1,h2,h3,h4,p1,p2: the server is sent to
		// the proxy, which connects on to the client
		if to, ok := parsePort(arg); ok {
			if l := s.relayData(to, false); l != nil {
				return "PORT " + portArg(l) + "\r\n"
			}
		}
	case "EPRT":
		if to, ok := parseEPRT(arg); ok {
			if l := s.relayData(to, false); l != nil {
				return fmt.Sprintf("EPRT |1|127.0.0.1|%d|\r\n", l.Addr().(*net.TCPAddr).Port)
			}
		}
	}
	return line
}

// fromServer relays passive-mode data: the client is sent to the proxy,
// which connects on to the server's data port.
func (s *proxySession) fromServer(line, serverHost string) string {
	switch {
	case strings.HasPrefix(line, "229 "):
		i, j := strings.Index(line, "(|||"), strings.LastIndex(line, "|)")
		if i < 0 || j < i+4 {
			return line
		}
		if l := s.relayData(net.JoinHostPort(serverHost, line[i+4:j]), true); l != nil {
			return fmt.Sprintf("%s(|||%d|)%s", line[:i], l.Addr().(*net.TCPAddr).Port, line[j+2:])
		}
	case strings.HasPrefix(line, "227 "):
		i, j := strings.Index(line, "("), strings.Index(line, ")")
		if i < 0 || j < i {
			return line
		}
		if to, ok := parsePort(line[i+1 : j]); ok {
			if l := s.relayData(to, true); l != nil {
				return line[:i+1] + portArg(l) + line[j:]
			}
		}
	}
	return line
}

// relayData listens for one data connection and joins it to a new
// connection to addr. clientSide says who connects to the listener: the
// client (passive mode) or the server (active mode).
func (s *proxySession) relayData(addr string, clientSide bool) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil
	}
	if !s.p.track(s, l) {
		return nil
	}
	s.p.wg.Add(1)
	go func() {
		defer s.p.wg.Done()
		defer l.Close()
		l.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
		in, err := l.Accept()
		if err != nil || !s.p.track(s, in) {
			return
		}
		out, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil || !s.p.track(s, out) {
			in.Close()
			return
		}
		up, down := in, out // client -> server
		if !clientSide {
			up, down = out, in
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); s.pipe(down, up, false) }()
		s.pipe(up, down, true)
		wg.Wait()
		in.Close()
		out.Close()
	}()
	return l
}

// pipe copies src to dst; for the upload direction it applies the plan
// for the file being uploaded.
func (s *proxySession) pipe(src, dst net.Conn, upload bool) {
	defer func() {
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	// the plan is looked up at the first byte: a passive data connection
	// opens before its STOR passes, the first byte only after the
	// server's 150, so after fromClient saw the STOR
	cut, flip, planned := int64(-1), int64(-1), !upload
	plan := func() {
		planned = true
		s.p.mu.Lock()
		defer s.p.mu.Unlock()
		if n, ok := s.p.cutAfter[s.upload]; ok {
			cut = n
			delete(s.p.cutAfter, s.upload)
		}
		if off, ok := s.p.flipAt[s.upload]; ok {
			flip = off
		}
	}
	buf := make([]byte, 64<<10)
	var off int64
	for {
		n, err := src.Read(buf)
		if n > 0 && !planned {
			plan()
		}
		b := buf[:n]
		if cut >= 0 && off+int64(n) >= cut {
			b = b[:cut-off]
		}
		if flip >= off && flip < off+int64(len(b)) {
			b[flip-off] ^= 0xff
		}
		if len(b) > 0 {
			if _, werr := dst.Write(b); werr != nil {
				return
			}
		}
		off += int64(len(b))
		if cut >= 0 && off == cut {
			s.cutNow()
			return
		}
		if err != nil {
			return
		}
	}
}

// cutNow closes every connection of the session.
func (s *proxySession) cutNow() {
	s.p.mu.Lock()
	s.p.cuts++
	s.p.mu.Unlock()
	s.close()
}

func (s *proxySession) close() {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	s.cut = true
	for _, c := range s.conns {
		c.Close()
		delete(s.p.conns, c)
	}
}

// parsePort reads PORT's and PASV's h1,h2,h3,h4,p1,p2.
func parsePort(arg string) (string, bool) {
	f := strings.Split(strings.TrimSpace(arg), ",")
	if len(f) != 6 {
		return "", false
	}
	n := make([]int, 6)
	for i, x := range f {
		v, err := strconv.Atoi(x)
		if err != nil || v < 0 || v > 255 {
			return "", false
		}
		n[i] = v
	}
	return fmt.Sprintf("%d.%d.%d.%d:%d", n[0], n[1], n[2], n[3], n[4]<<8|n[5]), true
}

// parseEPRT reads EPRT's |1|ip|port|.
func parseEPRT(arg string) (string, bool) {
	f := strings.Split(strings.TrimSpace(arg), "|")
	if len(f) != 5 || f[1] != "1" {
		return "", false
	}
	return net.JoinHostPort(f[2], f[3]), true
}

// portArg is l's address as PORT and PASV write it.
func portArg(l net.Listener) string {
	a := l.Addr().(*net.TCPAddr)
	ip := a.IP.To4()
	return fmt.Sprintf("%d,%d,%d,%d,%d,%d", ip[0], ip[1], ip[2], ip[3], a.Port>>8, a.Port&0xff)
}
