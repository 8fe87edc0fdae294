// Package transport is the wire between the principal and managed
// systems: a small Transport interface (connect, put, get, list, site) and
// its FTP implementation speaking the CSMSERVE profile of
// docs/csmserve-protocol.md.
package transport

import (
	"context"
	"io"
)

// Target is one managed system's CSMSERVE, as the System Status Table
// records it, plus the credentials of CSMWORK (never logged).
type Target struct {
	System   string // e.g. VM01, for messages
	Host     string
	Port     int
	Require  bool   // demand FTPS (AUTH TLS), checking the node's certificate against CAFile
	CAFile   string // PEM file of the CA that signed the nodes' certificates
	User     string // CSMWORK
	Password string
}

// KnownSum is an optional extension of Put's source: a source whose
// SHA-256 is known (a package file the manifest lists) is not hashed
// again while it is sent; the node's copy must match the known sum, so a
// damaged source is caught as surely as a damaged transfer.
type KnownSum interface {
	SHA256() string // lower-case hex; "" when not known
}

// Transport opens sessions to managed systems.
type Transport interface {
	Dial(ctx context.Context, t Target) (Conn, error)
}

// Conn is one FTP session with a CSMSERVE, used by one goroutine.
type Conn interface {
	// Put stores r as name in the staging area, streaming it. size is r's
	// length. An interrupted transfer is resumed or sent again within the
	// retry budget; afterwards the node's copy is checked against the
	// SHA-256 computed while sending, or r's own if r is a KnownSum: by the
	// node's SHA-256 of it, unless the system is set to be checked by
	// reading it back or by its size (FTPOptions.VerifyFor).
	Put(ctx context.Context, name string, r io.ReadSeeker, size int64) error
	// Get streams name from the staging area into w.
	Get(ctx context.Context, name string, w io.Writer) error
	// List names the files in the staging area.
	List(ctx context.Context) ([]string, error)
	// Site sends SITE <args> and returns the reply code and text.
	Site(ctx context.Context, args string) (code int, text string, err error)
	Close() error
}

// PutReporter is implemented by Conns that can tell how their last Put
// went: attempts, where retries resumed, how the node's copy was verified.
// FTPConn implements it.
type PutReporter interface {
	LastPut() PutResult
}
