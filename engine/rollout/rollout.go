// Package rollout schedules a staged roll-out: a canary wave, then waves
// of counted or percentage sizes, one failure budget for the whole run, a
// progress deadline per wave, and resume from a record of what is done.
//
// It is pure scheduling, in the manner of etcd's raft: the work on one
// system (Config.Do), the record of what is done (Store) and the deadline
// timer (Config.WithTimeout) are handed in. engine/fleet supplies them for
// SRVLVL SEND and SYSTEM PUT2PROD; docs/rollout.md states the rules.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Size is a wave size or a failure budget: a count of systems, or a
// percentage of the roll-out's systems.
type Size struct {
	N       int
	Percent bool
}

// ParseSize reads "5" or "25%".
func ParseSize(s string) (Size, error) {
	num, pct := strings.CutSuffix(s, "%")
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || strings.TrimLeft(num, "0123456789") != "" {
		return Size{}, fmt.Errorf("%q is not a count (5) or a percentage (25%%) of at least 1", s)
	}
	if pct && n > 100 {
		return Size{}, fmt.Errorf("%q is more than 100%%", s)
	}
	return Size{N: n, Percent: pct}, nil
}

// Of is the size as a count of total systems; a percentage rounds up, so
// a non-zero size is never zero systems.
func (s Size) Of(total int) int {
	if !s.Percent {
		return s.N
	}
	return (s.N*total + 99) / 100
}

func (s Size) String() string {
	if s.Percent {
		return strconv.Itoa(s.N) + "%"
	}
	return strconv.Itoa(s.N)
}

// Policy is how a roll-out proceeds.
type Policy struct {
	// Canary are the systems of wave 0, in the roll-out's order.
	Canary []string
	// Waves are the sizes of the waves after the canary; the last size
	// repeats until every system has a wave. None means one wave with all
	// the rest.
	Waves []Size
	// Budget is the number of failures at which the roll-out halts; the
	// zero Size means 1 (the first failure halts it).
	Budget Size
	// Deadline is each wave's time to finish; 0 means no deadline.
	Deadline time.Duration
}

// Plan splits systems into waves: the canary (wave 0, possibly empty),
// then waves of the policy's sizes, in the systems' order.
func Plan(systems []string, p Policy) ([][]string, error) {
	for _, c := range p.Canary {
		if !slices.Contains(systems, c) {
			return nil, fmt.Errorf("canary system %s is not one of the roll-out's systems", c)
		}
	}
	waves := [][]string{append([]string{}, p.Canary...)}
	var rest []string
	for _, s := range systems {
		if !slices.Contains(p.Canary, s) {
			rest = append(rest, s)
		}
	}
	for i := 0; len(rest) > 0; i++ {
		n := len(rest)
		if len(p.Waves) > 0 {
			n = p.Waves[min(i, len(p.Waves)-1)].Of(len(systems))
		}
		n = min(max(n, 1), len(rest))
		waves = append(waves, rest[:n:n])
		rest = rest[n:]
	}
	return waves, nil
}

// Status is a system's place in a roll-out.
type Status string

const (
	Done      Status = "DONE"
	Failed    Status = "FAILED"
	Untouched Status = "UNTOUCHED"
)

// Record is what the roll-out knows of one system.
type Record struct {
	System  string
	Status  Status
	Wave    int
	Run     int    // the run that last touched it; 0 when untouched
	Message string // the failure's message id, e.g. CSM3051E
	Reason  string
}

// Store keeps the records of roll-outs by id, one system at a time, so a
// principal that stops in the middle of a wave loses nothing it finished.
type Store interface {
	Load(id string) ([]Record, error)
	Save(id string, r Record) error
	Reset(id string) error
}

// Outcome is one system's result of Do.
type Outcome struct {
	OK      bool
	Message string // the failure's message id
	Reason  string
}

