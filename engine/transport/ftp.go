package transport

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
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

// VerifyMode says how Put checks the node's copy of a file. It is chosen
// per system (FTPOptions.VerifyFor): whichever it is, Put either does that
// check or fails saying why; it never calls a file verified that it did
// not check.
type VerifyMode int

const (
	// VerifyHash (the default, "xsha256") asks the node for the file's
	// SHA-256 (XSHA256, else HASH with SHA-256) and compares it with the
	// sum computed while sending. Every CSMSERVE answers XSHA256; a node
	// that answers it 500, 502 or 504 (an unknown command, as vsftpd and
	// pure-ftpd do) fails the Put with its reply and the two other choices.
	VerifyHash VerifyMode = iota
	// VerifyReadback ("readback") reads the file back (RETR) and compares
	// its SHA-256 with the sum computed while sending: for a plain FTP
	// server, as strong as VerifyHash at the cost of a second transfer.
	VerifyReadback
	// VerifySize ("size") compares the node's SIZE with the bytes sent: one
	// command, but blind to a damaged byte.
	VerifySize
)

func (m VerifyMode) String() string {
	switch m {
	case VerifyHash:
		return "xsha256"
	case VerifyReadback:
		return "readback"
	case VerifySize:
		return "size"
	}
	return "VerifyMode(" + strconv.Itoa(int(m)) + ")"
}

// ParseVerifyMode reads a verification's name, as String gives it:
// xsha256, readback or size (any case).
func ParseVerifyMode(s string) (VerifyMode, error) {
	for m := VerifyHash; m <= VerifySize; m++ {
		if strings.EqualFold(s, m.String()) {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown verification %q: choose xsha256 (the node's SHA-256, the default), readback (read the file back and hash it) or size (SIZE only)", s)
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
	// VerifyFor overrides VerifyBy for the systems it names (Target.System,
	// any case): a plain FTP server among CSMSERVEs gets readback or size
	// while the others keep the SHA-256 check.
	VerifyFor map[string]VerifyMode
	// Active opens data connections in active mode: the transport listens
	// on the address its control connection comes from, says where with
	// PORT (EPRT for IPv6), and accepts the node's connection, from the
	// node's address only. Passive mode (EPSV, else PASV) by default.
	Active bool
	// Logger, if set, receives one line per retry, warning and failure;
	// with Debug also goftp's protocol trace. The password never appears.
	Logger io.Writer
	Debug  bool
	// ConnectTo connects to another address than the one a system was
	// added with, as curl's --connect-to does: "host:port" as SYSSTAT
	// records it (host in any case) -> "host:port" to connect to, e.g. a
	// tunnel's end. Messages name both; TLS still checks the recorded
	// host's name.
	ConnectTo map[string]string
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
// control connection, used by one goroutine, with passive (EPSV/PASV) or,
// with FTPOptions.Active, active (PORT/EPRT) data connections.
//
// Put reads the source once, hashing it with SHA-256 as it sends. When a
// transfer breaks, the Conn reconnects and, if the node offers REST STREAM
// and SIZE, resumes (REST + STOR) at the node's size of the partial file,
// else seeks the source back to 0 and sends it again; bytes read again are
// not hashed again. Afterwards it checks the node's copy as the system's
// VerifyMode says: the node's SHA-256 (XSHA256, which ftpserverlib and so
// CSMSERVE answer, else HASH), the file read back, or its SIZE.
//
// Every error is an *Error naming the system, host:port and what failed;
// the password never appears in an error or in the log.
type FTP struct {
	opts FTPOptions
}

// NewFTP returns the FTP transport.
func NewFTP(opts FTPOptions) Transport {
	opts = opts.withDefaults()
	to := make(map[string]string, len(opts.ConnectTo))
	for from, addr := range opts.ConnectTo {
		to[strings.ToLower(from)] = addr
	}
	opts.ConnectTo = to
	verify := make(map[string]VerifyMode, len(opts.VerifyFor))
	for system, m := range opts.VerifyFor {
		verify[strings.ToUpper(system)] = m
	}
	opts.VerifyFor = verify
	return &FTP{opts: opts}
}

// FTPConn is the Conn FTP.Dial returns.
type FTPConn struct {
	opts     FTPOptions
	system   string
	addr     string
	user     string
	caFile   string
	tls      bool
	tlsCfg   *tls.Config // for active-mode data connections under TLS
	verifyBy VerifyMode  // this system's choice (FTPOptions.VerifyFor, else VerifyBy)
	local    net.IP      // where active-mode data connections are accepted
	remote   net.IP      // the node's address: the only one they are accepted from
	red      redactor
	log      io.Writer

	client *goftp.Client
	mu     sync.Mutex // orders guard's Close with goftp's bookkeeping of the data connection
	raw    *guardedRaw
	broken bool
	binary bool
	feat   map[string]string
	buf    []byte
	last   PutResult
}

var _ Conn = (*FTPConn)(nil)
