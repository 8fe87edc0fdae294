package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
)

// session is one system's CSMSERVE session, speaking engine/agent/proto.
type session struct {
	ctx  context.Context
	w    *Wire
	out  *SystemOutcome // the system's outcome: phases, job and cause go here
	conn transport.Conn
	addr string
	vrm  string // the release SYSSTAT records for the system
	// polled: the node does not know STATUS WAIT (501), so its jobs are
	// polled with plain STATUS and Wire.Pause between.
	polled bool
}

func (w *Wire) open(ctx context.Context, en table.Entry, out *SystemOutcome) (*session, error) {
	t := w.target(en)
	addr := fmt.Sprintf("%s:%d", t.Host, t.Port)
	c, err := w.Transport.Dial(ctx, t)
	if err != nil {
		return nil, level.Refuse(msg.CSM3051E, en.Key(), addr, err.Error())
	}
	return &session{ctx: ctx, w: w, out: out, conn: c, addr: addr, vrm: get(en, tagRelease)}, nil
}

func (s *session) system() string { return s.out.System }

// request sends one SITE CSMAGENT request and returns the reply. A busy
// agent, a refusal and a reply the protocol does not know are errors; a
// refusal's message becomes the outcome's cause.
func (s *session) request(req proto.Request) (proto.Reply, error) {
	code, text, err := s.conn.Site(s.ctx, "CSMAGENT "+req.String())
	return s.reply(req, code, text, err)
}

// status asks how job n stands: a long poll (STATUS n WAIT), which the
// node answers when the job moves on, unless the node does not know it
// (501); then plain STATUS, polled.
func (s *session) status(n int) (proto.Reply, error) {
	if !s.polled {
		req := proto.Status{Job: n, Wait: true}
		code, text, err := s.conn.Site(s.ctx, "CSMAGENT "+req.String())
		if err != nil || code != 501 {
			return s.reply(req, code, text, err)
		}
		s.polled = true
	}
	return s.request(proto.Status{Job: n})
}

// reply reads the node's answer to req.
func (s *session) reply(req proto.Request, code int, text string, err error) (proto.Reply, error) {
	if err != nil {
		return nil, level.Refuse(msg.CSM3052E, s.system(), err.Error())
	}
	rep, err := proto.ParseReply(code, text)
	switch r := rep.(type) {
	case proto.Busy:
		return nil, level.Refuse(msg.CSM3062E, s.system(), r.Job)
	case proto.Refused:
		s.out.Cause = &r.Line
	}
	if code >= 400 {
		return nil, level.Refuse(msg.CSM3052E, s.system(), fmt.Sprintf("SITE CSMAGENT %s: %d %s", req, code, text))
	}
	if err != nil {
		return nil, level.Refuse(msg.CSM3052E, s.system(), err.Error())
	}
	return rep, nil
}

