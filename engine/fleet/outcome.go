package fleet

import (
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/rollout"
)

// Outcome is what a managed-side command (SEND, PUT2PROD, SERVCHECK) did,
// as values: the lines it issues, each system's result and, for a staged
// roll-out, the roll-out's. Callers read these, never the lines' text.
type Outcome struct {
	Result msg.Result
	// Targets are the systems the command's target names, in its order;
	// SERVMGR logs the command under each.
	Targets []string
	// Systems are the systems worked on, in the target's order.
	Systems []SystemOutcome
	// Rollout is the staged roll-out, if the command ran one.
	Rollout *RolloutOutcome
}

// System is the outcome of one system, if it was worked on.
func (o *Outcome) System(name string) (SystemOutcome, bool) {
	for _, s := range o.Systems {
		if s.System == name {
			return s, true
		}
	}
	return SystemOutcome{}, false
}

// SystemOutcome is one system's result of a command.
type SystemOutcome struct {
	System string
	OK     bool // the work was done (a SERVCHECK that found drift is done)
	// Phases are the phases the system went through, in order, each with
	// its begin and end on the wire's clock.
	Phases []Phase
	// Job is the agent job that ran for the system, if one did.
	Job *Job
	// Lines are what the command issues about the system.
	Lines []msg.Line
	// Cause is the agent's line behind a failure, when the agent gave one:
	// the job's first error, or the message of a refused request. The
	// failure's line in Lines quotes it.
	Cause *msg.Line
	// Drift is what SERVCHECK found different from the level, part by part.
	Drift []Drift

	rollout string            // the command's roll-out id, which its phases carry
	update  map[string]string // the SYSSTAT tags to set
	// confirmed: the system confirmed what was recorded with NOCONTACT
	// (session.confirm), so SYSSTAT's mark goes.
	confirmed bool
}

// Job is an agent job as the principal saw it end.
type Job struct {
	ID    int
	RC    int
	Lines []msg.Line // the job's messages, from its messages file
}

// Drift is one part of a system that differs from its level.
type Drift struct {
	Part    string // COMP AREA FN FT
	Problem string // missing, not in the level, changed (...)
}

// RolloutOutcome is a staged roll-out run: the scheduler's result, and
// whether the principal was interrupted (then Reason says by what).
type RolloutOutcome struct {
	rollout.Result
	Interrupted bool
	// Cause is the interruption, when Interrupted.
	Cause string
}
