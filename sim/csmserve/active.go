package csmserve

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
)

// FTP's convention gives a server's active-mode data connections the port
// below its control port (20 for 21): CSMSERVE, on 4535, sends them from
// 4534, the other port the seed reserves. ftpserverlib sends them from
// port 20 or from any port, so with Config.ActiveFromDataPort the gate
// points ftpserverlib's data connection at a relay on loopback, and the
// relay connects to the client from the data port.

// maxListenTries bounds the search for a free control port whose data port
// is free too, when the node is asked for any free port.
const maxListenTries = 64

// listen opens the node's control port. With ActiveFromDataPort it also
// makes sure the data port below it can be bound: a fixed port whose data
// port is taken is refused, and for port 0 another port is tried.
func (s *Server) listen() (net.Listener, int, error) {
	if !s.cfg.ActiveFromDataPort {
		l, err := net.Listen("tcp", s.cfg.ListenAddr)
		return l, 0, err
	}
	host, port, err := net.SplitHostPort(s.cfg.ListenAddr)
	if err != nil {
		return nil, 0, err
	}
	tries := 1
	if port == "0" {
		tries = maxListenTries
	}
	for range tries {
		l, err := net.Listen("tcp", s.cfg.ListenAddr)
		if err != nil {
			return nil, 0, err
		}
		data := l.Addr().(*net.TCPAddr).Port - 1
		err = dataPortFree(host, data)
		if err == nil {
			return l, data, nil
		}
		l.Close()
		if tries == 1 {
			return nil, 0, &DataPortError{Port: data, Err: err}
		}
	}
	return nil, 0, fmt.Errorf("no free port of %s with a free data port below it after %d tries", host, tries)
}

// DataPortError is Start's error when the data port below a fixed control
// port cannot be bound (Config.ActiveFromDataPort).
type DataPortError struct {
	Port int
	Err  error
}

func (e *DataPortError) Error() string {
	return fmt.Sprintf("active-mode data port %d (the control port minus one) cannot be bound: %v", e.Port, e.Err)
}

func (e *DataPortError) Unwrap() error { return e.Err }

// dataPortFree says whether port can be bound on host, as each data
// connection binds it.
func dataPortFree(host string, port int) error {
	if port < 1 {
		return fmt.Errorf("there is no port %d", port)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return op.Err
		}
		return err
	}
	return l.Close()
}

// DataPort is the port active-mode data connections come from: the
// control port minus one, or 0 (any port) without ActiveFromDataPort.
func (s *Server) DataPort() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataPort
}

// activeRelay carries the data connections of one PORT or EPRT: ftpserverlib
// connects to its loopback listener, and for each transfer command the
// relay first connects to the client from the data port.
type activeRelay struct {
	l      net.Listener
	client *net.TCPAddr // where the client waits for the data connection
	from   *net.TCPAddr // the data port, on the control connection's local address
	shape  func(net.Conn) net.Conn

	mu      sync.Mutex
	pending net.Conn            // connected to the client for the transfer under way
	conns   map[net.Conn]func() // open connections, closed with the relay
	closed  bool
}

func newActiveRelay(client, from *net.TCPAddr, shape func(net.Conn) net.Conn) (*activeRelay, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &activeRelay{l: l, client: client, from: from, shape: shape, conns: map[net.Conn]func(){}}
	go r.serve()
	return r, nil
}

// arg is PORT's or EPRT's argument naming the relay, for ftpserverlib.
func (r *activeRelay) arg(cmd string) string {
	p := r.l.Addr().(*net.TCPAddr).Port
	if cmd == "EPRT" {
		return fmt.Sprintf("|1|127.0.0.1|%d|", p)
	}
	return fmt.Sprintf("127,0,0,1,%d,%d", p>>8, p&0xff)
}

// connect opens the data connection to the client, from the data port, for
// the transfer command about to go to ftpserverlib. A connection left from
// a command ftpserverlib refused is dropped.
func (r *activeRelay) connect(timeout time.Duration) error {
	d := net.Dialer{LocalAddr: r.from, Timeout: timeout, Control: ftpserver.Control}
	c, err := d.Dial("tcp", r.client.String())
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return fmt.Errorf("CSMSERVE cannot open the data connection from port %d to %s: %w", r.from.Port, r.client, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return errors.New("the data connection was closed")
	}
	if r.pending != nil {
		r.drop(r.pending)
	}
	r.pending = c
	r.conns[c] = nil
	return nil
}

// serve joins each connection ftpserverlib opens to the client's.
func (r *activeRelay) serve() {
	for {
		c, err := r.l.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		peer := r.pending
		r.pending = nil
		if peer == nil || r.closed {
			r.mu.Unlock()
			c.Close()
			continue
		}
		r.conns[c] = nil
		r.mu.Unlock()
		go r.splice(c, r.shape(peer), peer)
	}
}

// splice copies both ways until both sides are done, passing each side's
// end of data on as a half close; an error ends both.
func (r *activeRelay) splice(srv, client, raw net.Conn) {
	var wg sync.WaitGroup
	half := func(dst, src net.Conn) {
		defer wg.Done()
		if _, err := io.Copy(dst, src); err != nil {
			srv.Close()
			raw.Close()
			return
		}
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			dst.Close()
		}
	}
	wg.Add(2)
	go half(client, srv)
	go half(srv, client)
	wg.Wait()
	r.mu.Lock()
	r.drop(srv)
	r.drop(raw)
	r.mu.Unlock()
}

// drop closes c and forgets it; r.mu is held.
func (r *activeRelay) drop(c net.Conn) {
	c.Close()
	delete(r.conns, c)
}

// close ends the relay and every connection it carries.
func (r *activeRelay) close() {
	r.l.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for c := range r.conns {
		r.drop(c)
	}
	r.pending = nil
}

// dataAddr is the address of a PORT (h1,h2,h3,h4,p1,p2) or EPRT
// (|proto|address|port|) argument.
func dataAddr(cmd, arg string) (*net.TCPAddr, bool) {
	arg = strings.TrimSpace(arg)
	if cmd == "PORT" {
		f := strings.Split(arg, ",")
		if len(f) != 6 {
			return nil, false
		}
		ip := net.ParseIP(strings.Join(f[:4], "."))
		hi, err1 := strconv.Atoi(f[4])
		lo, err2 := strconv.Atoi(f[5])
		if ip == nil || err1 != nil || err2 != nil {
			return nil, false
		}
		return &net.TCPAddr{IP: ip, Port: hi<<8 + lo}, true
	}
	if arg == "" {
		return nil, false
	}
	f := strings.Split(arg, arg[:1]) // the first character is the delimiter (RFC 2428)
	if len(f) != 5 {
		return nil, false
	}
	ip := net.ParseIP(f[2])
	p, err := strconv.Atoi(f[3])
	if ip == nil || err != nil {
		return nil, false
	}
	return &net.TCPAddr{IP: ip, Port: p}, true
}
