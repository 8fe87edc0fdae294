package fleet

import (
	"time"

	"github.com/csmsim/csmsim/engine/agent/proto"
)

// Phase is one phase of one system's work, as Wire.Observe hears it: a
// start (End zero) and an end. Seq and Of place it among the command's
// phases for a system, so listeners need not know which command has which.
type Phase struct {
	System     string
	Name       proto.Phase
	Seq, Of    int // this is phase Seq (from 1) of the command's Of phases
	Begin, End time.Time
	OK         bool
	Detail     string
	Bytes      int64 // sent to the system in the phase (transfer: whole files sent, before a failure too)
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

// phase starts phase name of the command phases of on out's system and
// returns the function that ends it. Listeners hear both; out keeps the
// ended phase.
func (w *Wire) phase(out *SystemOutcome, name proto.Phase, of []proto.Phase) func(ok bool, detail string, bytes int64) {
	p := Phase{System: out.System, Name: name, Of: len(of), Begin: w.now()}
	for i, n := range of {
		if n == name {
			p.Seq = i + 1
		}
	}
	w.observe(p)
	return func(ok bool, detail string, bytes int64) {
		p.End, p.OK, p.Detail, p.Bytes = w.now(), ok, detail, bytes
		out.Phases = append(out.Phases, p)
		w.observe(p)
	}
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
