package fleet

import "time"

// Phase is one phase of one system's work, as Wire.Observe hears it: a
// start (End zero) and an end. Seq and Of place it among the command's
// phases for a system, so listeners need not know which command has which.
type Phase struct {
	System     string
	Name       string // PhaseTransfer, PhaseValidate, PhaseLoad or PhasePut2Prod
	Seq, Of    int    // this is phase Seq (from 1) of the command's Of phases
	Begin, End time.Time
	OK         bool
	Detail     string
}

// Last says the phase is the system's last in the command: when it ends
// well, the system is done.
func (p Phase) Last() bool { return p.Seq == p.Of }

// Phases of a system's work.
const (
	PhaseTransfer = "transfer"
	PhaseValidate = "validate"
	PhaseLoad     = "load"
	PhasePut2Prod = "put2prod"
)

// The phases of each command, in order. SEND's validate and load are the
// agent's LOAD job, which STATUS reports phase by phase.
var (
	sendPhases     = []string{PhaseTransfer, PhaseValidate, PhaseLoad}
	put2prodPhases = []string{PhasePut2Prod}
)

// phase starts phase name of the command phases of and returns the
// function that ends it.
func (w *Wire) phase(system, name string, of []string) func(ok bool, detail string) {
	if w == nil || w.Observe == nil || w.Now == nil {
		return func(bool, string) {}
	}
	p := Phase{System: system, Name: name, Of: len(of), Begin: w.Now()}
	for i, n := range of {
		if n == name {
			p.Seq = i + 1
		}
	}
	w.Observe(p)
	return func(ok bool, detail string) {
		p.End, p.OK, p.Detail = w.Now(), ok, detail
		w.Observe(p)
	}
}
