package transport

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/secsy/goftp"
)

// Defaults of FTPOptions.
const (
	DefaultTimeout = 30 * time.Second
	DefaultRetries = 3
)

// VerifyMode says how Put checks the node's copy of a file.
type VerifyMode int

const (
	// VerifyHash (the default) asks the node for the file's SHA-256
	// (XSHA256, else HASH with SHA-256) and compares it with the sum
	// computed while sending. A node without such a command is an error:
	// every CSMSERVE answers XSHA256.
	VerifyHash VerifyMode = iota
	// VerifyAuto verifies by SHA-256 when the node offers it, else by SIZE
	// only, and says so in PutResult.Warning and the log. For plain FTP
	// servers.
	VerifyAuto
	// VerifySize compares the node's SIZE with the bytes sent.
	VerifySize
)

func (m VerifyMode) String() string {
	switch m {
	case VerifyHash:
		return "Hash"
	case VerifyAuto:
		return "Auto"
	case VerifySize:
		return "Size"
	}
	return "VerifyMode(" + strconv.Itoa(int(m)) + ")"
}

// FTPOptions tune the FTP transport.
type FTPOptions struct {
	// Timeout bounds connecting, each control command and each read or
	// write on a data connection (not a whole transfer). 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Retries is how many more times an interrupted transfer is tried
	// (resumed where the node's SIZE says it stopped, or sent again).
	// 0 means DefaultRetries; a negative value means no retry.
	Retries int
	// VerifyBy says how Put checks the node's copy; VerifyHash by default.
	VerifyBy VerifyMode
	// Logger, if set, receives one line per retry, warning and failure;
	// with Debug also goftp's protocol trace. The password never appears.
	Logger io.Writer
	Debug  bool
}

func (o FTPOptions) withDefaults() FTPOptions {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	return o
}

// FTP is the Transport over FTP (and explicit FTPS, AUTH TLS, with
// Target.Require), built on goftp's raw connections: each Conn is one
// control connection, used by one goroutine, with passive (EPSV/PASV)
// data connections.
//
// Put reads the source once, hashing it with SHA-256 as it sends. When a
// transfer breaks, the Conn reconnects and, if the node offers REST STREAM
// and SIZE, resumes (REST + STOR) at the node's size of the partial file,
// else seeks the source back to 0 and sends it again; bytes read again are
// not hashed again. Afterwards it asks the node for the file's SHA-256
// (XSHA256, which ftpserverlib and so CSMSERVE answer, else HASH) and
// compares; see VerifyMode for servers without one.
//
// Every error is an *Error naming the system, host:port and what failed;
// the password never appears in an error or in the log.
type FTP struct {
	opts FTPOptions
}

// NewFTP returns the FTP transport.
func NewFTP(opts FTPOptions) Transport { return &FTP{opts: opts.withDefaults()} }

// PutResult tells how the last Put of a Conn went.
type PutResult struct {
	Name       string
	Size       int64
	SHA256     string  // hex, computed while sending
	VerifiedBy string  // "SHA-256" or "SIZE"
	Attempts   int     // 1 when the first transfer went through
	Resumed    []int64 // for each retry, the byte it resumed at (0: sent again)
	Warning    string  // e.g. verified by size only
}

// FTPConn is the Conn FTP.Dial returns.
type FTPConn struct {
	opts   FTPOptions
	system string
	addr   string
	user   string
	caFile string
	tls    bool
	red    redactor
	log    io.Writer

	client *goftp.Client
	mu     sync.Mutex // orders guard's Close with goftp's bookkeeping of the data connection
	raw    goftp.RawConn
	broken bool
	binary bool
	feat   map[string]string
	buf    []byte
	last   PutResult
}

var _ Conn = (*FTPConn)(nil)

