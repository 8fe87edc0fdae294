package transport

import (
	"io"
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
func NewFTP(opts FTPOptions) Transport {
	opts = opts.withDefaults()
	to := make(map[string]string, len(opts.ConnectTo))
	for from, addr := range opts.ConnectTo {
		to[strings.ToLower(from)] = addr
	}
	opts.ConnectTo = to
	return &FTP{opts: opts}
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
