package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Get streams name into w, resuming after an interruption when the node
// allows it.
func (c *FTPConn) Get(ctx context.Context, name string, w io.Writer) error {
	return c.get(ctx, "get "+name, name, w)
}

// get is Get naming the operation op in errors and the log (a Put's read
// back is one).
func (c *FTPConn) get(ctx context.Context, op, name string, w io.Writer) error {
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
