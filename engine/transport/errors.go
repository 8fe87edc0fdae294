package transport

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/secsy/goftp"
)

// Error is what every FTP transport failure returns: the system, the
// node's address, what was being done and why, with a hint when one helps.
// The password never appears in it.
type Error struct {
	System string // e.g. VM01
	Addr   string // host:port
	Op     string // "connect", "login as CSMWORK", "put CSMPKG.MANIFEST", ...
	Code   int    // the FTP reply code, or 0 when the failure was not a reply
	Detail string // the reply text or the underlying error, password removed
	Hint   string // what to check or do, may be empty
	Err    error  // the underlying error, for errors.Is / errors.As; may be nil

	permanent bool // retrying cannot help (TLS verification, bad setup)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", e.System, e.Addr, e.Op)
	if e.Code != 0 {
		fmt.Fprintf(&b, ": %d", e.Code)
		if e.Detail != "" {
			b.WriteString(" " + e.Detail)
		}
	} else if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether retrying the operation may help: network
// failures and 4xx replies.
func (e *Error) Temporary() bool {
	return !e.permanent && (e.Code == 0 || e.Code/100 == 4)
}

// replyError is an FTP reply that was not the one expected.
type replyError struct {
	code int
	msg  string
}

func (e *replyError) Error() string { return fmt.Sprintf("%d %s", e.code, e.msg) }

// codeOf extracts an FTP reply code from err: ours or goftp's.
func codeOf(err error) (int, string) {
	var re *replyError
	if errors.As(err, &re) {
		return re.code, re.msg
	}
	var ge goftp.Error
	if errors.As(err, &ge) && ge.Code() != 0 {
		return ge.Code(), ge.Message()
	}
	return 0, ""
}

// oneLine folds a multi-line reply text into one line for messages.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// describeNetErr turns a dial or I/O error into a short cause and a hint.
func describeNetErr(err error) (detail, hint string) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", "is CSMSERVE running and listening there?"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable", "check the system's HOST in the System Status Table and the network"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset by the node", ""
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out", "is the host reachable and CSMSERVE answering? (raise the transport timeout for slow links)"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "cannot resolve host " + dnsErr.Name, "check the system's HOST in the System Status Table"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out", "is the host reachable and CSMSERVE answering? (raise the transport timeout for slow links)"
	}
	// goftp flattens the errors it wraps into text: read that.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return "connection refused", "is CSMSERVE running and listening there?"
	case strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "deadline exceeded"):
		return "timed out", "is the host reachable and CSMSERVE answering? (raise the transport timeout for slow links)"
	case strings.Contains(msg, "no such host"):
		return "cannot resolve host", "check the system's HOST in the System Status Table"
	case strings.Contains(msg, "no route to host"), strings.Contains(msg, "network is unreachable"):
		return "host unreachable", "check the system's HOST in the System Status Table and the network"
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"):
		return "connection reset by the node", ""
	case strings.HasSuffix(msg, "EOF"):
		return "the node closed the connection", ""
	}
	return "" + msg, ""
}
