package csmsimtest

import (
	"context"
	"fmt"
	"strings"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/leakcheck"
)

// Result is what one SERVMGR command did.
type Result struct {
	// RC is the command's return code: 0, 4 (warnings), 8 (a syntax
	// error, a refusal, a failure; a refused command changed nothing) or
	// 12 (an internal error).
	RC int
	// Lines are the messages SERVMGR issued, in order, ending with
	// CSM0002I (SERVMGR ... ended RC=n).
	Lines []msg.Line
	// Systems are the systems SEND, PUT2PROD and SERVCHECK worked on, in
	// the target's order; none for other commands, or when the principal
	// refused the command before reaching any system.
	Systems []SystemResult
	// Rollout is the staged roll-out the command ran (CANARY, WAVES,
	// BUDGET, DEADLINE options of SEND and PUT2PROD), nil for none.
	Rollout *fleet.RolloutOutcome
}

// SystemResult is one system's outcome of a command: the engine's (OK,
// phases, agent job, lines, cause, drift) and what SYSSTAT records of the
// system once the command ended.
type SystemResult struct {
	fleet.SystemOutcome
	// Level and State are the system's test-build level and its state
	// (TEST, STABLE) as SYSSTAT records them; Prod is the level it
	// records in production, "" for none.
	Level, State, Prod string
}

// Has says whether a line of the result has message id (e.g. CSM3056I),
// or the agent's line behind a system's failure has it, which the
// failure's own line quotes (CSM3055E quotes the job's CSM3110E).
func (r Result) Has(id string) bool {
	for _, l := range r.Lines {
		if strings.EqualFold(l.ID, id) {
			return true
		}
	}
	for _, s := range r.Systems {
		if s.Cause != nil && strings.EqualFold(s.Cause.ID, id) {
			return true
		}
	}
	return false
}

// System is system's outcome, if the command worked on it.
func (r Result) System(name string) (SystemResult, bool) {
	for _, s := range r.Systems {
		if strings.EqualFold(s.System, name) {
			return s, true
		}
	}
	return SystemResult{}, false
}

// String is the lines as SERVMGR prints them, one a line: for a test's
// failure message.
func (r Result) String() string {
	var b strings.Builder
	for _, l := range r.Lines {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Servmgr runs one SERVMGR command line on the principal as a system
// programmer types it (e.g. "srvlvl send 720 L2 all (test"; a leading
// word SERVMGR may be typed), through the production engine, reaching the
// managed systems over FTP with CSMWORK's credentials, and logs it in
// $CSMCMD $MSGLOG. Commands run one at a time: a second call waits for
// the first.
//
// What the command did, refused or failed included, is in the Result;
// the error is for a command that could not run: the fleet is closed,
// ctx ended before it began, or the principal's tables cannot be read
// after it (the Result is then filled all the same). Ending ctx, or
// closing the fleet, stops the command's work on the systems where it is,
// as an interrupted SERVMGR: the same command again resumes a roll-out.
func (f *Fleet) Servmgr(ctx context.Context, line string) (Result, error) {
	if err := f.begin(); err != nil {
		return Result{}, err
	}
	defer f.inflight.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(f.ctx, cancel)()
	f.cmd.Lock()
	defer f.cmd.Unlock()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("csmsimtest: SERVMGR %s not run: %w", line, context.Cause(ctx))
	}
	var out servmgr.Outcome
	leakcheck.Do(ctx, f.id, func(ctx context.Context) { out = servmgr.Run(ctx, f.penv, f.wire, []string{line}) })
	res := Result{RC: out.RC, Lines: out.Lines}
	if out.Fleet == nil {
		return res, nil
	}
	res.Rollout = out.Fleet.Rollout
	var sysstat *table.Table
	var err error
	if len(out.Fleet.Systems) > 0 {
		if sysstat, err = (&fleet.Env{Env: f.penv}).ReadTable(f.release, table.SysStat().Name); err != nil {
			err = fmt.Errorf("csmsimtest: SERVMGR %s ran, and SYSSTAT cannot be read after it: %w", line, err)
		}
	}
	for _, so := range out.Fleet.Systems {
		sr := SystemResult{SystemOutcome: so}
		if sysstat != nil {
			en, _ := sysstat.Get(so.System)
			sr.Level, sr.State, sr.Prod = tag(en, "SRVLVL"), tag(en, "STATE"), tag(en, "PROD")
		}
		res.Systems = append(res.Systems, sr)
	}
	return res, err
}

// tag is an entry's tag value, "" for a tag it lacks or for none ("-").
func tag(en table.Entry, name string) string {
	v, _ := en.Get(name)
	if v == agent.None {
		return ""
	}
	return v
}
