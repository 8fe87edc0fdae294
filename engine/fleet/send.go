package fleet

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// Send is SRVLVL SEND vrm level system|nickname|ALL (TEST|STABLE [COND]:
// the level's package goes to every system, the agent validates and loads
// it, and SYSSTAT records each system's result. STABLE, once every system
// loaded it, marks the level STABLE and locked. With roll, the systems
// are reached in a staged roll-out (see Rollout).
func Send(e *Env, w *Wire, vrm, lvl, target string, stable, cond bool, roll *Rollout) (msg.Result, []string, error) {
	var res msg.Result
	sc, err := e.scope(w, "SRVLVL SEND", vrm, lvl, target)
	if err != nil {
		return res, sc.names(), err
	}
	lv, sys := sc.level, sc.sys
	lvl = lv.Key()
	if _, ok := lv.Get("PACKAGE"); !ok {
		return res, sc.systems, level.Refuse(msg.CSM2760E, lvl, vrm, vrm, lvl)
	}
	pkg, err := e.Area(level.PackageDir(vrm, lvl))
	if err != nil {
		return res, sc.systems, err
	}
	files, err := pkg.List()
	if err != nil {
		return res, sc.systems, err
	}
	mode := map[bool]string{true: "STABLE", false: "TEST"}[stable]
	words := "LOAD " + lvl + " " + mode
	if cond {
		words += " COND " + get(lv, "BASEDON")
	}
	o := &op{name: "SRVLVL SEND", id: rolloutID("SEND", mode, lvl, target), vrm: vrm, sc: sc,
		levelOf: func(string) string { return lvl }}
	o.do = func(w *Wire, s string) outcome {
		en, _ := sys.Get(s)
		o := outcome{system: s, update: map[string]string{tagStatus: "SENDFAILED"}}
		sent := w.phase(s, PhaseTransfer, sendPhases) // from the dial: an unreachable system fails here
		ss, err := w.open(en)
		if err != nil {
			o.lines = level.Lines(err)
			sent(false, err.Error())
			return o
		}
		defer ss.conn.Close()
		var bytesSent int64
		for _, f := range files {
			r := &reopener{a: pkg, id: f.ID}
			err := ss.conn.Put(w.ctx(), f.ID.FN()+"."+f.ID.FT(), r, f.Bytes)
			r.Close()
			if err != nil {
				o.lines = []msg.Line{msg.Messagef(msg.CSM3052E, s, err.Error())}
				sent(false, err.Error())
				return o
			}
			bytesSent += f.Bytes
		}
		sent(true, fmt.Sprintf("%d files, %d bytes", len(files), bytesSent))
		o.lines = append(o.lines, msg.Messagef(msg.CSM3053I, s, lvl, ss.addr, len(files), bytesSent))
		rc, lines, err := ss.job(e, words, sendPhases, 1)
		if err != nil {
			o.lines = append(o.lines, level.Lines(err)...)
			return o
		}
		if rc >= 8 {
			o.lines = append(o.lines, msg.Messagef(msg.CSM3055E, s, "LOAD", rc, lastLine(lines)))
			o.update[tagStatus] = "LOADFAILED"
			return o
		}
		o.ok = true
		o.lines = append(o.lines, msg.Messagef(msg.CSM3056I, s, lvl, mode))
		o.update = map[string]string{tagLevel: lvl, tagState: mode, tagStatus: "LOADED"}
		return o
	}
	if stable {
		o.finish = func(res *msg.Result) error {
			if _, err := table.SvcStat.Update(sc.levels, nil, func(t *table.Table) error {
				return t.Modify(lvl, func(x *table.Entry) { x.Set("STATE", "STABLE"); x.Set("LOCK", "ON") })
			}); err != nil {
				return err
			}
			res.Addf(msg.CSM3061I, lvl, vrm)
			return nil
		}
	}
	return o.run(e, w, roll)
}

