package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/secsy/goftp"
)

// Dial connects to t's CSMSERVE and logs in as t.User. With t.Require it
// first switches to TLS (AUTH TLS) and checks the node's certificate
// against t.CAFile for the name t.Host.
func (f *FTP) Dial(ctx context.Context, t Target) (Conn, error) {
	c := &FTPConn{
		opts:     f.opts,
		system:   t.System,
		addr:     net.JoinHostPort(t.Host, strconv.Itoa(t.Port)),
		user:     t.User,
		caFile:   t.CAFile,
		tls:      t.Require,
		red:      redactor(t.Password),
		verifyBy: f.opts.VerifyBy,
	}
	if m, ok := f.opts.VerifyFor[strings.ToUpper(t.System)]; ok {
		c.verifyBy = m
	}
	if c.system == "" {
		c.system = "?"
	}
	dial := c.addr
	if to, ok := f.opts.ConnectTo[strings.ToLower(c.addr)]; ok {
		dial = to
		c.addr += " via " + to
	}
	if f.opts.Logger != nil {
		c.log = &redactingWriter{w: f.opts.Logger, red: c.red}
	}
	cfg := goftp.Config{
		User:               t.User,
		Password:           t.Password,
		ConnectionsPerHost: 1,
		Timeout:            f.opts.Timeout,
	}
	if f.opts.Debug && c.log != nil {
		cfg.Logger = c.log
	}
	if t.Require {
		tc, err := tlsConfig(t)
		if err != nil {
			return nil, c.fail(&Error{Op: "FTPS setup", Detail: err.Error(), permanent: true,
				Hint: "a system added with REQUIRE needs the PEM file of the CA that signed its CSMSERVE certificate"})
		}
		cfg.TLSConfig = tc
		cfg.TLSMode = goftp.TLSExplicit
		c.tlsCfg = tc
	}
	if t.Port <= 0 || t.Port > 65535 {
		return nil, c.fail(&Error{Op: "connect", Detail: fmt.Sprintf("invalid port %d", t.Port),
			Hint: "check the system's PORT in the System Status Table"})
	}
	if f.opts.Active {
		local, remote, err := route(dial)
		if err != nil {
			d, h := describeNetErr(err)
			return nil, c.fail(&Error{Op: "connect (active mode)", Detail: d, Hint: h, Err: err})
		}
		c.local, c.remote = local, remote
	}
	client, err := goftp.DialConfig(cfg, dial)
	if err != nil {
		d, h := describeNetErr(err)
		return nil, c.fail(&Error{Op: "connect", Detail: d, Hint: h, Err: err})
	}
	c.client = client
	if err := c.connect(ctx, t.Require); err != nil {
		client.Close()
		return nil, err
	}
	return c, nil
}

// route finds the local address the kernel sends from to addr, and addr's
// IP: in active mode the node connects to the former, and only a
// connection from the latter is taken. goftp does not show its control
// connection's addresses; a UDP "connection" sends nothing and asks the
// routing table the same question. IPv4 unless addr is an IPv6 literal, as
// goftp dials.
func route(addr string) (local, remote net.IP, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	network := "udp4"
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		network = "udp6"
	}
	u, err := net.Dial(network, addr)
	if err != nil {
		return nil, nil, err
	}
	defer u.Close()
	return u.LocalAddr().(*net.UDPAddr).IP, u.RemoteAddr().(*net.UDPAddr).IP, nil
}

