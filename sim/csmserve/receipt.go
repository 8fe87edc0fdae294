package csmserve

import (
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/servlink"
)

// Receipt is what a node learnt of a file in the pass that stored it: its
// size and SHA-256. XSHA256 answers from it, and so does LOAD's check of
// a SERVLINK against the package manifest: neither reads the file again.
type Receipt struct {
	Size   int64
	SHA256 string    // lower-case hex
	mtime  time.Time // the file's as stored: a change since makes the receipt stale
}

// Receipts are a staging area's receipts by file ("/FN.FT"). Only a whole
// upload (STOR) gets one, hashed as it is written; an append or a resumed
// upload, a rename and a removal drop the name's receipt, and a file
// changed behind CSMSERVE's back (another size or modification time) has
// none. Safe for concurrent use.
type Receipts struct {
	mu sync.Mutex
	m  map[string]Receipt
}

// NewReceipts is an empty book of receipts.
func NewReceipts() *Receipts { return &Receipts{m: map[string]Receipt{}} }

// Of is the receipt of name ("FN.FT" or "/FN.FT") if the file in fsys is
// still as it was stored.
func (r *Receipts) Of(fsys afero.Fs, name string) (Receipt, bool) {
	p := "/" + trimSlash(name)
	r.mu.Lock()
	rc, ok := r.m[p]
	r.mu.Unlock()
	if !ok {
		return Receipt{}, false
	}
	fi, err := fsys.Stat(p)
	if err != nil || fi.Size() != rc.Size || !fi.ModTime().Equal(rc.mtime) {
		return Receipt{}, false
	}
	return rc, true
}

func (r *Receipts) put(p string, rc Receipt) {
	r.mu.Lock()
	r.m[p] = rc
	r.mu.Unlock()
}

func (r *Receipts) drop(paths ...string) {
	r.mu.Lock()
	for _, p := range paths {
		delete(r.m, p)
	}
	r.mu.Unlock()
}

func trimSlash(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	return s
}

// digest hashes an upload as it is written (servlink.Digest: size and
// SHA-256); broken once a write goes elsewhere than at the end (WriteAt,
// Seek), as the hash then no longer describes the file.
type digest struct {
	servlink.Digest
	broken bool
}

func (d *digest) wrote(p []byte) {
	if d == nil || d.broken {
		return
	}
	_, _ = d.Write(p)
}