// record adds each system's lines to res, writes the SYSSTAT changes in
// one update and returns how many systems succeeded.
func (e *Env) record(res *msg.Result, outs []outcome) int {
	good := 0
	for _, o := range outs {
		res.Add(o.lines...)
		if o.ok {
			good++
		}
	}
	st, err := e.sysStat()
	if err == nil {
		_, err = table.SysStat.Update(st, nil, func(t *table.Table) error {
			for _, o := range outs {
				if _, ok := t.Get(o.system); ok && len(o.update) > 0 {
					if err := t.Set(o.system, o.update); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	if err != nil {
		res.Add(level.Lines(err)...)
	}
	return good
}

func lastLine(lines []string) string {
	// The agent's first error says why; its last line only says the job ended.
	for _, sev := range []byte{'S', 'E', 'W'} {
		for _, l := range lines {
			if id, _, _ := strings.Cut(strings.TrimSpace(l), " "); len(id) == 8 && id[7] == sev {
				return strings.TrimSpace(l)
			}
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return "see the system's log"
}

// Put2Prod is SYSTEM PUT2PROD vrm system|nickname|ALL: each system copies
// its STABLE test build into production. With roll, the systems are
// reached in a staged roll-out (see Rollout).
func Put2Prod(e *Env, w *Wire, vrm, target string, roll *Rollout) (msg.Result, []string, error) {
	var res msg.Result
	sc, err := e.scope(w, "SYSTEM PUT2PROD", vrm, "", target)
	if err != nil {
		return res, sc.names(), err
	}
	sys := sc.sys
	levelOf := func(s string) string { en, _ := sys.Get(s); return get(en, tagLevel) }
	o := &op{name: "SYSTEM PUT2PROD", id: rolloutID("PUT2PROD", vrm, target), vrm: vrm, sc: sc, levelOf: levelOf}
	o.do = func(w *Wire, s string) outcome {
		en, _ := sys.Get(s)
		lvl := get(en, tagLevel)
		o := outcome{system: s}
		if get(en, tagState) != "STABLE" {
			o.lines = []msg.Line{msg.Messagef(msg.CSM3063E, s, lvl, vrm, vrm, lvl, s)}
			return o
		}
		ss, err := w.open(en)
		if err != nil {
			o.lines = level.Lines(err)
			return o
		}
		defer ss.conn.Close()
		rc, lines, err := ss.job(e, "PUT2PROD "+lvl, put2prodPhases, 0)
		if err != nil {
			o.lines = level.Lines(err)
			return o
		}
		if rc >= 8 {
			o.lines = []msg.Line{msg.Messagef(msg.CSM3055E, s, "PUT2PROD", rc, lastLine(lines))}
			o.update = map[string]string{tagStatus: "P2PFAILED"}
			return o
		}
		o.ok = true
		o.lines = []msg.Line{msg.Messagef(msg.CSM3057I, s, lvl)}
		o.update = map[string]string{"PROD": lvl, tagStatus: "PROD"}
		return o
	}
	return o.run(e, w, roll)
}

// Servcheck is SYSTEM SERVCHECK vrm system|nickname|ALL: each system's
// inventory against the level SYSSTAT records for it, part by part.
func Servcheck(e *Env, w *Wire, vrm, target string) (msg.Result, []string, error) {
	var res msg.Result
	sc, err := e.scope(w, "SYSTEM SERVCHECK", vrm, "", target)
	if err != nil {
		return res, sc.names(), err
	}
	sys, systems := sc.sys, sc.systems
	want := map[string]map[string]string{}
	for _, s := range systems {
		en, _ := sys.Get(s)
		lvl := get(en, tagLevel)
		if _, ok := want[lvl]; !ok {
			if want[lvl], err = level.Parts(e.Env, vrm, lvl); err != nil {
				return res, systems, err
			}
		}
	}
	outs := w.fanOut(systems, func(s string) outcome {
		en, _ := sys.Get(s)
		lvl := get(en, tagLevel)
		o := outcome{system: s}
		ss, err := w.open(en)
		if err != nil {
			o.lines = level.Lines(err)
			return o
		}
		defer ss.conn.Close()
		rc, lines, err := ss.job(e, "QUERY", nil, 0)
		if err == nil && rc >= 8 {
			err = level.Refuse(msg.CSM3055E, s, "QUERY", rc, lastLine(lines))
		}
		var inv *table.Table
		if err == nil {
			var b bytes.Buffer
			if err = ss.conn.Get(w.ctx(), "CSMAGENT.INVENTRY", &b); err == nil {
				inv, err = table.Parse("CSMAGENT INVENTRY", &b)
			}
		}
		if err != nil {
			o.lines = level.Lines(err)
			return o
		}
		o.lines, o.ok = drift(s, lvl, want[lvl], inv)
		status := "NODRIFT"
		if !o.ok {
			status = "DRIFT"
		}
		o.update = map[string]string{tagStatus: status}
		o.ok = true // a drift report is a successful check
		return o
	})
	e.record(&res, outs)
	return res, systems, nil
}

// drift compares a level's parts with a system's inventory.
func drift(system, lvl string, want map[string]string, inv *table.Table) ([]msg.Line, bool) {
	have := map[string]string{}
	for _, en := range inv.List() {
		if strings.Count(en.Key(), " ") >= 3 { // part rows; component rows have one word
			have[en.Key()] = get(en, "SHA256")
		}
	}
	var lines []msg.Line
	keys := make([]string, 0, len(want)+len(have))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		w, inLevel := want[k]
		h, onSystem := have[k]
		switch {
		case !onSystem:
			lines = append(lines, msg.Messagef(msg.CSM3059W, system, lvl, k, "missing"))
		case !inLevel:
			lines = append(lines, msg.Messagef(msg.CSM3059W, system, lvl, k, "not in the level"))
		case w != h:
			lines = append(lines, msg.Messagef(msg.CSM3059W, system, lvl, k, fmt.Sprintf("changed (SHA-256 %.12s, level has %.12s)", h, w)))
		}
	}
	if len(lines) == 0 {
		return []msg.Line{msg.Messagef(msg.CSM3058I, system, lvl, len(want))}, true
	}
	return lines, false
}

// scope is what a managed-side operand reaches: the release's levels, the
// level it names (if any), the System Status Table and the systems the
// target names.
type scope struct {
	levels  *table.Store
	level   table.Entry
	sys     *table.Table
	systems []string
}

func (sc *scope) names() []string {
	if sc == nil {
		return nil
	}
	return sc.systems
}

// scope checks on the principal what can be checked there (release,
// level, systems and nicknames), then refuses with CSM3050E when there is
// no transport: the rest needs the managed systems. Its scope is returned
// with that refusal, so the command can still be logged per system.
func (e *Env) scope(w *Wire, name, vrm, lvl, target string) (*scope, error) {
	st, levels, err := e.ReadLevels(vrm)
	if err != nil {
		return nil, err
	}
	sc := &scope{levels: st}
	if lvl != "" {
		var ok bool
		if sc.level, ok = levels.Get(lvl); !ok {
			return nil, level.Refuse(msg.CSM2710E, lvl, vrm)
		}
	}
	if _, sc.sys, err = e.readSystems(); err != nil {
		return nil, err
	}
	if sc.systems, err = e.resolve(vrm, target, sc.sys); err != nil {
		return nil, err
	}
	if !w.ready() {
		return sc, level.Refuse(msg.CSM3050E, name)
	}
	return sc, nil
}