// Dial connects to t's CSMSERVE and logs in as t.User. With t.Require it
// first switches to TLS (AUTH TLS) and checks the node's certificate
// against t.CAFile for the name t.Host.
func (f *FTP) Dial(ctx context.Context, t Target) (Conn, error) {
	c := &FTPConn{
		opts:   f.opts,
		system: t.System,
		addr:   net.JoinHostPort(t.Host, strconv.Itoa(t.Port)),
		user:   t.User,
		caFile: t.CAFile,
		tls:    t.Require,
		red:    redactor(t.Password),
	}
	if c.system == "" {
		c.system = "?"
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
	}
	if t.Port <= 0 || t.Port > 65535 {
		return nil, c.fail(&Error{Op: "connect", Detail: fmt.Sprintf("invalid port %d", t.Port),
			Hint: "check the system's PORT in the System Status Table"})
	}
	client, err := goftp.DialConfig(cfg, c.addr)
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

func tlsConfig(t Target) (*tls.Config, error) {
	if t.CAFile == "" {
		return nil, errors.New("no CA file given")
	}
	pem, err := os.ReadFile(t.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
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
	c.raw, c.broken, c.binary = r.raw, false, false
	c.feat = map[string]string{}
	code, msg, err := c.raw.SendCommand("FEAT")
	if err != nil {
		c.broken = true
		d, h := describeNetErr(err)
		return c.fail(&Error{Op: "FEAT", Detail: d, Hint: h, Err: err})
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

// guard closes the control connection when ctx ends, so that a blocked
// read or write returns.
func (c *FTPConn) guard(ctx context.Context) func() bool {
	raw := c.raw
	return context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		raw.Close()
	})
}

// opErr wraps a failure of op: a reply or a broken connection.
func (c *FTPConn) opErr(ctx context.Context, op string, err error) *Error {
	if ctx.Err() != nil {
		c.broken = true
		return c.fail(&Error{Op: op, Detail: ctx.Err().Error(), Err: ctx.Err()})
	}
	var re *replyError
	if errors.As(err, &re) {
		return c.fail(&Error{Op: op, Code: re.code, Detail: oneLine(re.msg), Err: err})
	}
	if code, msg := codeOf(err); code != 0 {
		return c.fail(&Error{Op: op, Code: code, Detail: oneLine(msg), Err: err})
	}
	c.broken = true
	d, h := describeNetErr(err)
	return c.fail(&Error{Op: op, Detail: d, Hint: h, Err: err})
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

func (c *FTPConn) hasFeat(name string) bool {
	_, ok := c.feat[name]
	return ok
}

func (c *FTPConn) canResume() bool {
	return c.feat["REST"] == "STREAM" && c.hasFeat("SIZE")
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

func (c *FTPConn) buffer() []byte {
	if c.buf == nil {
		c.buf = make([]byte, 256<<10)
	}
	return c.buf
}

// LastPut tells how the last successful Put went (attempts, resume
// offsets, how it was verified).
func (c *FTPConn) LastPut() PutResult { return c.last }

// Features are the node's FEAT lines, upper case: name -> argument.
func (c *FTPConn) Features() map[string]string { return c.feat }

// Put stores r as name, hashing while sending; see Conn.
func (c *FTPConn) Put(ctx context.Context, name string, r io.ReadSeeker, size int64) error {
	op := "put " + name
	if err := checkName(name); err != nil {
		return c.fail(&Error{Op: op, Detail: err.Error()})
	}
	res := PutResult{Name: name, Size: size}
	hs := &hashState{h: sha256.New()}
	attempts := 1 + c.opts.Retries
	var off int64
	var lastErr error
	for a := 1; a <= attempts; a++ {
		res.Attempts = a
		if a > 1 {
			if err := pause(ctx, a); err != nil {
				break
			}
			off = c.resumePoint(ctx, name, hs.n, size)
			res.Resumed = append(res.Resumed, off)
			how := "sending it again from the start"
			if off > 0 {
				how = fmt.Sprintf("resuming at byte %d", off)
			}
			c.logf("%s (%s): %s: attempt %d of %d, %s, after: %v", c.system, c.addr, op, a, attempts, how, lastErr)
		}
		retry, err := c.storeOnce(ctx, op, name, r, off, size, hs)
		if err == nil {
			lastErr = nil
			break
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	if lastErr != nil {
		if res.Attempts > 1 {
			if e, ok := lastErr.(*Error); ok {
				e.Detail += fmt.Sprintf(" (after %d attempts)", res.Attempts)
			}
		}
		return lastErr
	}
	if size >= 0 && hs.n != size {
		return c.fail(&Error{Op: op, Detail: fmt.Sprintf("the source gave %d bytes, not the %d announced", hs.n, size)})
	}
	res.Size = hs.n
	res.SHA256 = hex.EncodeToString(hs.h.Sum(nil))
	by, warn, err := c.verify(ctx, op, name, res.Size, res.SHA256)
	if err != nil {
		return err
	}
	res.VerifiedBy, res.Warning = by, warn
	if warn != "" {
		c.logf("%s (%s): %s: warning: %s", c.system, c.addr, op, warn)
	}
	c.last = res
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

// resumePoint is where a retried upload continues: the node's SIZE of the
// partial file when the node can resume and the bytes there were all
// read (and hashed) before, else 0.
func (c *FTPConn) resumePoint(ctx context.Context, name string, hashed, size int64) int64 {
	if err := c.ensure(ctx); err != nil || !c.canResume() {
		return 0
	}
	if err := c.setBinary(); err != nil {
		c.broken = true
		return 0
	}
	code, msg, err := c.command(ctx, "SIZE "+name, "SIZE %s", name)
	if err != nil || code != 213 {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
	if err != nil || n <= 0 || n > hashed || (size >= 0 && n > size) {
		return 0
	}
	return n
}

// storeOnce makes one STOR (or REST+STOR) attempt from offset off.
func (c *FTPConn) storeOnce(ctx context.Context, op, name string, r io.ReadSeeker, off, size int64, hs *hashState) (retry bool, err error) {
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return false, c.fail(&Error{Op: op, Detail: fmt.Sprintf("positioning the source at byte %d: %v", off, err), Err: err})
	}
	if err := c.ensure(ctx); err != nil {
		return err.(*Error).Temporary(), err
	}
	stop := c.guard(ctx)
	defer stop()
	if err := c.setBinary(); err != nil {
		e := c.opErr(ctx, op, err)
		return e.Temporary(), e
	}
	if off > 0 {
		if err := c.expect(350, "REST %d", off); err != nil {
			e := c.opErr(ctx, op, err)
			return e.Temporary(), e
		}
	}
	src := io.Reader(&hashingReader{r: r, pos: off, hs: hs})
	if size >= 0 {
		src = io.LimitReader(src, size-off)
	}
	_, readErr, err := c.transfer(ctx, "STOR "+name, nil, src)
	if readErr != nil {
		c.broken = true
		return false, c.fail(&Error{Op: op, Detail: "reading the source: " + readErr.Error(), Err: readErr})
	}
	if err != nil {
		e := c.opErr(ctx, op, err)
		return e.Temporary(), e
	}
	return false, nil
}

// transfer runs one data command: it opens the passive data connection,
// sends cmd, copies src to it (upload) or it to dst (download), and reads
// the final reply. localErr is a failure of src or dst, err one of the
// node or the network.
func (c *FTPConn) transfer(ctx context.Context, cmd string, dst io.Writer, src io.Reader) (n int64, localErr, err error) {
	getter, err := c.raw.PrepareDataConn()
	if err != nil {
		return 0, nil, err
	}
	code, msg, err := c.raw.SendCommand("%s", cmd)
	c.mu.Lock()
	dc, gerr := getter()
	c.mu.Unlock()
	if err != nil {
		if gerr == nil {
			dc.Close()
		}
		return 0, nil, err
	}
	if code/100 != 1 {
		if gerr == nil {
			dc.Close()
		}
		return 0, nil, &replyError{code, msg}
	}
	if gerr != nil {
		return 0, nil, gerr
	}
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
		return n, nil, copyErr
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

// verify checks the node's copy after a Put.
func (c *FTPConn) verify(ctx context.Context, op, name string, size int64, sum string) (by, warn string, err error) {
	if c.opts.VerifyBy != VerifySize {
		theirs, ok, err := c.remoteSHA256(ctx, op, name)
		if err != nil {
			return "", "", err
		}
		if ok {
			if !strings.EqualFold(theirs, sum) {
				return "", "", c.fail(&Error{Op: op,
					Detail: fmt.Sprintf("SHA-256 mismatch: sent %s, the node has %s", sum, strings.ToLower(theirs)),
					Hint:   "the file was damaged on the way or on the node; send it again"})
			}
			return "SHA-256", "", nil
		}
		if c.opts.VerifyBy == VerifyHash {
			return "", "", c.fail(&Error{Op: op, Detail: "cannot verify: the node offers no SHA-256 command (XSHA256 or HASH)",
				Hint: "CSMSERVE answers XSHA256; for a plain FTP server choose VerifyBy Auto or Size"})
		}
		warn = "the node offers no SHA-256 command (XSHA256 or HASH): verified by size only"
	}
	if !c.hasFeat("SIZE") {
		w := "the node offers no SIZE either: not verified"
		if warn != "" {
			w = warn + "; " + w
		}
		return "", w, nil
	}
	if err := c.ensure(ctx); err != nil {
		return "", "", err
	}
	if err := c.setBinary(); err != nil {
		return "", "", c.opErr(ctx, op, err)
	}
	code, msg, err := c.command(ctx, op+": SIZE", "SIZE %s", name)
	if err != nil {
		return "", "", err
	}
	if code != 213 {
		return "", "", c.fail(&Error{Op: op + ": SIZE", Code: code, Detail: oneLine(msg)})
	}
	n, perr := strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
	if perr != nil || n != size {
		return "", "", c.fail(&Error{Op: op, Detail: fmt.Sprintf("size mismatch: sent %d bytes, the node has %s", size, strings.TrimSpace(msg)),
			Hint: "send it again"})
	}
	return "SIZE", warn, nil
}

// remoteSHA256 asks the node for name's SHA-256; ok is false when the
// node offers no way to.
func (c *FTPConn) remoteSHA256(ctx context.Context, op, name string) (sum string, ok bool, err error) {
	if err := c.ensure(ctx); err != nil {
		return "", false, err
	}
	var code int
	var msg string
	switch {
	case c.hasFeat("XSHA256"):
		code, msg, err = c.command(ctx, op+": XSHA256", "XSHA256 %s", name)
	case strings.Contains(c.feat["HASH"], "SHA-256"):
		if code, msg, err = c.command(ctx, op+": OPTS HASH", "OPTS HASH SHA-256"); err == nil && code/100 == 2 {
			code, msg, err = c.command(ctx, op+": HASH", "HASH %s", name)
		}
	default:
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if code/100 != 2 {
		return "", false, c.fail(&Error{Op: op + ": asking the node for the SHA-256", Code: code, Detail: oneLine(msg)})
	}
	for _, w := range strings.Fields(msg) {
		if len(w) == 64 {
			if _, err := hex.DecodeString(w); err == nil {
				return w, true, nil
			}
		}
	}
	return "", false, c.fail(&Error{Op: op + ": asking the node for the SHA-256", Code: code,
		Detail: "no SHA-256 in the reply: " + oneLine(msg)})
}

// Get streams name into w, resuming after an interruption when the node
// allows it.
func (c *FTPConn) Get(ctx context.Context, name string, w io.Writer) error {
	op := "get " + name
	if err := checkName(name); err != nil {
		return c.fail(&Error{Op: op, Detail: err.Error()})
	}
	attempts := 1 + c.opts.Retries
	var got int64
	var lastErr *Error
	for a := 1; a <= attempts; a++ {
		if a > 1 {
			if err := pause(ctx, a); err != nil {
				break
			}
			if err := c.ensure(ctx); err != nil {
				lastErr = err.(*Error)
				if !lastErr.Temporary() {
					break
				}
				continue
			}
			if got > 0 && !c.canResume() {
				break
			}
			c.logf("%s (%s): %s: attempt %d of %d at byte %d, after: %v", c.system, c.addr, op, a, attempts, got, lastErr)
		}
		n, retry, err := c.retrieveOnce(ctx, op, name, w, got)
		got += n
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return lastErr
}

func (c *FTPConn) retrieveOnce(ctx context.Context, op, name string, w io.Writer, off int64) (int64, bool, *Error) {
	if err := c.ensure(ctx); err != nil {
		e := err.(*Error)
		return 0, e.Temporary(), e
	}
	stop := c.guard(ctx)
	defer stop()
	fail := func(n int64, err error) (int64, bool, *Error) {
		e := c.opErr(ctx, op, err)
		return n, e.Temporary(), e
	}
	if err := c.setBinary(); err != nil {
		return fail(0, err)
	}
	want := int64(-1)
	if c.hasFeat("SIZE") {
		if code, msg, err := c.raw.SendCommand("SIZE %s", name); err != nil {
			return fail(0, err)
		} else if code == 213 {
			want, _ = strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
		}
	}
	if off > 0 {
		if err := c.expect(350, "REST %d", off); err != nil {
			return fail(0, err)
		}
	}
	n, localErr, err := c.transfer(ctx, "RETR "+name, w, nil)
	if localErr != nil {
		return n, false, c.fail(&Error{Op: op, Detail: "writing what was received: " + localErr.Error(), Err: localErr})
	}
	if err != nil {
		return fail(n, err)
	}
	if want >= 0 && off+n != want {
		c.broken = true
		return n, true, c.fail(&Error{Op: op, Detail: fmt.Sprintf("received %d bytes of %d", off+n, want)})
	}
	return n, false, nil
}

// List names the files in the node's current (staging) directory.
func (c *FTPConn) List(ctx context.Context) ([]string, error) {
	op := "list"
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	stop := c.guard(ctx)
	defer stop()
	var b strings.Builder
	_, localErr, err := c.transfer(ctx, "NLST", &b, nil)
	if localErr != nil {
		return nil, c.fail(&Error{Op: op, Detail: localErr.Error()})
	}
	if err != nil {
		return nil, c.opErr(ctx, op, err)
	}
	var names []string
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		n := strings.TrimPrefix(strings.TrimRight(sc.Text(), "\r"), "./")
		if n != "" && n != "." && n != ".." {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Site sends SITE args; the reply (of any code) comes back as code and
// text, lines joined by "\n". Only a transport failure is an error.
func (c *FTPConn) Site(ctx context.Context, args string) (int, string, error) {
	op := "SITE " + oneLine(args)
	if strings.ContainsAny(args, "\r\n\x00") {
		return 0, "", c.fail(&Error{Op: op, Detail: "the arguments hold a line break or NUL"})
	}
	code, msg, err := c.command(ctx, op, "SITE %s", args)
	if err != nil {
		return 0, "", err
	}
	return code, c.red.clean(msg), nil
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

// hashState is the SHA-256 of the source's first n bytes.
type hashState struct {
	h hash.Hash
	n int64
}

// hashingReader reads the source from pos on and feeds the hash the bytes
// it has not seen yet, so a resumed or repeated transfer still hashes each
// byte once, in order.
type hashingReader struct {
	r   io.Reader
	pos int64
	hs  *hashState
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		end := h.pos + int64(n)
		if end > h.hs.n && h.pos <= h.hs.n {
			h.hs.h.Write(p[h.hs.n-h.pos : n])
			h.hs.n = end
		}
		h.pos = end
	}
	return n, err
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
