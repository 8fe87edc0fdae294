package fleet

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/rollout"
	"github.com/csmsim/csmsim/engine/table"
)

// Rollout is a staged roll-out of SRVLVL SEND or SYSTEM PUT2PROD, as the
// SERVMGR options CANARY, WAVES, BUDGET, DEADLINE and RESTART give it.
type Rollout struct {
	Canary   string // a system or nickname within the target; "" for none
	Waves    []rollout.Size
	Budget   rollout.Size
	Deadline time.Duration
	Restart  bool
}

// RolloutTable() is the record of roll-outs, per release, next to SVCSTAT
// in VMPSFS:CSMvrm.: one entry per roll-out and system,
// :ROLLOUT.<id> <system> :STATUS.DONE :WAVE.1 :RUN.1 :LEVEL.<level>.
func RolloutTable() table.Kind {
	return table.Kind{File: cms.MustParseFileID("CSM ROLLOUT"), Name: "ROLLOUT", KeyTag: "ROLLOUT"}
}

// op is a managed-side command ready to run system by system: plainly, or
// as a staged roll-out.
type op struct {
	name    string // SRVLVL SEND
	id      string // the roll-out id: the command's words that name the work
	vrm     string
	sc      *scope
	levelOf func(system string) string // the level the work puts on system
	do      func(ctx context.Context, system string) SystemOutcome
	// transfers, if not nil, bounds the systems sending at once: a SEND's
	// system holds a slot for its transfer only (Wire.Workers).
	transfers chan struct{}
	// finish runs when every system of the command is done.
	finish func(res *msg.Result) error
}

func (o *op) run(ctx context.Context, e *Env, w *Wire, roll *Rollout) (Outcome, error) {
	if roll != nil {
		return o.rollout(ctx, e, w, roll)
	}
	outs := fanOut(o.sc.systems, o.inFlight(w), func(s string) SystemOutcome { return o.doOne(ctx, s) })
	out := Outcome{Targets: o.sc.systems, Systems: outs}
	res := &out.Result
	good := e.record(res, outs)
	res.Addf(msg.CSM3060I, o.name, good, len(outs))
	if good == len(outs) && len(outs) > 0 && o.finish != nil {
		if err := o.finish(res); err != nil {
			return out, err
		}
	}
	return out, nil
}

// inFlight is how many systems the op serves at once: Workers, or twice
// that when only the transfers are bounded by Workers (the others are
// waiting for their jobs).
func (o *op) inFlight(w *Wire) int {
	if o.transfers == nil {
		return w.workers()
	}
	return 2 * cap(o.transfers)
}

// sending takes one of the op's transfer slots, waiting for it; release
// gives it back and may be called more than once. With no slots, or once
// ctx has ended (the dial then fails with ctx's error), there is nothing
// to take.
func (o *op) sending(ctx context.Context) (release func()) {
	if o.transfers == nil {
		return func() {}
	}
	select {
	case o.transfers <- struct{}{}:
	case <-ctx.Done():
		return func() {}
	}
	return sync.OnceFunc(func() { <-o.transfers })
}

// doOne does the op on one system; a system of another release (reached
// through a nickname) is refused there and nothing is done on it.
func (o *op) doOne(ctx context.Context, s string) SystemOutcome {
	if lines := o.sc.foreign(s); lines != nil {
		return SystemOutcome{System: s, Lines: lines}
	}
	return o.do(ctx, s)
}

