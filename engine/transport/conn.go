package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/secsy/goftp"
)

// fail completes e with the system and address, removes the password and
// logs it.
func (c *FTPConn) fail(e *Error) *Error {
	e.System, e.Addr = c.system, c.addr
	e.Detail = c.red.clean(e.Detail)
	e.Hint = c.red.clean(e.Hint)
	if e.Err != nil && c.red.in(e.Err.Error()) {
		e.Err = errors.New(c.red.clean(e.Err.Error()))
	}
	c.logf("error: %v", e)
	return e
}

func (c *FTPConn) logf(format string, args ...any) {
	if c.log == nil {
		return
	}
	fmt.Fprintf(c.log, "transport: "+format+"\n", args...)
}

// guard closes the control connection when ctx ends, so that a blocked
// read or write returns, and from then on until stop sends no command:
// once an operation's deadline has passed, the node hears nothing more
// of it, whenever the close itself runs.
func (c *FTPConn) guard(ctx context.Context) (stop func()) {
	raw := c.raw
	outer := raw.ctx
	raw.ctx = ctx
	closeOnEnd := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		raw.Close()
	})
	return func() {
		closeOnEnd()
		raw.ctx = outer
	}
}

// guardedRaw is goftp's connection that refuses to send once the guarded
// operation's context has ended (FTPConn.guard).
type guardedRaw struct {
	goftp.RawConn
	ctx context.Context // the guarded operation's; nil outside one
}

func (g *guardedRaw) ended() error {
	if g.ctx == nil {
		return nil
	}
	return g.ctx.Err()
}

func (g *guardedRaw) SendCommand(format string, args ...any) (int, string, error) {
	if err := g.ended(); err != nil {
		return 0, "", err
	}
	return g.RawConn.SendCommand(format, args...)
}

// PrepareDataConn sends EPSV (or PASV, PORT, EPRT) in goftp.
func (g *guardedRaw) PrepareDataConn() (func() (net.Conn, error), error) {
	if err := g.ended(); err != nil {
		return nil, err
	}
	return g.RawConn.PrepareDataConn()
}

// opErr wraps a failure of op, a reply or a broken connection, and logs it.
func (c *FTPConn) opErr(ctx context.Context, op string, err error) *Error {
	return c.fail(c.opError(ctx, op, err))
}

// opError is opErr's error before it is completed and logged, for a
// caller that adds a hint.
func (c *FTPConn) opError(ctx context.Context, op string, err error) *Error {
	if ctx.Err() != nil {
		c.broken = true
		return &Error{Op: op, Detail: ctx.Err().Error(), Err: ctx.Err()}
	}
	var re *replyError
	if errors.As(err, &re) {
		return &Error{Op: op, Code: re.code, Detail: oneLine(re.msg), Err: err}
	}
	if code, msg := codeOf(err); code != 0 {
		return &Error{Op: op, Code: code, Detail: oneLine(msg), Err: err}
	}
	c.broken = true
	d, h := describeNetErr(err)
	return &Error{Op: op, Detail: d, Hint: h, Err: err}
}

// command sends one control command; a reply is never an error here.
func (c *FTPConn) command(ctx context.Context, op, format string, args ...any) (int, string, error) {
	if err := c.ensure(ctx); err != nil {
		return 0, "", err
	}
	stop := c.guard(ctx)
	defer stop()
	code, msg, err := c.raw.SendCommand(format, args...)
	if err != nil {
		return 0, "", c.opErr(ctx, op, err)
	}
	return code, msg, nil
}

// expect sends a command and wants a reply in class want (1-5) or the
// exact code want (>= 100).
func (c *FTPConn) expect(want int, format string, args ...any) error {
	code, msg, err := c.raw.SendCommand(format, args...)
	if err != nil {
		return err
	}
	if !replyOK(code, want) {
		return &replyError{code, msg}
	}
	return nil
}

func replyOK(code, want int) bool {
	if want < 10 {
		return code/100 == want
	}
	return code == want
}

