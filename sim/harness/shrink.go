package harness

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/fault"
	"github.com/csmsim/csmsim/sim/world"
)

// Signature is what makes two failing runs the same failure, for the
// shrinker: the first violated invariant's name, else the first failed
// step's kind and line (as written, placeholders unsubstituted) with its
// RC and first error message id, else the first failed expectation's name,
// in the order FailureText looks; "" for a run that passed. The error id
// keeps a shrink from slipping to another failure of the same step (SRVLVL
// ADD failing for want of INITIALIZE, not for the full disk it was
// shrunk for). It leaves out what a smaller scenario changes without
// changing the bug: step numbers, details, the seed.
func (r *Report) Signature() string {
	if len(r.Violations) > 0 {
		return "invariant " + r.Violations[0].Invariant
	}
	for _, s := range r.Steps {
		if s.Status == "fail" {
			sig := fmt.Sprintf("step %s %q RC=%d", s.Kind, s.Line, s.RC)
			for _, id := range s.Messages {
				if sev := msg.Severity(id[len(id)-1]); sev == msg.Error || sev == msg.Severe {
					return sig + " " + id
				}
			}
			return sig
		}
	}
	for _, e := range r.Expectations {
		if e.Status != "pass" {
			return "expectation " + e.Name
		}
	}
	return ""
}

// ShrinkOptions say which run to shrink.
type ShrinkOptions struct {
	Seed  uint64 // the seed of the failing run
	Swarm bool   // it ran with --swarm
	// File is the name the shrunk scenario will be written as: its
	// report names it. Default the original's.
	File string
	// Log hears each cut as it is kept, one line each; nil for none.
	Log func(line string)
}

// Shrunk is the smallest scenario the shrinker found that fails as the
// original did.
type Shrunk struct {
	// Scenario is standalone: its seed is the run's, its faults fixed
	// (the ones the seed armed, without probability, swarm off) unless
	// Fixed says they could not be.
	Scenario  *Scenario
	Signature string
	Report    *Report  // its run, as csmsim run gives it
	Removed   []string // what was cut, in the order it was
	Runs      int      // scenarios run, the original's included
	Fixed     bool
}

// Shrink reduces a failing run of sc while the same failure (Signature)
// persists, in rounds until nothing more can go: the faults are fixed
// first (only those the seed armed, pinned to the systems it picked, no
// probability, swarm off), then dropped one at a time; the steps are cut
// by delta debugging (ddmin), at least one kept; the world loses systems
// no step names; generated envelopes get fewer and smaller parts. Every
// candidate is written as YAML, parsed as csmsim run would (so it is
// valid) and run with the seed; one whose run cannot even be built counts
// as not failing the same way. It assumes a run is deterministic for its
// seed (csmsim sweep --check-determinism checks that).
func Shrink(ctx context.Context, sc *Scenario, opts ShrinkOptions) (*Shrunk, error) {
	s := &shrinker{ctx: ctx, file: sc.File, seed: opts.Seed, swarm: opts.Swarm, log: opts.Log, tried: map[string]bool{}}
	rep, err := Run(ctx, sc, Options{Seed: &s.seed, Swarm: s.swarm})
	if err != nil {
		return nil, err
	}
	s.runs++
	if rep.Pass {
		how := ""
		if s.swarm {
			how = " and --swarm"
		}
		return nil, fmt.Errorf("%s passes with seed %d%s: there is no failure to shrink (pick a failing seed from csmsim sweep)", sc.File, s.seed, how)
	}
	s.sig, s.rep = rep.Signature(), rep
	cur, err := sc.clone()
	if err != nil {
		return nil, err
	}
	if cur, err = s.fixFaults(cur, rep); err != nil {
		return nil, err
	}
	for changed := true; changed; {
		changed = false
		for _, pass := range []func(*Scenario) (*Scenario, bool, error){s.dropFaults, s.dropSteps, s.dropSystems, s.smallerEnvelopes} {
			next, ok, err := pass(cur)
			if err != nil {
				return nil, err
			}
			if ok {
				cur, changed = next, true
			}
		}
	}
	cur.Name = sc.Name + "-min"
	cur.Description = fmt.Sprintf("Shrunk by csmsim shrink from %s seed %d: the smallest scenario found that fails as it does (%s).", sc.File, s.seed, s.sig)
	cur.Seed = s.seed
	cur.Swarm = cur.Swarm || !s.fixed && s.swarm
	// The file must fail by itself, as csmsim run MIN.yaml runs it: with
	// its own seed and swarm, no options.
	var b bytes.Buffer
	if err := cur.WriteYAML(&b); err != nil {
		return nil, err
	}
	out, err := Parse(cmp.Or(opts.File, sc.File), b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("the shrunk scenario does not validate (a bug of csmsim shrink): %w", err)
	}
	final, err := Run(ctx, out, Options{})
	if err != nil {
		return nil, err
	}
	s.runs++
	if final.Signature() != s.sig {
		return nil, fmt.Errorf("the shrunk scenario fails as %q, not as the original (%q): the run is not deterministic for seed %d; check with csmsim sweep --check-determinism",
			final.Signature(), s.sig, s.seed)
	}
	return &Shrunk{Scenario: out, Signature: s.sig, Report: final, Removed: s.removed, Runs: s.runs, Fixed: s.fixed}, nil
}

