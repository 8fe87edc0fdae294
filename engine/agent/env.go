package agent

import (
	"errors"
	"io"
	"strconv"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// Env is what CSMAGENT works with on a managed system: the system, its
// locks and clock, and the release whose MAINTvrm runs the agent.
type Env struct {
	Sys     cms.System
	Locker  table.Locker
	Clock   cms.Clock
	Release string // "720"
	// Progress, if set, hears the phase a job enters (validate, load), so
	// STATUS can tell the principal where a long job is.
	Progress func(phase proto.Phase)
	// Watch, if set, hears each phase a job enters, in the job, before the
	// phase begins: the simulator crashes or stalls a node there.
	Watch func(phase proto.Phase)
	// Observe, if set, hears each job start, enter a phase and end, as it
	// happens (a node's metrics). It runs in the job and must not block.
	Observe func(JobEvent)
	// Receipts, if set, are what CSMSERVE learnt of each staging file in
	// the pass that stored it: LOAD checks a SERVLINK's size and SHA-256
	// from its receipt instead of hashing the file again.
	Receipts Receipts
}

// Receipts are what the node learnt of each file of its staging area as
// it arrived (sim/csmserve keeps them).
type Receipts interface {
	// Receipt is id's, if the file is still as it was stored.
	Receipt(id cms.FileID) (Receipt, bool)
}

// Receipt is a staging file's size and SHA-256 (lower-case hex), taken
// as it was stored.
type Receipt struct {
	Size   int64
	SHA256 string
}

// receipt is id's receipt, if the node has one.
func (e *Env) receipt(id cms.FileID) (Receipt, bool) {
	if e.Receipts == nil {
		return Receipt{}, false
	}
	return e.Receipts.Receipt(id)
}

func (e *Env) progress(phase proto.Phase) {
	if e.Progress != nil {
		e.Progress(phase)
	}
}

// Refuse makes the error for a refused operation from a message format.
func Refuse(format string, args ...any) error { return msg.Refuse(format, args...) }

// IsRefusal reports whether err is a refusal (the system was not changed).
func IsRefusal(err error) bool { return msg.IsRefusal(err) }

// Lines renders an error as the operation's messages: a busy agent gets
// its own; the rest as msg.LinesOf.
func Lines(err error) []msg.Line {
	var b *BusyError
	if errors.As(err, &b) {
		return []msg.Line{msg.Messagef(msg.CSM3162E, b.Running)}
	}
	return msg.LinesOf(err)
}

// result turns an operation's outcome into its messages: res, plus the
// error's lines.
func result(res msg.Result, err error) msg.Result {
	if err != nil {
		res.Add(Lines(err)...)
	}
	return res
}

// check refuses a release CSM does not serve.
func (e *Env) check() error {
	n, err := strconv.Atoi(e.Release)
	if err != nil || len(e.Release) != 3 || n < 720 {
		return Refuse(msg.CSM0021E, e.Release)
	}
	return nil
}

func (e *Env) maint() string { return MaintUser(e.Release) }

// lock serializes the agent's operations on the system, as one MAINTvrm
// runs one command at a time.
func (e *Env) lock() (func(), error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	return e.Locker.Lock(Pool + ":" + e.maint() + ". CSMAGENT")
}

func (e *Env) pool() (cms.FilePool, error) { return e.Sys.FilePool(Pool) }

func (e *Env) staging() (cms.Minidisk, error) { return e.Sys.Minidisk(StagingOwner, StagingVaddr) }

// ensureDir creates d and any missing parents below the file space's top.
func (e *Env) ensureDir(p cms.FilePool, d cms.DirID) (cms.FileArea, error) {
	a, err := p.Dir(d)
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, cms.ErrNotFound) {
		return nil, err
	}
	if parent, ok := d.Parent(); ok {
		if _, err := e.ensureDir(p, parent); err != nil {
			return nil, err
		}
	}
	if err := p.CreateDir(d, e.maint()); err != nil && !errors.Is(err, cms.ErrExists) {
		return nil, err
	}
	return p.Dir(d)
}

// copyFile copies id from src to dst, streaming.
func copyFile(src, dst cms.FileArea, id cms.FileID) error {
	return cms.ReadFile(src, id, func(r io.Reader) error {
		return cms.WriteFile(dst, id, func(w io.Writer) error {
			_, err := io.Copy(w, r)
			return err
		})
	})
}

func get(en table.Entry, tag string) string {
	v, _ := en.Get(tag)
	return v
}

func orNone(s string) string {
	if s == "" {
		return None
	}
	return s
}