func (c *FTPConn) setBinary() error {
	if c.binary {
		return nil
	}
	if err := c.expect(2, "TYPE I"); err != nil {
		return err
	}
	c.binary = true
	return nil
}

func (c *FTPConn) buffer() []byte {
	if c.buf == nil {
		c.buf = make([]byte, 256<<10)
	}
	return c.buf
}

// transfer runs one data command: it opens the data connection (passive,
// or active with FTPOptions.Active), sends cmd, copies src to it (upload)
// or it to dst (download), and reads the final reply. localErr is a
// failure of src or dst, err one of the node or the network.
func (c *FTPConn) transfer(ctx context.Context, cmd string, dst io.Writer, src io.Reader) (n int64, localErr, err error) {
	link, err := c.openData(ctx)
	if err != nil {
		return 0, nil, err
	}
	code, msg, err := c.raw.SendCommand("%s", cmd)
	if err != nil {
		link.abort()
		return 0, nil, err
	}
	if code/100 != 1 {
		link.abort()
		return 0, nil, &replyError{code, msg}
	}
	dc, err := link.get()
	if err != nil {
		return 0, nil, err
	}
	// the guard closes the control connection when ctx ends; an active
	// data connection is the transport's own and needs the same
	defer context.AfterFunc(ctx, func() { dc.Close() })()
	var copyErr error
	if src != nil {
		lr := &localReader{r: src}
		n, copyErr = io.CopyBuffer(dc, lr, c.buffer())
		localErr = lr.err
	} else {
		lw := &localWriter{w: dst}
		n, copyErr = io.CopyBuffer(lw, dc, c.buffer())
		localErr = lw.err
	}
	if localErr != nil || copyErr != nil {
		dc.Close()
		c.broken = true
		if localErr != nil {
			return n, localErr, nil
		}
		return n, nil, c.whyBroken(copyErr)
	}
	if err := dc.Close(); err != nil {
		c.broken = true
		return n, nil, err
	}
	code, msg, err = c.raw.ReadResponse()
	if err != nil {
		return n, nil, err
	}
	if code/100 != 2 {
		return n, nil, &replyError{code, msg}
	}
	return n, nil, nil
}

// replyGrace bounds the wait for a node's reply after its data connection
// broke (whyBroken).
const replyGrace = 5 * time.Second

// whyBroken reads the node's reply after the data connection broke under a
// copy. A server that stops a transfer itself (vsftpd on a full disk
// resets the data connection, then answers 451) says why on the control
// connection, which tells more than "connection reset"; a reply of 4xx or
// 5xx is returned instead of copyErr. A node that says nothing soon, or
// that says the transfer went well, leaves copyErr: the copy did break.
func (c *FTPConn) whyBroken(copyErr error) error {
	raw := c.raw
	t := time.AfterFunc(min(c.opts.Timeout, replyGrace), func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		raw.Close()
	})
	code, msg, err := raw.ReadResponse()
	t.Stop()
	if err == nil && code >= 400 {
		return &replyError{code, msg}
	}
	return copyErr
}

// dataLink is a data connection on its way: get returns it once the node
// accepted the transfer command, abort releases it when the node refused.
type dataLink struct {
	get   func() (net.Conn, error)
	abort func()
}

// openData prepares the data connection of the next transfer command: in
// passive mode goftp sends EPSV (or PASV) and connects now; in active mode
// the transport listens and sends PORT or EPRT.
func (c *FTPConn) openData(ctx context.Context) (*dataLink, error) {
	if c.opts.Active {
		return c.listenActive(ctx)
	}
	getter, err := c.raw.PrepareDataConn()
	if err != nil {
		return nil, err
	}
	get := func() (net.Conn, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return getter()
	}
	return &dataLink{get: get, abort: func() {
		if dc, err := get(); err == nil {
			dc.Close()
		}
	}}, nil
}