type shrinker struct {
	ctx     context.Context
	file    string
	seed    uint64
	swarm   bool // candidates run with --swarm: until the faults are fixed
	fixed   bool
	sig     string
	rep     *Report // the last run that failed as the original
	log     func(string)
	removed []string
	runs    int
	tried   map[string]bool // a candidate's YAML -> it failed the same way
}

func (s *shrinker) cut(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	s.removed = append(s.removed, line)
	if s.log != nil {
		s.log(line)
	}
}

// fails runs a candidate with the seed: does it fail as the original did?
func (s *shrinker) fails(c *Scenario) (bool, error) {
	var b bytes.Buffer
	if err := c.WriteYAML(&b); err != nil {
		return false, err
	}
	key := fmt.Sprint(s.swarm) + "\n" + b.String()
	if v, ok := s.tried[key]; ok {
		return v, nil
	}
	parsed, err := Parse(s.file, b.Bytes())
	if err != nil {
		s.tried[key] = false // a cut that leaves an invalid scenario
		return false, nil
	}
	rep, err := Run(s.ctx, parsed, Options{Seed: &s.seed, Swarm: s.swarm})
	if s.ctx.Err() != nil {
		return false, s.ctx.Err()
	}
	s.runs++
	same := err == nil && rep.Signature() == s.sig
	if same {
		s.rep = rep
	}
	s.tried[key] = same
	return same, nil
}

// fixFaults makes the run's faults independent of the seed's draws: the
// entries the seed armed, each without probability, swarm off, an entry
// over several systems pinned to the ones the seed picked (as many times
// as each was hit). Without it, cutting anything would change which
// faults the seed arms. If the pinned faults do not fail the same way,
// the armed ones unpinned are tried; if neither does, the faults stay as
// written and the shrunk scenario keeps the seed's draws.
func (s *shrinker) fixFaults(cur *Scenario, rep *Report) (*Scenario, error) {
	swarm := cur.Swarm || s.swarm
	if len(cur.Faults) == 0 {
		if swarm {
			c, err := cur.clone()
			if err != nil {
				return nil, err
			}
			c.Swarm = false
			s.swarm, s.fixed = false, true
			s.cut("removed swarm: there are no faults to switch")
			return c, nil
		}
		s.fixed = true
		return cur, nil
	}
	specs := make([]fault.Spec, len(cur.Faults))
	for i, f := range cur.Faults {
		sp, err := f.spec()
		if err != nil {
			return nil, err
		}
		specs[i] = sp
	}
	targets := cur.faultTargets()
	plan, err := fault.NewPlan(specs, s.seed, fault.Swarm(swarm), targets)
	if err != nil {
		return nil, err
	}
	armedSpecs := plan.Armed()
	hits := map[string]int{} // "kind system" -> times a fault of the kind hit the system
	for _, f := range rep.Faults {
		hits[string(f.Kind)+" "+f.System]++
	}
	var pinned, plain []FaultSpec
	var pins []string
	for j, i := range plan.ArmedEntries() {
		f := cur.Faults[i]
		f.Probability, f.AfterWrites = 0, armedSpecs[j].AfterWrites
		plain = append(plain, f)
		group, _ := targets(specs[i].System)
		if specs[i].System == "" || len(group) < 2 {
			pinned = append(pinned, f)
			continue
		}
		var to []string
		for _, v := range group {
			n := hits[string(specs[i].Kind)+" "+v]
			if n == 0 || !s.picked(specs, i, v, swarm, targets) {
				continue
			}
			p := f
			p.System, p.Times = v, 0
			if n > 1 {
				p.Times = n
			}
			pinned = append(pinned, p)
			to = append(to, v)
		}
		if len(to) == 0 {
			pins = append(pins, fmt.Sprintf("removed fault %s: armed, but it never fired", f.describe()))
		} else {
			pins = append(pins, fmt.Sprintf("fixed fault %s: pinned to %s, the system(s) seed %d picked", f.describe(), strings.Join(to, ", "), s.seed))
		}
	}
	for k, faults := range [][]FaultSpec{pinned, plain} {
		c, err := cur.clone()
		if err != nil {
			return nil, err
		}
		c.Faults, c.Swarm = faults, false
		s.swarm = false
		ok, err := s.fails(c)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		s.fixed = true
		if swarm {
			s.cut("removed swarm: the fault kinds and probabilities seed %d drew are written out", s.seed)
		}
		for i, f := range cur.Faults {
			if !slices.Contains(plan.ArmedEntries(), i) {
				s.cut("removed fault %s: seed %d does not arm it", f.describe(), s.seed)
			} else if f.Probability != 0 {
				s.cut("fixed fault %s: probability %v removed (seed %d arms it)", f.describe(), f.Probability, s.seed)
			}
		}
		if k == 0 {
			for _, p := range pins {
				s.cut("%s", p)
			}
		}
		return c, nil
	}
	s.swarm = swarm
	c, err := cur.clone()
	if err != nil {
		return nil, err
	}
	c.Swarm = swarm
	if s.log != nil {
		s.log("faults kept as written: without the seed's draws the failure is not the same")
	}
	return c, nil
}

