package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
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

func (c *FTPConn) buffer() []byte {
	if c.buf == nil {
		c.buf = make([]byte, 256<<10)
	}
	return c.buf
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
