package fleet

import (
	"time"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/msg"
)

// Phase is one phase of one system's work, as Wire.Observe hears it: a
// start (End zero) and an end. Seq and Of place it among the command's
// phases for a system, so listeners need not know which command has which.
type Phase struct {
	System string
	Name   proto.Phase
	// Rollout is the command's roll-out id, staged or not
	// (SEND.TEST.VM010802_BLD2.ALL): the words that name the work.
	Rollout    string
	Seq, Of    int // this is phase Seq (from 1) of the command's Of phases
	Begin, End time.Time
	OK         bool
	// Bytes is what an ended transfer sent: the files sent whole. Zero for
	// the other phases.
	Bytes int64
	// Message is the id of the line that ended the phase (CSM3053I for a
	// transfer, CSM3056I or CSM3055E for a load), "" for a phase that
	// ended because the next one began.
	Message string
	Detail  string
}

// Last says the phase is the system's last in the command: when it ends
// well, the system is done.
func (p Phase) Last() bool { return p.Seq == p.Of }

// The phases of each command, in order. SEND's validate and load are the
// agent's LOAD job, which STATUS reports phase by phase.
func sendPhases() []proto.Phase {
	return []proto.Phase{proto.PhaseTransfer, proto.PhaseValidate, proto.PhaseLoad}
}
func put2prodPhases() []proto.Phase { return []proto.Phase{proto.PhasePut2Prod} }

// ended is how a phase ended: well or not, the line that said so (if one
// did), the bytes it sent, and a word for people.
type ended struct {
	ok     bool
	line   *msg.Line
	bytes  int64
	detail string
}

// phase starts phase name of the command phases of on out's system and
// returns the function that ends it. Listeners hear both; out keeps the
// ended phase.
func (w *Wire) phase(out *SystemOutcome, name proto.Phase, of []proto.Phase) func(ended) {
	p := Phase{System: out.System, Name: name, Rollout: out.rollout, Of: len(of), Begin: w.now()}
	for i, n := range of {
		if n == name {
			p.Seq = i + 1
		}
	}
	w.observe(p)
	return func(e ended) {
		p.End, p.OK, p.Bytes, p.Detail = w.now(), e.ok, e.bytes, e.detail
		if e.line != nil {
			p.Message = e.line.ID
		}
		out.Phases = append(out.Phases, p)
		w.observe(p)
	}
}

// firstLine is the first of lines, nil if there is none.
func firstLine(lines []msg.Line) *msg.Line {
	if len(lines) == 0 {
		return nil
	}
	return &lines[0]
}

func (w *Wire) now() time.Time {
	if w.Now == nil {
		return time.Time{}
	}
	return w.Now()
}

func (w *Wire) observe(p Phase) {
	if w.Observe != nil && w.Now != nil {
		w.Observe(p)
	}
}