// job starts an agent job, waits for it to end, fetches its messages and
// returns it. The job is phases of[from:] of its command (none for a nil
// of); the first starts with the job, the agent's STATUS replies name the
// next ones (RUNNING PHASE LOAD). A long poll answers as the job moves on,
// so a phase's end is known when it happens; Wire.Pause runs only when a
// reply brought no news (the node's wait ran out, or it is polled).
//
// The job's last phase ends when the caller says how the job came out:
// it calls done once with the line it issues (CSM3056I, CSM3055E), which
// the phase's end carries. On an error job ends the phases itself, with
// the error's line.
func (s *session) job(req proto.Request, of []proto.Phase, from int) (job *Job, done func(msg.Line), err error) {
	phases := of[min(from, len(of)):]
	var phase proto.Phase
	end, seen := func(ended) {}, 0
	if len(phases) > 0 {
		phase, seen = phases[0], 1
		end = s.w.phase(s.out, phase, of)
	}
	// finish ends the phase the job is in and, when it went well, the
	// phases after it that no poll saw: they still happened, in no
	// measurable time. The last phase ended carries the line.
	finish := func(ok bool, l *msg.Line, detail string) {
		rest := phases[seen:]
		if !ok || len(rest) == 0 {
			end(ended{ok: ok, line: l, detail: detail})
			return
		}
		end(ended{ok: true})
		for i, p := range rest {
			e := ended{ok: true, detail: "shorter than one STATUS poll"}
			if i == len(rest)-1 {
				e.line = l
			}
			s.w.phase(s.out, p, of)(e)
		}
	}
	defer func() {
		if err != nil {
			finish(false, firstLine(level.Lines(err)), err.Error())
		}
	}()
	rep, err := s.request(req)
	if err != nil {
		return nil, nil, err
	}
	started, ok := rep.(proto.Started)
	if !ok {
		return nil, nil, level.Refuse(msg.CSM3052E, s.system(), fmt.Sprintf("unexpected CSMAGENT reply to %s: %s", req, rep))
	}
	for {
		rep, err := s.status(started.Job)
		if err != nil {
			return nil, nil, err
		}
		st, ok := rep.(proto.JobStatus)
		if !ok || st.Job != started.Job {
			return nil, nil, level.Refuse(msg.CSM3052E, s.system(), fmt.Sprintf("unexpected CSMAGENT reply to STATUS %d: %s", started.Job, rep))
		}
		if st.Ended {
			// The job's RC is its outcome; its messages explain it. Messages
			// that cannot be read are a warning, never a failure of a job
			// that did its work: the principal records what the node did.
			job = &Job{ID: st.Job, RC: st.RC}
			if st.Lost {
				s.out.Lines = append(s.out.Lines, msg.Messagef(msg.CSM3066W, s.system(), st.Job, st.RC,
					"the system could not write them to its staging disk"))
			} else if job.Lines, err = s.fetchMessages(st.Job); err != nil {
				s.out.Lines = append(s.out.Lines, msg.Messagef(msg.CSM3066W, s.system(), st.Job, st.RC, msg.LinesOf(err)[0].Text))
			}
			s.out.Job = job
			if job.RC >= 8 {
				s.out.Cause = cause(job.Lines)
			}
			return job, func(l msg.Line) { finish(job.RC < 8, &l, "") }, nil
		}
		if next := st.Phase; phase != "" && next != "" && next != phase {
			end(ended{ok: true})
			phase, end = next, s.w.phase(s.out, next, of)
			if i := slices.Index(phases, next); i >= seen {
				seen = i + 1
			}
			if !s.polled {
				continue // the long poll saw the change: ask again at once
			}
		}
		if err := s.w.pause(s.ctx); err != nil {
			return nil, nil, level.Refuse(msg.CSM3052E, s.system(), fmt.Sprintf("waiting for job %d: %s", started.Job, err))
		}
	}
}

// fetchMessages gets job n's messages. SERVMGR logs them in the command's
// record in the system's log on the principal (MAINTCSM.<system>).
func (s *session) fetchMessages(n int) ([]msg.Line, error) {
	name := proto.FileName(proto.JobMessages(n))
	var b strings.Builder
	if err := s.conn.Get(s.ctx, name, &b); err != nil {
		return nil, level.Refuse(msg.CSM3052E, s.system(), "getting "+name+": "+err.Error())
	}
	lines, err := msg.ParseLines(b.String())
	if err != nil {
		return nil, level.Refuse(msg.CSM3052E, s.system(), name+": "+err.Error())
	}
	return lines, nil
}

// cause is the line that says why a job failed: its first severe, error
// or warning line, in that order of preference (its last line only says
// the job ended), else its last line.
func cause(lines []msg.Line) *msg.Line {
	for _, sev := range []msg.Severity{msg.Severe, msg.Error, msg.Warning} {
		for _, l := range lines {
			if l.Sev == sev {
				return &l
			}
		}
	}
	if len(lines) > 0 {
		return &lines[len(lines)-1]
	}
	return nil
}

// why is a failed job's cause as its CSM3055E line quotes it.
func why(o *SystemOutcome) string {
	if o.Cause == nil {
		return "see the system's log"
	}
	return o.Cause.String()
}

// reopener is an io.ReadSeeker over a CMS file that reopens it to rewind,
// so a retried transfer streams the file again instead of buffering it.
type reopener struct {
	a   cms.FileArea
	id  cms.FileID
	sum string // the SHA-256 the package manifest lists; "" if none
	r   io.ReadCloser
	off int64
}

// SHA256 is transport.KnownSum.
func (r *reopener) SHA256() string { return r.sum }

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