func tlsConfig(t Target) (*tls.Config, error) {
	if t.CAFile == "" {
		return nil, errors.New("no CA file given")
	}
	f, err := os.Open(t.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	defer f.Close()
	const most = 1 << 20 // PEM certificates: a few KB each
	pem, err := io.ReadAll(io.LimitReader(f, most+1))
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	if len(pem) > most {
		return nil, fmt.Errorf("CA file %s is larger than %d bytes; give a PEM file of CA certificates", t.CAFile, most)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", t.CAFile)
	}
	return &tls.Config{
		RootCAs:            pool,
		ServerName:         t.Host,
		MinVersion:         tls.VersionTLS12,
		ClientSessionCache: tls.NewLRUClientSessionCache(4),
	}, nil
}

// connect opens the control connection, logs in and reads the features.
func (c *FTPConn) connect(ctx context.Context, require bool) error {
	if c.raw != nil {
		c.raw.Close()
		c.raw = nil
	}
	type result struct {
		raw goftp.RawConn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		raw, err := c.client.OpenRawConn()
		ch <- result{raw, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil {
				r.raw.Close()
			}
		}()
		return c.fail(&Error{Op: "connect", Detail: ctx.Err().Error(), Err: ctx.Err()})
	}
	if r.err != nil {
		return c.fail(c.loginError(r.err, require))
	}
	c.raw, c.broken, c.binary = &guardedRaw{RawConn: r.raw}, false, false
	c.feat = map[string]string{}
	stop := c.guard(ctx)
	defer stop()
	code, msg, err := c.raw.SendCommand("FEAT")
	if err == nil {
		err = ctx.Err() // the features came, but too late to be used
	}
	if err != nil {
		c.broken = true
		return c.opErr(ctx, "FEAT", err)
	}
	if code/100 == 2 {
		for _, line := range strings.Split(msg, "\n") {
			if !strings.HasPrefix(line, " ") {
				continue
			}
			k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
			c.feat[strings.ToUpper(k)] = strings.ToUpper(strings.TrimSpace(v))
		}
	}
	return nil
}

// loginError explains a failure of goftp's connect-and-login sequence.
func (c *FTPConn) loginError(err error, require bool) *Error {
	code, msg := codeOf(err)
	msg = oneLine(msg)
	switch {
	case code == 530:
		return &Error{Op: "login as " + c.user + " refused", Code: code, Detail: msg,
			Hint: "check the user and its password (CSMWORK's comes from --password-file or CSMSIM_CSMWORK_PASSWORD)", Err: err}
	case code == 421 && strings.Contains(strings.ToUpper(msg), "TLS"):
		return &Error{Op: "login as " + c.user, Code: code, Detail: msg,
			Hint: "the node requires FTPS: add the system with REQUIRE and give the CA file", Err: err}
	case code != 0 && require && code != 220:
		return &Error{Op: "AUTH TLS or login", Code: code, Detail: msg,
			Hint: "the system was added with REQUIRE: does the node offer FTPS (AUTH TLS)?", Err: err}
	case code != 0:
		return &Error{Op: "connect and login as " + c.user, Code: code, Detail: msg, Err: err}
	}
	text := err.Error()
	if strings.Contains(text, "x509:") || strings.Contains(text, "tls:") {
		d := text
		if i := strings.Index(d, "tls:"); i >= 0 {
			d = d[i:]
		}
		hint := "the node's certificate does not verify against CA file " + c.caFile
		if strings.Contains(text, "valid for") || strings.Contains(text, "doesn't contain any IP SANs") {
			hint = "the node's certificate does not name this host; check the system's HOST or the certificate's names"
		}
		return &Error{Op: "TLS handshake", Detail: d, Hint: hint, Err: err, permanent: true}
	}
	d, h := describeNetErr(err)
	return &Error{Op: "connect", Detail: d, Hint: h, Err: err}
}

// ensure reconnects after a broken connection.
func (c *FTPConn) ensure(ctx context.Context) error {
	if c.raw != nil && !c.broken {
		return nil
	}
	if c.client == nil {
		return c.fail(&Error{Op: "use", Detail: "connection closed"})
	}
	c.logf("%s (%s): reconnecting", c.system, c.addr)
	return c.connect(ctx, c.tls)
}

// Features are the node's FEAT lines, upper case: name -> argument.
func (c *FTPConn) Features() map[string]string { return c.feat }

func (c *FTPConn) hasFeat(name string) bool {
	_, ok := c.feat[name]
	return ok
}

func (c *FTPConn) canResume() bool {
	return c.feat["REST"] == "STREAM" && c.hasFeat("SIZE")
}

// Close ends the session (QUIT) and closes the connections.
func (c *FTPConn) Close() error {
	if c.raw != nil {
		if !c.broken {
			_, _, _ = c.raw.SendCommand("QUIT")
		}
		c.raw.Close()
		c.raw = nil
	}
	if c.client != nil {
		c.client.Close()
		c.client = nil
	}
	return nil
}
