package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// PutResult tells how the last Put of a Conn went.
type PutResult struct {
	Name       string
	Size       int64
	SHA256     string  // hex, computed while sending
	VerifiedBy string  // "SHA-256" (the node's), "READBACK" (read back and hashed) or "SIZE"
	Attempts   int     // 1 when the first transfer went through
	Resumed    []int64 // for each retry, the byte it resumed at (0: sent again)
}

// LastPut tells how the last successful Put went (attempts, resume
// offsets, how it was verified).
func (c *FTPConn) LastPut() PutResult { return c.last }

// Put stores r as name, hashing while sending unless r is a KnownSum;
// see Conn.
func (c *FTPConn) Put(ctx context.Context, name string, r io.ReadSeeker, size int64) error {
	op := "put " + name
	if err := checkName(name); err != nil {
		return c.fail(&Error{Op: op, Detail: err.Error()})
	}
	res := PutResult{Name: name, Size: size}
	hs := &hashState{h: sha256.New()}
	known := ""
	if k, ok := r.(KnownSum); ok {
		if known = strings.ToLower(k.SHA256()); known != "" {
			hs.h = nil // counted, not hashed
		}
	}
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
	if res.SHA256 = known; known == "" {
		res.SHA256 = hex.EncodeToString(hs.h.Sum(nil))
	}
	by, err := c.verify(ctx, op, name, res.Size, res.SHA256)
	if err != nil {
		return err
	}
	res.VerifiedBy = by
	c.last = res
	return nil
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
		e := c.opError(ctx, op, err)
		if e.Hint == "" {
			e.Hint = c.storeHint(e.Code)
		}
		return e.Temporary(), c.fail(e)
	}
	return false, nil
}

// storeHint says what to do about a node's refusal of a STOR.
func (c *FTPConn) storeHint(code int) string {
	switch code {
	case 452, 552:
		return "the node has no room for the file: free space there (or enlarge its disk), then send it again"
	case 451:
		return "the node could not write the file; a full disk or a quota does that: check the node's free space"
	case 550, 553:
		return "the node refused to create the file: check that " + c.user + " may write it there"
	}
	return ""
}

// verify checks the node's copy after a Put as the system's VerifyMode
// says, and returns how (PutResult.VerifiedBy). Each mode does its check
// or fails: none lets an unchecked file pass.
func (c *FTPConn) verify(ctx context.Context, op, name string, size int64, sum string) (string, error) {
	switch c.verifyBy {
	case VerifyReadback:
		return "READBACK", c.readBack(ctx, op, name, sum)
	case VerifySize:
		return "SIZE", c.sizeCheck(ctx, op, name, size)
	case VerifyHash:
		theirs, err := c.remoteSHA256(ctx, op, name)
		if err != nil {
			return "", err
		}
		if !strings.EqualFold(theirs, sum) {
			return "", c.fail(&Error{Op: op,
				Detail: fmt.Sprintf("SHA-256 mismatch: sent %s, the node has %s", sum, strings.ToLower(theirs)),
				Hint:   "the file was damaged on the way or on the node; send it again"})
		}
		return "SHA-256", nil
	}
	return "", c.fail(&Error{Op: op, Detail: "unknown verification " + c.verifyBy.String(), permanent: true,
		Hint: "choose xsha256, readback or size"})
}

// unknownCommand reports whether a reply code says the server does not
// know a command (or that argument of it): 500, 502 or 504.
func unknownCommand(code int) bool { return code == 500 || code == 502 || code == 504 }

// readBack reads name back (RETR) and compares its SHA-256 with sum.
func (c *FTPConn) readBack(ctx context.Context, op, name, sum string) error {
	h := sha256.New()
	if err := c.get(ctx, op+": reading it back", name, h); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return c.fail(&Error{Op: op, Detail: fmt.Sprintf("SHA-256 mismatch: sent %s, read back %s", sum, got),
			Hint: "the file was damaged on the way or on the node; send it again"})
	}
	return nil
}

// sizeCheck compares the node's SIZE of name with the bytes sent. SIZE is
// sent even when FEAT does not list it: the reply is what to show.
func (c *FTPConn) sizeCheck(ctx context.Context, op, name string, size int64) error {
	if err := c.ensure(ctx); err != nil {
		return err
	}
	if err := c.setBinary(); err != nil {
		return c.opErr(ctx, op, err)
	}
	code, msg, err := c.command(ctx, op+": SIZE", "SIZE %s", name)
	if err != nil {
		return err
	}
	if unknownCommand(code) {
		return c.fail(&Error{Op: op + ": SIZE", Code: code, Detail: oneLine(msg),
			Hint: fmt.Sprintf("the node answers no SIZE, so this file is not verified: choose readback for %s (servmgr --verify %s=readback)", c.system, c.system)})
	}
	if code != 213 {
		return c.fail(&Error{Op: op + ": SIZE", Code: code, Detail: oneLine(msg)})
	}
	n, perr := strconv.ParseInt(strings.TrimSpace(msg), 10, 64)
	if perr != nil || n != size {
		return c.fail(&Error{Op: op, Detail: fmt.Sprintf("size mismatch: sent %d bytes, the node has %s", size, strings.TrimSpace(msg)),
			Hint: "send it again"})
	}
	return nil
}

// remoteSHA256 asks the node for name's SHA-256: HASH when FEAT offers it
// with SHA-256, else XSHA256, which is sent even when FEAT does not list it
// (a server need not list every command; its reply is what to show). A
// server that does not know the command fails the Put with its reply and
// the other verifications to choose.
func (c *FTPConn) remoteSHA256(ctx context.Context, op, name string) (string, error) {
	if err := c.ensure(ctx); err != nil {
		return "", err
	}
	var code int
	var msg, cmd string
	var err error
	if !c.hasFeat("XSHA256") && strings.Contains(c.feat["HASH"], "SHA-256") {
		cmd = "HASH"
		if code, msg, err = c.command(ctx, op+": OPTS HASH", "OPTS HASH SHA-256"); err == nil && code/100 == 2 {
			code, msg, err = c.command(ctx, op+": HASH", "HASH %s", name)
		}
	} else {
		cmd = "XSHA256"
		code, msg, err = c.command(ctx, op+": XSHA256", "XSHA256 %s", name)
	}
	if err != nil {
		return "", err
	}
	if unknownCommand(code) {
		return "", c.fail(&Error{Op: op + ": " + cmd, Code: code, Detail: oneLine(msg),
			Hint: fmt.Sprintf("the node computes no SHA-256 (neither XSHA256 nor HASH), so this file is not verified: "+
				"choose readback (read each file back and hash it) or size (SIZE only) for %s, e.g. servmgr --verify %s=readback",
				c.system, c.system)})
	}
	if code/100 != 2 {
		return "", c.fail(&Error{Op: op + ": asking the node for the SHA-256", Code: code, Detail: oneLine(msg)})
	}
	for _, w := range strings.Fields(msg) {
		if len(w) == 64 {
			if _, err := hex.DecodeString(w); err == nil {
				return w, nil
			}
		}
	}
	return "", c.fail(&Error{Op: op + ": asking the node for the SHA-256", Code: code,
		Detail: "no SHA-256 in the reply: " + oneLine(msg)})
}

// hashState is the SHA-256 of the source's first n bytes (h nil: the sum
// is known, the bytes are only counted).
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
			if h.hs.h != nil {
				h.hs.h.Write(p[h.hs.n-h.pos : n])
			}
			h.hs.n = end
		}
		h.pos = end
	}
	return n, err
}
