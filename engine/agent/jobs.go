package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
)

// BusyError refuses a job while another one runs: CSMAGENT runs one job at
// a time per system.
type BusyError struct{ Running int }

func (e *BusyError) Error() string { return fmt.Sprintf("CSMAGENT is busy with job %d", e.Running) }

// ErrShutdown refuses jobs once Shutdown was called.
var ErrShutdown = errors.New("CSMAGENT is shutting down")

// Jobs runs the agent's long operations, one at a time per system, each in
// its own goroutine (CSMSERVE XAUTOLOGs MAINTvrm with CMD CSMAGENT). Job ids
// count up from 1, or from after the highest J<n> MSGS file already in the
// staging area, so they are the same on every run of the same scenario.
type Jobs struct {
	env *Env
	// keep is how many ended jobs STATUS still knows; an older one's
	// messages stay in its J<n> MSGS file.
	keep int

	mu      sync.Mutex
	next    int
	running int // 0 when idle
	closed  bool
	jobs    map[int]*job
	changed chan struct{} // closed, and replaced, when a job starts, enters a phase or ends
}

// JobEvent is a moment of a job's life, as Env.Observe hears it: the job
// starts (Phase "", not End), enters a phase, or ends with its RC.
type JobEvent struct {
	Job   int
	Kind  string      // the request's verb: LOAD, PUT2PROD, QUERY
	Phase proto.Phase // the phase the job enters; "" when it starts or ends
	End   bool
	RC    int // when End
}

type job struct {
	name  string
	kind  string // the request's verb, the first word of name
	phase proto.Phase
	done  chan struct{}
	rc    int
	lines []msg.Line
	lost  bool // its messages file could not be written
}

// NewJobs is the job runner of env's system.
func NewJobs(env *Env) *Jobs {
	j := &Jobs{env: env, next: 1, jobs: map[int]*job{}, keep: keepEnded, changed: make(chan struct{})}
	if stage, err := env.staging(); err == nil {
		if files, err := stage.List(); err == nil {
			for _, f := range files {
				if n, ok := proto.JobOfMessages(f.ID); ok && n >= j.next {
					j.next = n + 1
				}
			}
		}
	}
	return j
}

// Submit starts fn as a job named name (the request, e.g. "LOAD L2 TEST")
// and returns its id; *BusyError if a job is running.
func (j *Jobs) Submit(name string, fn func() (msg.Result, error)) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return 0, ErrShutdown
	}
	if j.running != 0 {
		return 0, &BusyError{Running: j.running}
	}
	id := j.next
	j.next++
	verb, _, _ := strings.Cut(name, " ")
	jb := &job{name: name, kind: verb, done: make(chan struct{})}
	j.jobs[id] = jb
	j.running = id
	j.broadcast()
	start := j.env.Clock.Now()
	go j.run(id, jb, start, fn)
	return id, nil
}

func (j *Jobs) observe(e JobEvent) {
	if j.env.Observe != nil {
		j.env.Observe(e)
	}
}

// entered tells Env.Observe that the running job entered phase, without
// telling STATUS: a job of one phase (PUT2PROD) names none.
func (j *Jobs) entered(phase proto.Phase) { j.enter(phase, false) }

// enter notes that the running job entered phase: for Env.Observe, and
// for STATUS too when status is set.
func (j *Jobs) enter(phase proto.Phase, status bool) {
	j.mu.Lock()
	id, jb := j.running, j.jobs[j.running]
	if jb != nil && status {
		jb.phase = phase
		j.broadcast()
	}
	j.mu.Unlock()
	if jb != nil {
		j.observe(JobEvent{Job: id, Kind: jb.kind, Phase: phase})
	}
}

// Changed is closed at the next change of any job: one starts, enters a
// phase or ends. A STATUS WAIT takes it before reading the status, then
// waits on it, so it misses no change in between.
func (j *Jobs) Changed() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.changed
}

// broadcast wakes whoever waits on Changed; j.mu is held.
func (j *Jobs) broadcast() {
	close(j.changed)
	j.changed = make(chan struct{})
}

// Running is the id of the running job, 0 when none runs.
func (j *Jobs) Running() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.running
}