// Config is one run of a roll-out.
type Config struct {
	ID      string   // names the roll-out; the same command gives the same id
	Systems []string // every system of the roll-out, in order
	Policy  Policy
	Store   Store
	Restart bool // forget earlier runs' records first
	Workers int  // systems at once within a wave; 0 means 8
	// Do does the work on one system of a wave. It must return when ctx
	// ends.
	Do func(ctx context.Context, system string, wave int) Outcome
	// WithTimeout makes a wave's deadline; nil means context.WithTimeout.
	// Injected so the caller owns time.
	WithTimeout func(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
}

// Result is what one run did, and where every system stands.
type Result struct {
	ID       string
	Run      int
	Waves    [][]string
	Budget   int
	Records  []Record // every system, in Systems order
	Skipped  []string // done in an earlier run, not redone
	Halted   bool
	HaltWave int
	Reason   string
	Waved    []WaveResult
}

// WaveResult is one wave of this run.
type WaveResult struct {
	Wave                 int
	Done, Failed, Passed int // Passed: already done earlier
	Size                 int
}

// Count is how many records have status st.
func (r Result) Count(st Status) int {
	n := 0
	for _, rec := range r.Records {
		if rec.Status == st {
			n++
		}
	}
	return n
}

// ErrInterrupted is returned, wrapped, when the caller's context ends
// during a run (the principal stopping): what finished is recorded, what
// was running is not, and running the roll-out again resumes it.
var ErrInterrupted = errors.New("roll-out interrupted")

// Run runs the roll-out: wave after wave, each system not yet done, until
// every system is done or the roll-out halts.
//
// The rules: a failure is a Do that did not succeed (an unreachable system
// is one); the run halts once its failures reach the budget, starting no
// more systems (those already running finish and count); a wave that does
// not finish by its deadline fails the systems still running, with the
// reason, and halts the run. Budget and failures are per run: running the
// roll-out again retries the failed systems with a fresh budget and never
// redoes a done one.
func Run(ctx context.Context, c Config) (Result, error) {
	res := Result{ID: c.ID}
	if c.Restart {
		if err := c.Store.Reset(c.ID); err != nil {
			return res, err
		}
	}
	waves, err := Plan(c.Systems, c.Policy)
	if err != nil {
		return res, err
	}
	res.Waves = waves
	res.Budget = c.Policy.Budget.Of(len(c.Systems))
	if c.Policy.Budget.N == 0 {
		res.Budget = 1
	}
	old, err := c.Store.Load(c.ID)
	if err != nil {
		return res, err
	}
	recs := map[string]Record{}
	for _, r := range old {
		recs[r.System] = r
		res.Run = max(res.Run, r.Run)
	}
	res.Run++
	waveOf := map[string]int{}
	for w, ss := range waves {
		for _, s := range ss {
			waveOf[s] = w
		}
	}
	for _, s := range c.Systems {
		if r, ok := recs[s]; ok && r.Status == Done {
			res.Skipped = append(res.Skipped, s)
		}
	}
	workers := c.Workers
	if workers <= 0 {
		workers = 8
	}
	withTimeout := c.WithTimeout
	if withTimeout == nil {
		withTimeout = context.WithTimeout
	}
	var mu sync.Mutex
	failures := 0
	var saveErr error
	save := func(r Record) {
		mu.Lock()
		defer mu.Unlock()
		recs[r.System] = r
		if r.Status == Failed {
			failures++
		}
		if err := c.Store.Save(c.ID, r); err != nil && saveErr == nil {
			saveErr = err
		}
	}
	halted := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return failures >= res.Budget || saveErr != nil
	}
	finish := func() Result {
		for _, s := range c.Systems {
			r, ok := recs[s]
			if !ok {
				r = Record{System: s, Status: Untouched}
			}
			r.Wave = waveOf[s]
			res.Records = append(res.Records, r)
		}
		return res
	}
	for w, wave := range waves {
		if len(wave) == 0 {
			continue
		}
		wr := WaveResult{Wave: w, Size: len(wave)}
		var todo []string
		for _, s := range wave {
			if r, ok := recs[s]; ok && r.Status == Done {
				wr.Passed++
				continue
			}
			todo = append(todo, s)
		}
		wctx, cancel := ctx, context.CancelFunc(func() {})
		if c.Policy.Deadline > 0 {
			wctx, cancel = withTimeout(ctx, c.Policy.Deadline)
		}
		late := false
		var wg sync.WaitGroup
		sem := make(chan struct{}, workers)
		for _, s := range todo {
			sem <- struct{}{}
			if halted() || wctx.Err() != nil {
				<-sem
				break
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				o := c.Do(wctx, s, w)
				rec := Record{System: s, Wave: w, Run: res.Run, Message: o.Message, Reason: o.Reason, Status: Done}
				switch {
				case o.OK:
					rec.Message, rec.Reason = "", ""
				case ctx.Err() != nil:
					return // interrupted, not failed: the next run does it
				case wctx.Err() != nil:
					mu.Lock()
					late = true
					mu.Unlock()
					rec.Status, rec.Message = Failed, "CSM3074E"
					rec.Reason = missed(w, c.Policy.Deadline)
				default:
					rec.Status = Failed
				}
				save(rec)
			}()
		}
		wg.Wait()
		timedOut := wctx.Err() != nil && ctx.Err() == nil
		cancel()
		for _, s := range todo {
			if r, ok := recs[s]; ok && r.Run == res.Run {
				if r.Status == Done {
					wr.Done++
				} else {
					wr.Failed++
				}
			}
		}
		res.Waved = append(res.Waved, wr)
		switch {
		case saveErr != nil:
			return finish(), saveErr
		case ctx.Err() != nil:
			res.HaltWave = w
			return finish(), fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
		case late || timedOut && wr.Done+wr.Failed < len(todo):
			res.Halted, res.HaltWave = true, w
			res.Reason = missed(w, c.Policy.Deadline)
			return finish(), nil
		case failures >= res.Budget:
			res.Halted, res.HaltWave = true, w
			res.Reason = fmt.Sprintf("%d failures reached the failure budget of %d", failures, res.Budget)
			return finish(), nil
		}
	}
	return finish(), nil
}

// missed is the reason of a wave that missed its deadline.
func missed(wave int, d time.Duration) string {
	return fmt.Sprintf("wave %d did not finish within its deadline of %s", wave, d)
}
