package fleet

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// ServcheckRequest is SYSTEM SERVCHECK vrm system|nickname|ALL.
type ServcheckRequest struct {
	VRM    string
	Target string
}

// Servcheck is SYSTEM SERVCHECK: each system's inventory against the level
// SYSSTAT records for it, part by part.
func Servcheck(ctx context.Context, e *Env, w *Wire, r ServcheckRequest) (Outcome, error) {
	sc, err := e.scope(w, "SYSTEM SERVCHECK", r.VRM, "", r.Target)
	if err != nil {
		return Outcome{Targets: sc.names()}, err
	}
	vrm, sys, systems := r.VRM, sc.sys, sc.systems
	want := map[string]map[string]string{}
	for _, s := range systems {
		en, _ := sys.Get(s)
		lvl := get(en, tagLevel)
		if sc.foreign(s) != nil {
			continue // its level is of another release: refused below
		}
		if _, ok := want[lvl]; !ok {
			if want[lvl], err = level.Parts(e.Env, vrm, lvl); err != nil {
				return Outcome{Targets: systems}, err
			}
		}
	}
	outs := fanOut(systems, w.workers(), func(s string) SystemOutcome {
		en, _ := sys.Get(s)
		lvl := get(en, tagLevel)
		out := SystemOutcome{System: s}
		if lines := sc.foreign(s); lines != nil {
			out.Lines = lines
			return out
		}
		inv, err := query(ctx, e, w, en, &out)
		if err != nil {
			out.Lines = append(out.Lines, level.Lines(err)...)
			return out
		}
		out.Drift = drift(want[lvl], inv)
		out.Lines = append(out.Lines, driftLines(s, lvl, len(want[lvl]), out.Drift)...)
		status := "NODRIFT"
		if len(out.Drift) > 0 {
			status = "DRIFT"
		}
		out.update = map[string]string{tagStatus: status}
		out.OK = true // a drift report is a successful check
		return out
	})
	res := Outcome{Targets: systems, Systems: outs}
	e.record(&res.Result, outs)
	return res, nil
}

// query runs CSMAGENT QUERY on a system and reads the inventory it wrote.
func query(ctx context.Context, e *Env, w *Wire, en table.Entry, out *SystemOutcome) (*table.Table, error) {
	ss, err := w.open(ctx, en, out)
	if err != nil {
		return nil, err
	}
	defer ss.conn.Close()
	if err := ss.confirm(en); err != nil {
		return nil, err
	}
	job, _, err := ss.job(proto.Query{}, nil, 0) // QUERY has no phases to end
	if err != nil {
		return nil, err
	}
	if job.RC >= 8 {
		return nil, level.Refuse(msg.CSM3055E, out.System, "QUERY", job.RC, why(out))
	}
	var b bytes.Buffer
	if err := ss.conn.Get(ctx, proto.FileName(proto.Inventory()), &b); err != nil {
		return nil, err
	}
	return table.Parse(proto.Inventory().Name(), &b)
}

// drift compares a level's parts with a system's inventory, in part order.
func drift(want map[string]string, inv *table.Table) []Drift {
	have := map[string]string{}
	for _, en := range inv.List() {
		if strings.Count(en.Key(), " ") >= 3 { // part rows; component rows have one word
			have[en.Key()] = get(en, "SHA256")
		}
	}
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
	var out []Drift
	for _, k := range keys {
		w, inLevel := want[k]
		h, onSystem := have[k]
		switch {
		case !onSystem:
			out = append(out, Drift{Part: k, Problem: "missing"})
		case !inLevel:
			out = append(out, Drift{Part: k, Problem: "not in the level"})
		case w != h:
			out = append(out, Drift{Part: k, Problem: fmt.Sprintf("changed (SHA-256 %.12s, level has %.12s)", h, w)})
		}
	}
	return out
}

// driftLines are SERVCHECK's lines for one system: one per drifted part,
// or that there is none.
func driftLines(system, lvl string, parts int, d []Drift) []msg.Line {
	if len(d) == 0 {
		return []msg.Line{msg.Messagef(msg.CSM3058I, system, lvl, parts)}
	}
	lines := make([]msg.Line, len(d))
	for i, x := range d {
		lines[i] = msg.Messagef(msg.CSM3059W, system, lvl, x.Part, x.Problem)
	}
	return lines
}
