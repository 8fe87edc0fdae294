package harness

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// The invariants every run is held to, after every step and at the end,
// without a word in the scenario (docs/faults.md).
const (
	InvProductionWhole = "production-whole"  // production is one level's BUILD parts, never a mix
	InvTestBuildWhole  = "test-build-whole"  // a test build is one level's parts unless marked incomplete
	InvSysstatAgrees   = "sysstat-agrees"    // SYSSTAT says of a system what the system says
	InvRefusedNothing  = "refused-nothing"   // a refused command changed nothing
	InvTablesParse     = "tables-parse"      // every CSM table reads whole
	InvFailureNamed    = "failure-named"     // every failure names a message id
	InvNoPanic         = "no-panic"          // no agent job or command panicked
	InvNoLeak          = "no-goroutine-leak" // the run leaves no goroutine behind
	InvLiveness        = "liveness"          // healed, the same commands again reach the end state
)

// Violation is an invariant a run broke: which, where, and the seed that
// replays it.
type Violation struct {
	Invariant string `json:"invariant"`
	Step      int    `json:"step"` // 0: at the end
	System    string `json:"system,omitempty"`
	Seed      uint64 `json:"seed"`
	Detail    string `json:"detail"`
}

func (v Violation) String() string {
	where := "at the end"
	if v.Step > 0 {
		where = fmt.Sprintf("after step %d", v.Step)
	}
	if v.System != "" {
		where += " on " + v.System
	}
	return fmt.Sprintf("invariant %s violated %s (seed %d): %s", v.Invariant, where, v.Seed, v.Detail)
}

// violate records a broken invariant.
func (r *runner) violate(inv string, step int, system, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, Violation{Invariant: inv, Step: step, System: system, Seed: r.seed,
		Detail: r.normalize(fmt.Sprintf(format, args...))})
}

// checkInvariants holds the world to the invariants after step (0: at the
// end). out is the step's command outcome, if it ran one.
func (r *runner) checkInvariants(step int, out *stepOutcome) {
	levels := map[string]map[string]string{} // the principal's parts of each release's level, read once
	partsOf := func(rel, lvl string) (map[string]string, error) {
		if p, ok := levels[rel+" "+lvl]; ok {
			return p, nil
		}
		p, err := level.Parts(r.penv, rel, lvl)
		levels[rel+" "+lvl] = p
		if err == nil {
			r.remember(rel+" "+lvl, p)
		}
		return p, err
	}
	before, tablesBefore := r.seen, r.tablesSeen
	r.seen = map[string]string{}
	for _, name := range r.names {
		r.checkNode(step, name, partsOf)
	}
	r.tablesSeen = r.checkPrincipalTables(step)
	if out != nil {
		r.checkOutcome(step, out)
		r.checkRefused(step, out, before, tablesBefore)
	}
}

// checkRefused holds a refused command to refused-nothing: a command that
// ended RC=8 for a single system changed nothing there (its staging disk
// aside: the upload is how it got there), and one refused before reaching
// any system changed none of the principal's tables. What a fault hit is
// left out: there the fault, not the refusal, made the change.
func (r *runner) checkRefused(step int, out *stepOutcome, before map[string]string, tablesBefore string) {
	if out.result.RC != 8 || before == nil {
		return
	}
	if out.fleet == nil || len(out.fleet.Systems) == 0 {
		if !out.faulted[""] && tablesBefore != "" && r.tablesSeen != tablesBefore {
			r.violate(InvRefusedNothing, step, "", "the command was refused (RC=8) and the principal's tables changed")
		}
		return
	}
	if len(out.fleet.Targets) != 1 {
		return
	}
	s := out.fleet.Targets[0]
	if was, ok := before[s]; ok && !out.faulted[s] && !out.faulted[""] && r.seen[s] != was {
		r.violate(InvRefusedNothing, step, s, "the command was refused (RC=8) for the system and its test build, production or VM SYSSUF changed")
	}
}

// generational is an optional capability of a system's fs (sim/memfs):
// a count that moves on at every change, so that an unchanged system's
// state is not read and hashed again after every step.
type generational interface{ Generation() uint64 }

// readState is a system's state as read at a generation of its fs.
type readState struct {
	gen  uint64
	st   *nodeState
	prod map[string]string
}

// stateOf is the system's state and production, read again only when
// its fs changed since the last read (always, on an fs that does not say).
func (r *runner) stateOf(name string) (*nodeState, map[string]string, error) {
	g, counts := r.nodes[name].Sys.FS().(generational)
	var gen uint64
	if counts {
		gen = g.Generation() // before the read: a change during it is seen next time
		if c, ok := r.states[name]; ok && c.gen == gen {
			return c.st, c.prod, nil
		}
	}
	st, err := r.readNode(name)
	if err != nil {
		return nil, nil, fmt.Errorf("the system's state cannot be read: %v", err)
	}
	var prod map[string]string
	if st.side != "" {
		if prod, err = r.production(name, st); err != nil {
			return nil, nil, fmt.Errorf("production cannot be read: %v", err)
		}
	}
	if counts {
		if r.states == nil {
			r.states = map[string]readState{}
		}
		r.states[name] = readState{gen: gen, st: st, prod: prod}
	}
	return st, prod, nil
}