// listenActive listens on the address the control connection comes from
// and tells the node (PORT, or EPRT for IPv6). Its get accepts the node's
// connection within the timeout; a connection from another address (a
// process racing the node to the port) is closed unread, as vsftpd and
// ftpserverlib refuse a data peer that is not the control peer. Under TLS
// the transport is the TLS client of the data connection, as in passive
// mode (RFC 4217), so the node's certificate is checked on it too.
func (c *FTPConn) listenActive(ctx context.Context) (*dataLink, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: c.local})
	if err != nil {
		return nil, fmt.Errorf("active mode: listening for the node's data connection: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	var arg string
	if ip := c.local.To4(); ip != nil {
		arg = fmt.Sprintf("PORT %d,%d,%d,%d,%d,%d", ip[0], ip[1], ip[2], ip[3], port>>8, port&0xff)
	} else {
		arg = fmt.Sprintf("EPRT |2|%s|%d|", c.local, port)
	}
	if err := c.expect(2, "%s", arg); err != nil {
		ln.Close()
		return nil, err
	}
	get := func() (net.Conn, error) {
		defer ln.Close()
		defer context.AfterFunc(ctx, func() { ln.Close() })()
		if err := ln.SetDeadline(time.Now().Add(c.opts.Timeout)); err != nil {
			return nil, err
		}
		for {
			conn, err := ln.AcceptTCP()
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, fmt.Errorf("active mode: the node did not connect to %s: %w", ln.Addr(), err)
			}
			if from := conn.RemoteAddr().(*net.TCPAddr).IP; !from.Equal(c.remote) {
				c.logf("%s (%s): active mode: closed a data connection from %s, not the node's address %s", c.system, c.addr, from, c.remote)
				conn.Close()
				continue
			}
			var dc net.Conn = conn
			if c.tls {
				dc = tls.Client(conn, c.tlsCfg)
			}
			return &timedConn{Conn: dc, timeout: c.opts.Timeout}, nil
		}
	}
	return &dataLink{get: get, abort: func() { ln.Close() }}, nil
}

// timedConn bounds each read and write of an active data connection by
// the timeout, as goftp bounds its passive ones.
type timedConn struct {
	net.Conn
	timeout time.Duration
}

func (t *timedConn) Read(p []byte) (int, error) {
	if err := t.SetReadDeadline(time.Now().Add(t.timeout)); err != nil {
		return 0, err
	}
	return t.Conn.Read(p)
}

func (t *timedConn) Write(p []byte) (int, error) {
	if err := t.SetWriteDeadline(time.Now().Add(t.timeout)); err != nil {
		return 0, err
	}
	return t.Conn.Write(p)
}

// localReader and localWriter remember failures of the local side of a
// copy, to tell them from network failures.
type localReader struct {
	r   io.Reader
	err error
}

func (l *localReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}

type localWriter struct {
	w   io.Writer
	err error
}

func (l *localWriter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if err != nil {
		l.err = err
	}
	return n, err
}

func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty file name")
	case strings.ContainsAny(name, "\r\n\x00"):
		return fmt.Errorf("file name %q holds a line break or NUL", name)
	}
	return nil
}

// pause waits before attempt a (2, 3, ...): 100 ms, doubling, at most 2 s.
func pause(ctx context.Context, a int) error {
	d := 100 * time.Millisecond << (a - 2)
	if d > 2*time.Second || d <= 0 {
		d = 2 * time.Second
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// redactor removes the password from text.
type redactor string

func (r redactor) in(s string) bool { return len(r) >= 3 && strings.Contains(s, string(r)) }

func (r redactor) clean(s string) string {
	if !r.in(s) {
		return s
	}
	return strings.ReplaceAll(s, string(r), "********")
}

// redactingWriter is the Logger with the password removed; goftp writes
// one line per Write.
type redactingWriter struct {
	mu  sync.Mutex
	w   io.Writer
	red redactor
}

func (w *redactingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.red.in(string(p)) {
		if _, err := io.WriteString(w.w, w.red.clean(string(p))); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return w.w.Write(p)
}