// rollout runs the op under a roll-out policy: engine/rollout schedules,
// the ROLLOUT table remembers, SYSSTAT is written as each system ends.
func (o *op) rollout(ctx context.Context, e *Env, w *Wire, roll *Rollout) (Outcome, error) {
	systems := o.sc.systems
	out := Outcome{Targets: systems}
	res := &out.Result
	pol := rollout.Policy{Waves: roll.Waves, Budget: roll.Budget, Deadline: roll.Deadline}
	canary := "none"
	if roll.Canary != "" {
		names, err := e.resolve(o.vrm, roll.Canary, o.sc.sys)
		if err != nil {
			return out, err
		}
		for _, s := range systems { // the canary in the target's order
			if slices.Contains(names, s) {
				pol.Canary = append(pol.Canary, s)
			}
		}
		for _, s := range names {
			if !slices.Contains(systems, s) {
				return out, level.Refuse(msg.CSM3076E, "CANARY "+strings.ToUpper(roll.Canary),
					"system "+s+" is not among the systems "+o.id+" reaches")
			}
		}
		canary = strings.ToUpper(roll.Canary)
	}
	if err := RolloutTable().Create(o.sc.levels); err != nil && !errors.Is(err, table.ErrExists) {
		return out, err // the first roll-out of the release creates the table
	}
	var mu sync.Mutex
	outs := map[string]SystemOutcome{}
	cfg := rollout.Config{ID: o.id, Systems: systems, Policy: pol, Restart: roll.Restart, Workers: o.inFlight(w),
		Store: &rolloutStore{st: o.sc.levels, levelOf: o.levelOf}, WithTimeout: w.Deadline,
		Do: func(wctx context.Context, s string, wave int) rollout.Outcome {
			so := o.doOne(wctx, s)
			if !so.OK && wctx.Err() != nil && ctx.Err() == nil {
				// The wave's deadline cut the system off; where exactly is
				// chance, so say what happened, the same every time.
				so.Lines = []msg.Line{msg.Messagef(msg.CSM3074E, s, o.id, wave, pol.Deadline)}
				so.Cause = nil
			}
			if so.OK || ctx.Err() == nil { // an interrupted system is not failed: nothing to record
				// SYSSTAT now, not at the end: a stop loses nothing done. A
				// system whose result cannot be recorded is not done: the
				// principal would not know what it did (the same command
				// again does it again).
				var rec msg.Result
				e.record(&rec, []SystemOutcome{so})
				if rec.Failed() && so.OK {
					so.OK = false
					so.Lines = append(so.Lines, rec.Lines[len(so.Lines):]...)
				}
			}
			mu.Lock()
			outs[s] = so
			mu.Unlock()
			if so.OK {
				return rollout.Outcome{OK: true}
			}
			id, reason := firstError(so.Lines)
			return rollout.Outcome{Message: id, Reason: reason}
		}}
	r, runErr := rollout.Run(ctx, cfg)
	if r.Waves == nil && runErr != nil { // the records could not be read or reset
		return out, runErr
	}
	out.Rollout = &RolloutOutcome{Result: r}
	deadline := "none"
	if pol.Deadline > 0 {
		deadline = pol.Deadline.String()
	}
	res.Addf(msg.CSM3070I, o.id, r.Run, len(systems), len(r.Waves)-1, canary, r.Budget, deadline)
	if len(r.Skipped) > 0 {
		res.Addf(msg.CSM3072I, o.id, len(r.Skipped), strings.Join(r.Skipped, " "))
	}
	good := 0
	for _, s := range systems { // each system's lines, in the target's order
		if so, ok := outs[s]; ok {
			out.Systems = append(out.Systems, so)
			res.Add(so.Lines...)
			if so.OK {
				good++
			}
		}
	}
	for _, wr := range r.Waved {
		res.Addf(msg.CSM3071I, o.id, wr.Wave, wr.Done, wr.Failed, wr.Size-wr.Passed)
	}
	for _, rec := range r.Records {
		more := ""
		if rec.Run > 0 {
			more = ", run " + strconv.Itoa(rec.Run)
		}
		if rec.Status == rollout.Failed {
			more += ": " + rec.Message + " " + rec.Reason
		}
		res.Addf(msg.CSM3077I, o.id, rec.System, rec.Status, rec.Wave, more)
	}
	res.Addf(msg.CSM3060I, o.name, good, len(outs))
	done, failed := r.Count(rollout.Done), r.Count(rollout.Failed)
	switch {
	case runErr != nil && errors.Is(runErr, rollout.ErrInterrupted):
		out.Rollout.Interrupted, out.Rollout.Cause = true, runErr.Error()
		res.Addf(msg.CSM3078E, o.id, r.HaltWave, runErr.Error())
	case runErr != nil:
		return out, runErr
	case r.Halted:
		res.Addf(msg.CSM3073E, o.id, r.HaltWave, r.Reason, done, failed, len(systems)-done-failed)
	default:
		res.Addf(msg.CSM3075I, o.id, len(systems), good)
		if o.finish != nil {
			if err := o.finish(res); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// firstError is the id and text of a system's first error line.
func firstError(lines []msg.Line) (string, string) {
	for _, l := range lines {
		if l.Sev != msg.Info {
			return l.ID, l.Text
		}
	}
	return "", "failed"
}

// rolloutStore keeps roll-out records in the ROLLOUT table. A record done
// at another level than the one the work now puts on the system is not
// done: PUT2PROD of ALL next month is the same command, new work.
type rolloutStore struct {
	st      *table.Store
	levelOf func(string) string
}

func rolloutKey(id, system string) string { return id + " " + system }

func (s *rolloutStore) Load(id string) ([]rollout.Record, error) {
	t, err := RolloutTable().Read(s.st)
	if err != nil {
		return nil, err
	}
	var out []rollout.Record
	for _, en := range t.List() {
		rid, system, ok := strings.Cut(en.Key(), " ")
		if !ok || rid != id {
			continue
		}
		r := rollout.Record{System: system, Status: rollout.Status(get(en, "STATUS")), Message: get(en, "MSGID"), Reason: get(en, "REASON")}
		r.Wave, _ = strconv.Atoi(get(en, "WAVE"))
		r.Run, _ = strconv.Atoi(get(en, "RUN"))
		if r.Status == rollout.Done && !strings.EqualFold(get(en, "LEVEL"), s.levelOf(system)) {
			r.Status = rollout.Untouched
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *rolloutStore) Save(id string, r rollout.Record) error {
	tags := map[string]string{"STATUS": string(r.Status), "WAVE": strconv.Itoa(r.Wave), "RUN": strconv.Itoa(r.Run),
		"LEVEL": s.levelOf(r.System), "MSGID": r.Message, "REASON": tableText(r.Reason)}
	_, err := RolloutTable().Apply(s.st, func(t *table.Table) error {
		key := rolloutKey(id, r.System)
		if _, ok := t.Get(key); !ok {
			if err := t.Add(table.NewEntry(RolloutTable().KeyTag, key)); err != nil {
				return err
			}
		}
		return t.Set(key, tags)
	})
	return err
}

func (s *rolloutStore) Reset(id string) error {
	_, err := RolloutTable().Apply(s.st, func(t *table.Table) error {
		for _, en := range t.List() {
			if rid, _, _ := strings.Cut(en.Key(), " "); rid == id {
				if err := t.Delete(en.Key()); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return err
}

// tableText makes free text safe as a tag value: no " :" that would read
// back as a tag.
func tableText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, " :", " ;")
}

// rolloutID names a roll-out by the command's words, so the same command
// resumes the same roll-out: SEND.STABLE.VM010802_BLD2.ALL.
func rolloutID(words ...string) string {
	for i, w := range words {
		words[i] = strings.ToUpper(w)
	}
	return strings.Join(words, ".")
}