// nodeState is what a system says of itself: VM SYSSUF's CMS row, the
// marks on its system row, and its files.
type nodeState struct {
	level, state, prod, side, loading string
	local                             map[string]bool   // components with local service
	test                              map[string]string // "COMP AREA FN FT" -> SHA-256
	comps                             []string          // components in VM SYSSUF
}

// readNode reads a system's state without writing anything and without the
// agent's lock: a crashed or stalled job may hold it.
func (r *runner) readNode(name string) (*nodeState, error) {
	n := r.nodes[name]
	env := n.Env
	t, err := n.Sys.Sysuf()
	if err != nil {
		return nil, err
	}
	get := func(key, tag string) string {
		en, _ := t.Get(key)
		v, _ := en.Get(tag)
		return v
	}
	st := &nodeState{level: get("CMS", agent.TagLevel), state: get("CMS", agent.TagState), prod: get("CMS", agent.TagProd),
		side: get(agent.SystemKey, agent.TagProdSide), loading: get(agent.SystemKey, agent.TagLoading),
		local: map[string]bool{}, test: map[string]string{}}
	for _, en := range t.List() {
		if en.Key() == agent.SystemKey {
			continue
		}
		st.comps = append(st.comps, en.Key())
		if v, _ := en.Get(agent.TagLocal); v != "" {
			st.local[en.Key()] = true
		}
	}
	p, err := n.Sys.FilePool(agent.Pool)
	if err != nil {
		return nil, err
	}
	for _, c := range st.comps {
		if err := inventory.Walk(p, c, func(area string) cms.DirID { return agent.AreaDir(env.Release, c, area) }, func(part servlink.Part) error {
			st.test[c+" "+part.Area+" "+part.File] = part.SHA256
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// checkNode holds one system to production-whole and test-build-whole.
func (r *runner) checkNode(step int, name string, partsOf func(rel, lvl string) (map[string]string, error)) {
	st, prod, err := r.stateOf(name)
	if err != nil {
		r.violate(InvTablesParse, step, name, "%v", err)
		return
	}
	r.seen[name] = st.fingerprint(prod)
	if st.loading == "" && st.level != "" && st.level != agent.None {
		want, err := partsOf(r.nodes[name].Env.Release, st.level)
		if err != nil {
			r.violate(InvTestBuildWhole, step, name, "level %s of its test build is not on the principal: %v", st.level, err)
		} else if d := partsDiff(st.test, want, st.local); d != "" && !r.earlierRevision(r.nodes[name].Env.Release, st) {
			r.violate(InvTestBuildWhole, step, name, "the test build is not level %s, and no LOAD is marked as unfinished: %s", st.level, d)
		}
	}
	if st.side != "" && st.prod != "" && st.prod != agent.None {
		want, err := partsOf(r.nodes[name].Env.Release, st.prod)
		if err != nil {
			r.violate(InvProductionWhole, step, name, "level %s in production is not on the principal: %v", st.prod, err)
			return
		}
		got := prod
		build := map[string]string{}
		for k, v := range want {
			if f := strings.Fields(k); len(f) == 4 && f[1] == servlink.AreaBuild {
				build[f[0]+" "+f[2]+" "+f[3]] = v
			}
		}
		if d := partsDiff(got, build, st.local); d != "" {
			r.violate(InvProductionWhole, step, name, "production side %s is not level %s's BUILD parts: %s", st.side, st.prod, d)
		}
	}
}

// remember records parts as a revision of lvl, if it is a new one.
func (r *runner) remember(relLevel string, parts map[string]string) {
	if r.revisions == nil {
		r.revisions = map[string][]map[string]string{}
	}
	revs := r.revisions[relLevel]
	if len(revs) == 0 || !maps.Equal(revs[len(revs)-1], parts) {
		r.revisions[relLevel] = append(revs, parts)
	}
}

// earlierRevision reports that a test build is whole at an earlier
// revision of its level, one a system was at in an earlier step.
func (r *runner) earlierRevision(release string, st *nodeState) bool {
	revs := r.revisions[release+" "+st.level]
	for _, parts := range revs[:max(len(revs)-1, 0)] {
		if partsDiff(st.test, parts, st.local) == "" {
			return true
		}
	}
	return false
}

// production hashes the live production side: "COMP FN FT" -> SHA-256.
func (r *runner) production(name string, st *nodeState) (map[string]string, error) {
	n := r.nodes[name]
	p, err := n.Sys.FilePool(agent.Pool)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, c := range st.comps {
		a, err := p.Dir(agent.ProdDir(n.Env.Release, st.side, c))
		if errors.Is(err, cms.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files, err := a.List()
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			sum, err := fileSHA(a, f.ID)
			if err != nil {
				return nil, err
			}
			out[c+" "+f.ID.Name()] = sum
		}
	}
	return out, nil
}

// partsDiff says how got differs from want, leaving out the parts of
// components with local service ("" when they agree).
func partsDiff(got, want map[string]string, local map[string]bool) string {
	var d []string
	skip := func(k string) bool { return local[strings.Fields(k)[0]] }
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if skip(k) {
			continue
		}
		switch g, ok := got[k]; {
		case !ok:
			d = append(d, k+" missing")
		case g != want[k]:
			d = append(d, k+" differs")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok && !skip(k) {
			d = append(d, k+" not in the level")
		}
	}
	if len(d) > 4 {
		d = append(d[:4], fmt.Sprintf("and %d more", len(d)-4))
	}
	return strings.Join(d, ", ")
}

// checkPrincipalTables holds the principal's tables to reading whole, and
// returns their entries, for refused-nothing.
func (r *runner) checkPrincipalTables(step int) string {
	fe := &fleet.Env{Env: r.penv}
	var b strings.Builder
	for _, name := range r.releaseTables() {
		rel, name, _ := strings.Cut(name, " ")
		st, kind, err := fe.TableStore(rel, name)
		if err != nil {
			continue // the release is not initialized yet
		}
		t, err := kind.Read(st)
		if err != nil && !errors.Is(err, table.ErrNotFound) {
			r.violate(InvTablesParse, step, "", "%s: %v", kind.File.Name(), err)
		}
		if t != nil {
			for _, en := range t.List() {
				fmt.Fprintln(&b, name, en)
			}
		}
	}
	return b.String()
}

// releaseTables are the principal's tables as "<release> <table>": the
// scenario release's, then the SVCSTAT and ROLLOUT of each other release
// the principal carries (SYSSTAT and NAMES are the principal's, once).
func (r *runner) releaseTables() []string {
	var out []string
	for _, name := range fleet.Tables() {
		out = append(out, r.sc.Release+" "+name)
	}
	for _, rel := range r.sc.releases()[1:] {
		out = append(out, rel+" "+table.SvcStat().Name, rel+" "+fleet.RolloutTable().Name)
	}
	return out
}

// fingerprint is everything refused-nothing compares of a system: VM
// SYSSUF's rows and marks, its test build and its production.
func (st *nodeState) fingerprint(prod map[string]string) string {
	var b strings.Builder
	fmt.Fprintln(&b, st.level, st.state, st.prod, st.side, st.loading, slices.Sorted(maps.Keys(st.local)))
	for _, m := range []map[string]string{st.test, prod} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintln(&b, k, m[k])
		}
		b.WriteString("--\n")
	}
	return b.String()
}

// stepOutcome is what the invariants need of a command's outcome.
type stepOutcome struct {
	result  msg.Result
	fleet   *fleet.Outcome
	faulted map[string]bool // systems a fault hit during the step
}

// checkOutcome holds a command's outcome to sysstat-agrees, failure-named
// and no-panic.
func (r *runner) checkOutcome(step int, out *stepOutcome) {
	for _, l := range out.result.Lines {
		if strings.Contains(l.Text, "CSMAGENT failed:") || strings.Contains(l.Text, "panic") {
			r.violate(InvNoPanic, step, "", "%s", l)
		}
	}
	if out.result.RC >= 8 && !slices.ContainsFunc(out.result.Lines, func(l msg.Line) bool { return l.Sev == msg.Error || l.Sev == msg.Severe }) {
		r.violate(InvFailureNamed, step, "", "the command ended RC=%d with no error message", out.result.RC)
	}
	r.faults.mu.Lock()
	killed := r.faults.killed
	r.faults.mu.Unlock()
	if out.fleet == nil || killed {
		return // a killed SERVMGR reports nothing: the next command is its restart
	}
	sys, err := (&fleet.Env{Env: r.penv}).ReadTable(r.sc.Release, "SYSSTAT")
	if err != nil {
		r.violate(InvTablesParse, step, "", "SYSSTAT: %v", err)
		return
	}
	for _, so := range out.fleet.Systems {
		if !so.OK {
			if !slices.ContainsFunc(so.Lines, func(l msg.Line) bool { return l.Sev == msg.Error || l.Sev == msg.Severe }) {
				r.violate(InvFailureNamed, step, so.System, "the system failed with no error message")
			}
			continue
		}
		if _, ok := r.nodes[so.System]; !ok {
			continue
		}
		st, err := r.readNode(so.System)
		if err != nil {
			continue // checkNode reports it
		}
		en, _ := sys.Get(so.System)
		get := func(tag string) string { v, _ := en.Get(tag); return v }
		if get("SRVLVL") != st.level || get("STATE") != st.state {
			r.violate(InvSysstatAgrees, step, so.System, "SYSSTAT records level %s %s, the system is at %s %s",
				get("SRVLVL"), get("STATE"), st.level, st.state)
		}
		if prod := get("PROD"); prod != "" && prod != st.prod {
			r.violate(InvSysstatAgrees, step, so.System, "SYSSTAT records %s in production, the system has %s", prod, st.prod)
		}
	}
}

// fileSHA is the SHA-256 of a file, hex.
func fileSHA(a cms.FileArea, id cms.FileID) (string, error) {
	var sum string
	err := cms.ReadFile(a, id, func(rd io.Reader) error {
		_, s, err := servlink.HashReader(rd)
		sum = s
		return err
	})
	return sum, err
}