func (j *Jobs) run(id int, jb *job, start time.Time, fn func() (msg.Result, error)) {
	j.observe(JobEvent{Job: id, Kind: jb.kind})
	res := safeRun(fn)
	lines := make([]msg.Line, 0, len(res.Lines)+2)
	lines = append(lines, msg.Messagef(msg.CSM3160I, jb.name, id))
	lines = append(lines, res.Lines...)
	lines = append(lines, msg.Messagef(msg.CSM3161I, jb.name, res.RC, id))
	end := j.env.Clock.Now()
	// The messages are in place before STATUS can say ENDED, or STATUS
	// says they are lost: the job's outcome is its RC either way. A log
	// that cannot be written must not fail the job.
	lost := j.writeMessages(id, lines) != nil
	_ = j.env.appendLog(start, end, lines)
	// Heard before STATUS can say ENDED: whoever learns that the job
	// ended finds it counted.
	j.observe(JobEvent{Job: id, Kind: jb.kind, End: true, RC: res.RC})

	j.mu.Lock()
	jb.rc, jb.lines, jb.lost = res.RC, lines, lost
	j.running = 0
	close(jb.done)
	j.broadcast()
	delete(j.jobs, id-j.keep) // ids count up one at a time: this is the one that falls out
	j.mu.Unlock()
}

// keepEnded is how many ended jobs a system's STATUS answers for: far more
// than a principal polls at once (one job per system).
const keepEnded = 64

// safeRun runs fn; a panic becomes a CSM0000S message, not a dead agent.
func safeRun(fn func() (msg.Result, error)) (res msg.Result) {
	defer func() {
		if p := recover(); p != nil {
			res.Addf(msg.CSM0000S, fmt.Sprintf("CSMAGENT failed: %v", p))
		}
	}()
	r, err := fn()
	return result(r, err)
}

// writeMessages writes J<n> MSGS in the staging area: one line per message.
func (j *Jobs) writeMessages(id int, lines []msg.Line) error {
	stage, err := j.env.staging()
	if err != nil {
		return err
	}
	return cms.WriteFile(stage, proto.JobMessages(id), func(w io.Writer) error {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(msg.OneLine(l.String()))
			b.WriteByte('\n')
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// Mark records the phase the running job entered; STATUS reports it.
func (j *Jobs) Mark(phase proto.Phase) {
	j.enter(phase, true)
	if j.env.Watch != nil {
		j.env.Watch(phase) // outside the lock: a watcher may stall the job, STATUS must still answer
	}
}

// Status reports a job as STATUS answers: running, with the last phase it
// marked, or ended with its return code; an ended job's messages too.
func (j *Jobs) Status(id int) (proto.JobStatus, []msg.Line, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	jb, ok := j.jobs[id]
	if !ok {
		return proto.JobStatus{}, nil, Refuse(msg.CSM3163E, id, j.env.Sys.Name())
	}
	select {
	case <-jb.done:
		return proto.JobStatus{Job: id, Ended: true, RC: jb.rc, Lost: jb.lost}, append([]msg.Line(nil), jb.lines...), nil
	default:
		return proto.JobStatus{Job: id, Phase: jb.phase}, nil, nil
	}
}

// Wait blocks until job id has ended and returns its return code and
// messages.
func (j *Jobs) Wait(id int) (rc int, lines []msg.Line, err error) {
	j.mu.Lock()
	jb, ok := j.jobs[id]
	j.mu.Unlock()
	if !ok {
		return 0, nil, Refuse(msg.CSM3163E, id, j.env.Sys.Name())
	}
	<-jb.done
	j.mu.Lock()
	defer j.mu.Unlock()
	return jb.rc, append([]msg.Line(nil), jb.lines...), nil
}

// Shutdown refuses new jobs and waits for the running one to end, or
// until ctx ends (then ctx's error).
func (j *Jobs) Shutdown(ctx context.Context) error {
	j.mu.Lock()
	j.closed = true
	var done chan struct{}
	if jb := j.jobs[j.running]; j.running != 0 && jb != nil {
		done = jb.done
	}
	j.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// appendLog appends lines to VMPSFS:MAINTvrm. $CSMCMD $MSGLOG, SERVMGR's
// format: time, userid (MAINTvrm), message. The first line carries start,
// the others end. The file is replaced atomically with the old content
// and the new lines.
func (e *Env) appendLog(start, end time.Time, lines []msg.Line) error {
	p, err := e.pool()
	if err != nil {
		return err
	}
	a, err := p.Dir(Top(e.Release))
	if err != nil {
		return err
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		t := end
		if i == 0 {
			t = start
		}
		out[i] = msg.LogLine(t, e.maint(), l)
	}
	return msg.AppendLog(e.Locker, a, out)
}
