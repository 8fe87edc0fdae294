package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
)

// Wire is what the managed-side operands need besides the principal: the
// transport, CSMWORK's credentials and how to wait between polls. A nil
// Wire (or Transport) means no transport is configured.
type Wire struct {
	Transport transport.Transport
	Password  string // CSMWORK's; never logged
	CAFile    string // for systems added with REQUIRE
	Workers   int    // systems served at once; 0 means 8
	// Pause waits between STATUS polls of a running job; the caller
	// supplies the time source.
	Pause func(ctx context.Context) error
	Ctx   context.Context
	// Deadline makes a roll-out wave's deadline; nil means
	// context.WithTimeout. The caller owns time.
	Deadline func(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
	// Observe, with Now, hears each system's phases start and end
	// (progress bars, timelines); both nil means nobody listens.
	Observe func(Phase)
	Now     func() time.Time
}

func (w *Wire) ready() bool { return w != nil && w.Transport != nil }

func (w *Wire) ctx() context.Context {
	if w.Ctx != nil {
		return w.Ctx
	}
	return context.Background()
}

// target is a system's CSMSERVE from its SYSSTAT entry.
func (w *Wire) target(en table.Entry) transport.Target {
	port, _ := strconv.Atoi(get(en, tagPort))
	return transport.Target{System: en.Key(), Host: get(en, tagHost), Port: port, Require: get(en, tagSecure) == "REQUIRE",
		CAFile: w.CAFile, User: "CSMWORK", Password: w.Password}
}

// outcome is one system's result of a fan-out.
type outcome struct {
	system string
	lines  []msg.Line
	ok     bool
	update map[string]string // SYSSTAT tags to set
}

// fanOut runs do for each system, at most Workers at once. One system's
// failure does not stop the others.
func (w *Wire) fanOut(systems []string, do func(system string) outcome) []outcome {
	n := w.Workers
	if n <= 0 {
		n = 8
	}
	out := make([]outcome, len(systems))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, s := range systems {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = do(s)
		}()
	}
	wg.Wait()
	return out
}

// session is one system's CSMSERVE session.
type session struct {
	w      *Wire
	system string
	conn   transport.Conn
	addr   string
}

func (w *Wire) open(en table.Entry) (*session, error) {
	t := w.target(en)
	addr := fmt.Sprintf("%s:%d", t.Host, t.Port)
	c, err := w.Transport.Dial(w.ctx(), t)
	if err != nil {
		return nil, level.Refuse(msg.CSM3051E, en.Key(), addr, err.Error())
	}
	return &session{w: w, system: en.Key(), conn: c, addr: addr}, nil
}

// site sends SITE CSMAGENT words and returns the reply text.
func (s *session) agent(words string) (string, error) {
	code, text, err := s.conn.Site(s.w.ctx(), "CSMAGENT "+words)
	if err != nil {
		return "", level.Refuse(msg.CSM3052E, s.system, err.Error())
	}
	switch {
	case code == 450:
		return "", level.Refuse(msg.CSM3062E, s.system, lastWord(text))
	case code >= 400:
		return "", level.Refuse(msg.CSM3052E, s.system, fmt.Sprintf("SITE CSMAGENT %s: %d %s", words, code, text))
	}
	return text, nil
}