// picked says the seed made system v a victim of armed fault i: a fresh
// plan (the same draws) fires it at a point of v where the fault applies.
func (s *shrinker) picked(specs []fault.Spec, i int, v string, swarm bool, targets func(string) ([]string, error)) bool {
	plan, err := fault.NewPlan(specs, s.seed, fault.Swarm(swarm), targets)
	if err != nil {
		return false
	}
	// A point that is every phase and command the fault may name: the
	// plan matches During against the one it is.
	d := strings.ToLower(specs[i].During)
	pt := fault.Point{System: v, Phase: d, Command: d}
	pt.Step, _ = strconv.Atoi(d)
	return slices.Contains(plan.Fire(specs[i].Kind, pt, time.Time{}, "shrink probe"), specs[i])
}

// faultTargets resolves a fault's system, nickname or ALL to the world's
// systems, as the run does (runner.targets) before any world is built.
func (sc *Scenario) faultTargets() func(string) ([]string, error) {
	var names []string
	known := map[string]bool{}
	for _, s := range sc.systemSpecs() {
		names = append(names, s.Name)
		known[s.Name] = true
	}
	return func(system string) ([]string, error) {
		if strings.EqualFold(system, "ALL") {
			return names, nil
		}
		if known[strings.ToUpper(system)] {
			return []string{strings.ToUpper(system)}, nil
		}
		t, err := world.NamesTable(sc.World.Names)
		if err != nil {
			return nil, err
		}
		return table.ResolveNames(t, system, func(s string) bool { return known[s] })
	}
}

func (f FaultSpec) describe() string {
	s := f.Kind
	if f.System != "" {
		s += " on " + f.System
	}
	if f.Disk != "" {
		s += " of " + f.Disk
	}
	if f.During != "" {
		s += " during " + f.During
	}
	return s
}

// dropFaults drops the faults one at a time, each for good if the failure
// stays the same without it.
func (s *shrinker) dropFaults(cur *Scenario) (*Scenario, bool, error) {
	changed := false
	for i := 0; i < len(cur.Faults); {
		c, err := cur.clone()
		if err != nil {
			return nil, false, err
		}
		c.Faults = slices.Delete(c.Faults, i, i+1)
		ok, err := s.fails(c)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			i++
			continue
		}
		s.cut("removed fault %s", cur.Faults[i].describe())
		cur, changed = c, true
	}
	return cur, changed, nil
}

// dropSteps cuts steps by ddmin, keeping at least one.
func (s *shrinker) dropSteps(cur *Scenario) (*Scenario, bool, error) {
	if len(cur.Steps) < 2 {
		return cur, false, nil
	}
	var err error
	keep := ddmin(len(cur.Steps), func(keep []int) bool {
		if err != nil {
			return false
		}
		c, _, e := cur.withSteps(keep)
		if e != nil {
			err = e
			return false
		}
		ok, e := s.fails(c)
		if e != nil {
			err = e
		}
		return ok
	})
	if err != nil {
		return nil, false, err
	}
	if len(keep) == len(cur.Steps) {
		return cur, false, nil
	}
	c, gone, err := cur.withSteps(keep)
	if err != nil {
		return nil, false, err
	}
	var cut []string
	for i, st := range cur.Steps {
		if !slices.Contains(keep, i) {
			cut = append(cut, fmt.Sprintf("%d (%s)", i+1, st.describe()))
		}
	}
	s.cut("removed steps %s", strings.Join(cut, ", "))
	for _, f := range gone {
		s.cut("removed fault %s with its step", f.describe())
	}
	return c, true, nil
}

// withSteps is the scenario with only the steps keep lists (indices, in
// order). A fault during a step number follows its step to its new number
// (a repeated step numbers each repetition), and goes with it when the
// step is cut (gone lists those).
func (sc *Scenario) withSteps(keep []int) (c *Scenario, gone []FaultSpec, err error) {
	if c, err = sc.clone(); err != nil {
		return nil, nil, err
	}
	renumber := map[int]int{} // old report index -> new
	old := 1
	next := 1
	for i, st := range sc.Steps {
		n := span(st)
		if slices.Contains(keep, i) {
			for k := range n {
				renumber[old+k] = next + k
			}
			next += n
		}
		old += n
	}
	c.Steps = nil
	for _, i := range keep {
		c.Steps = append(c.Steps, sc.Steps[i])
	}
	c.Faults, gone = moveFaults(sc.Faults, renumber, old)
	return c, gone, nil
}

// span is how many steps a step runs, its repetitions counted.
func span(st Step) int {
	if st.Repeat != nil && st.Repeat.To >= st.Repeat.From {
		return st.Repeat.To - st.Repeat.From + 1
	}
	return 1
}

// moveFaults renumbers the faults that name a step (during: N) by
// renumber, old step number to new, and returns those whose step is gone
// apart; end is one past the old last step.
func moveFaults(faults []FaultSpec, renumber map[int]int, end int) (kept, gone []FaultSpec) {
	for _, f := range faults {
		if d, err := strconv.Atoi(f.During); err == nil && d > 0 && d < end {
			n, ok := renumber[d]
			if !ok {
				gone = append(gone, f)
				continue
			}
			f.During = strconv.Itoa(n)
		}
		kept = append(kept, f)
	}
	return kept, gone
}