// job starts an agent job, waits for it to end, copies its messages into
// MAINTCSM.<system>'s log and returns its RC and message lines. The job
// is phases of[from:] of its command (none for a nil of); the first
// starts with the job, the agent's STATUS replies name the next ones
// (RUNNING PHASE LOAD), so a phase's end is known to within one poll.
func (s *session) job(e *Env, words string, of []string, from int) (rc int, lines []string, err error) {
	phases := of[min(from, len(of)):]
	end, phase, seen := func(bool, string) {}, "", 0
	if len(phases) > 0 {
		phase, seen = phases[0], 1
		end = s.w.phase(s.system, phase, of)
		defer func() {
			ok := err == nil && rc < 8
			end(ok, "")
			// A phase shorter than one poll was not seen; it still
			// happened, in no measurable time.
			for _, p := range phases[seen:] {
				if ok {
					s.w.phase(s.system, p, of)(ok, "shorter than one STATUS poll")
				}
			}
		}()
	}
	text, err := s.agent(words)
	if err != nil {
		return 0, nil, err
	}
	id, err := jobID(text)
	if err != nil {
		return 0, nil, level.Refuse(msg.CSM3052E, s.system, err.Error())
	}
	for {
		text, err := s.agent("STATUS " + id)
		if err != nil {
			return 0, nil, err
		}
		if rc, ended := endedRC(text); ended {
			lines, err := s.fetchLines(e, id)
			return rc, lines, err
		}
		if next := strings.ToLower(afterWord(text, "PHASE")); phase != "" && next != "" && next != phase {
			end(true, "")
			phase, end = next, s.w.phase(s.system, next, of)
			if i := slices.Index(phases, next); i >= seen {
				seen = i + 1
			}
		}
		if err := s.w.pause(); err != nil {
			return 0, nil, level.Refuse(msg.CSM3052E, s.system, "waiting for job "+id+": "+err.Error())
		}
	}
}

func (w *Wire) pause() error {
	if w.Pause == nil {
		return w.ctx().Err()
	}
	return w.Pause(w.ctx())
}

// fetchLines gets job id's messages and appends them to the system's log
// on the principal.
func (s *session) fetchLines(e *Env, id string) ([]string, error) {
	n, _ := strconv.Atoi(id)
	name := fmt.Sprintf("J%07d.MSGS", n)
	var b strings.Builder
	if err := s.conn.Get(s.w.ctx(), name, &b); err != nil {
		return nil, level.Refuse(msg.CSM3052E, s.system, "getting "+name+": "+err.Error())
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if a, err := e.Area(level.SystemDir(s.system)); err == nil {
		_ = msg.AppendLog(e.Locker, a, strings.Split(strings.TrimRight(b.String(), "\n"), "\n"))
	}
	return lines, nil
}

func jobID(text string) (string, error) {
	if id := afterWord(text, "JOB"); id != "" {
		return id, nil
	}
	return "", fmt.Errorf("unexpected CSMAGENT reply %q", text)
}

// endedRC reads "CSMAGENT JOB n ENDED RC=r".
func endedRC(text string) (int, bool) {
	i := strings.Index(text, "ENDED RC=")
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(text[i+len("ENDED RC="):])
	if len(f) == 0 {
		return 0, false
	}
	rc, err := strconv.Atoi(f[0])
	return rc, err == nil
}

// afterWord is the word after word in s, or "".
func afterWord(s, word string) string {
	f := strings.Fields(s)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == word {
			return f[i+1]
		}
	}
	return ""
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// reopener is an io.ReadSeeker over a CMS file that reopens it to rewind,
// so a retried transfer streams the file again instead of buffering it.
type reopener struct {
	a   cms.FileArea
	id  cms.FileID
	r   io.ReadCloser
	off int64
}

func (r *reopener) Read(p []byte) (int, error) {
	if r.r == nil {
		rc, err := r.a.Open(r.id)
		if err != nil {
			return 0, err
		}
		r.r = rc
	}
	n, err := r.r.Read(p)
	r.off += int64(n)
	return n, err
}

func (r *reopener) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekStart || off < 0 {
		return 0, errors.New("reopener: only absolute seeks")
	}
	if r.r != nil {
		r.r.Close()
		r.r = nil
	}
	r.off = 0
	if off > 0 {
		if _, err := io.CopyN(io.Discard, r, off); err != nil {
			return 0, err
		}
	}
	return off, nil
}

func (r *reopener) Close() error {
	if r.r != nil {
		return r.r.Close()
	}
	return nil
}