// ddmin is Zeller's delta debugging: the smallest subset of 0..n-1 (in
// order, never empty) it finds for which fails holds, testing chunks and
// their complements at a finer and finer granularity.
func ddmin(n int, fails func(keep []int) bool) []int {
	cur := make([]int, n)
	for i := range cur {
		cur[i] = i
	}
	gran := 2
	for len(cur) >= 2 {
		size := (len(cur) + gran - 1) / gran
		var chunks [][]int
		for i := 0; i < len(cur); i += size {
			chunks = append(chunks, cur[i:min(i+size, len(cur))])
		}
		reduced := false
		for _, ch := range chunks {
			if len(ch) < len(cur) && fails(slices.Clone(ch)) {
				cur, gran, reduced = slices.Clone(ch), 2, true
				break
			}
		}
		if !reduced && len(chunks) > 2 {
			for i := range chunks {
				var comp []int
				for j, ch := range chunks {
					if j != i {
						comp = append(comp, ch...)
					}
				}
				if fails(comp) {
					cur, gran, reduced = comp, max(gran-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if gran >= len(cur) {
				break
			}
			gran = min(gran*2, len(cur))
		}
	}
	return cur
}

// dropSystems makes the world smaller: a counted world to the fewest
// systems that still fail (bisecting the count), a listed one system by
// system. What names a removed system goes with it where it can
// (nicknames, end checks of it, unchanged_systems); a step or fault that
// names it makes the candidate invalid or failing otherwise, and it stays.
func (s *shrinker) dropSystems(cur *Scenario) (*Scenario, bool, error) {
	if cur.World.Count > 0 {
		lo, hi := 0, cur.World.Count // hi fails
		var best *Scenario
		for lo < hi {
			mid := (lo + hi) / 2
			c, err := cur.withoutSystems(func(i int, _ string) bool { return i >= mid })
			if err != nil {
				return nil, false, err
			}
			c.World.Count = mid
			ok, err := s.fails(c)
			if err != nil {
				return nil, false, err
			}
			if ok {
				hi, best = mid, c
			} else {
				lo = mid + 1
			}
		}
		if best == nil {
			return cur, false, nil
		}
		s.cut("removed systems: world count %d -> %d", cur.World.Count, hi)
		return best, true, nil
	}
	changed := false
	for i := 0; i < len(cur.World.Systems); {
		name := strings.ToUpper(cur.World.Systems[i].Name)
		c, err := cur.withoutSystems(func(_ int, n string) bool { return n == name })
		if err != nil {
			return nil, false, err
		}
		ok, err := s.fails(c)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			i++
			continue
		}
		s.cut("removed system %s", name)
		cur, changed = c, true
	}
	return cur, changed, nil
}

// withoutSystems is the scenario without the systems gone says, and
// without what only named them.
func (sc *Scenario) withoutSystems(gone func(i int, name string) bool) (*Scenario, error) {
	c, err := sc.clone()
	if err != nil {
		return nil, err
	}
	removed := map[string]bool{}
	for i, sys := range sc.systemSpecs() {
		if gone(i, sys.Name) {
			removed[sys.Name] = true
		}
	}
	c.World.Systems = slices.DeleteFunc(c.World.Systems, func(s System) bool { return removed[strings.ToUpper(s.Name)] })
	has := func(n string) bool { return removed[strings.ToUpper(n)] }
	// A nickname left empty goes too, and so does it from the others.
	for again := true; again; {
		again = false
		for nick, members := range c.World.Names {
			c.World.Names[nick] = slices.DeleteFunc(members, has)
			if len(c.World.Names[nick]) == 0 {
				delete(c.World.Names, nick)
				removed[strings.ToUpper(nick)] = true
				again = true
			}
		}
	}
	if c.Expect != nil {
		c.Expect.Systems = slices.DeleteFunc(c.Expect.Systems, func(s SystemCheck) bool { return has(s.Name) })
		c.Expect.Files = slices.DeleteFunc(c.Expect.Files, func(f FileCheck) bool { return has(f.System) || has(f.SameAs) })
	}
	for i := range c.Steps {
		c.Steps[i].UnchangedSystems = slices.DeleteFunc(c.Steps[i].UnchangedSystems, has)
	}
	c.trimRepeats(has)
	return c, nil
}

// trimRepeats takes off either end of a repeated step's range the
// repetitions whose line names a system gone says (${HOST:VM${NN}}), and
// moves the faults that name later steps with them. A step all of whose
// repetitions name one stays as it is: the candidate then does not
// validate, and is not kept.
func (sc *Scenario) trimRepeats(gone func(string) bool) {
	names := func(line string, n int) bool {
		for _, m := range placeholder.FindAllStringSubmatch(repeatLine(line, n), -1) {
			if m[2] != "" && gone(m[2]) {
				return true
			}
		}
		return false
	}
	renumber := map[int]int{}
	old, next := 1, 1
	for i := range sc.Steps {
		st := &sc.Steps[i]
		n := span(*st)
		from, to := 0, n-1 // the repetitions kept, as offsets
		if r := st.Repeat; st.Servmgr != nil && r != nil && r.From <= r.To {
			for to >= from && names(*st.Servmgr, r.From+to) {
				to--
			}
			for from <= to && names(*st.Servmgr, r.From+from) {
				from++
			}
			if from > to {
				from, to = 0, n-1
			}
			r.From, r.To = r.From+from, r.From+to
		}
		for k := from; k <= to; k++ {
			renumber[old+k] = next + k - from
		}
		old, next = old+n, next+to-from+1
	}
	sc.Faults, _ = moveFaults(sc.Faults, renumber, old)
}

// smallerEnvelopes gives each generated envelope the fewest parts, and
// then the smallest mean part size, that still fail (bisecting each).
func (s *shrinker) smallerEnvelopes(cur *Scenario) (*Scenario, bool, error) {
	changed := false
	for i := range cur.Fixtures.Envelopes {
		for _, field := range []struct {
			name string
			get  func(EnvelopeFixture) int64
			set  func(*EnvelopeFixture, int64)
		}{
			{"parts", func(e EnvelopeFixture) int64 { return int64(cmp.Or(e.Parts, 3)) }, func(e *EnvelopeFixture, v int64) { e.Parts = int(v) }},
			{"part_bytes", func(e EnvelopeFixture) int64 { return cmp.Or(e.PartBytes, 256) }, func(e *EnvelopeFixture, v int64) { e.PartBytes = v }},
		} {
			was := field.get(cur.Fixtures.Envelopes[i])
			lo, hi := int64(1), was
			var best *Scenario
			for lo < hi {
				mid := (lo + hi) / 2
				c, err := cur.clone()
				if err != nil {
					return nil, false, err
				}
				field.set(&c.Fixtures.Envelopes[i], mid)
				ok, err := s.fails(c)
				if err != nil {
					return nil, false, err
				}
				if ok {
					hi, best = mid, c
				} else {
					lo = mid + 1
				}
			}
			if best != nil {
				s.cut("smaller envelope %s: %s %d -> %d", strings.ToUpper(cur.Fixtures.Envelopes[i].Name), field.name, was, hi)
				cur, changed = best, true
			}
		}
	}
	return cur, changed, nil
}
