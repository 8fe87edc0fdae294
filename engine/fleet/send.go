package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// SendRequest is SRVLVL SEND vrm level system|nickname|ALL (TEST|STABLE
// [COND], with its roll-out options.
type SendRequest struct {
	VRM, Level string
	Target     string // a system, a nickname or ALL
	Stable     bool   // STABLE; else TEST
	Cond       bool   // load only where the system is still at the based-on level
	Rollout    *Rollout
}

// Send is SRVLVL SEND: the level's package goes to every system, the
// agent validates and loads it, and SYSSTAT records each system's result.
// STABLE, once every system loaded it, marks the level STABLE and locked.
// With a Rollout, the systems are reached in a staged roll-out.
func Send(ctx context.Context, e *Env, w *Wire, r SendRequest) (Outcome, error) {
	sc, err := e.scope(w, "SRVLVL SEND", r.VRM, r.Level, r.Target)
	if err != nil {
		return Outcome{Targets: sc.names()}, err
	}
	vrm, lv, sys := r.VRM, sc.level, sc.sys
	lvl := lv.Key()
	if _, ok := lv.Get("PACKAGE"); !ok {
		return Outcome{Targets: sc.systems}, level.Refuse(msg.CSM2760E, lvl, vrm, vrm, lvl)
	}
	pkg, err := e.Area(level.PackageDir(vrm, lvl))
	if err != nil {
		return Outcome{Targets: sc.systems}, err
	}
	files, err := pkg.List()
	if err != nil {
		return Outcome{Targets: sc.systems}, err
	}
	sums := knownSums(pkg)
	load := proto.Load{Level: lvl, Stable: r.Stable}
	if r.Cond {
		load.Cond = get(lv, "BASEDON")
	}
	mode := load.Mode()
	o := &op{name: "SRVLVL SEND", id: rolloutID("SEND", mode, lvl, r.Target), vrm: vrm, sc: sc,
		levelOf: func(string) string { return lvl }}
	if !w.Serial {
		o.transfers = make(chan struct{}, w.workers())
	}
	o.do = func(ctx context.Context, s string) SystemOutcome {
		en, _ := sys.Get(s)
		out := SystemOutcome{System: s, rollout: o.id, update: map[string]string{tagStatus: "SENDFAILED"}}
		release := o.sending(ctx)
		defer release()
		sent := w.phase(&out, proto.PhaseTransfer, sendPhases()) // from the dial: an unreachable system fails here
		ss, err := w.open(ctx, en, &out)
		if err != nil {
			out.Lines = level.Lines(err)
			sent(ended{line: firstLine(out.Lines), detail: err.Error()})
			return out
		}
		defer ss.conn.Close()
		if err := ss.confirm(en); err != nil {
			lines := level.Lines(err)
			out.Lines = append(out.Lines, lines...)
			sent(ended{line: firstLine(lines), detail: err.Error()})
			return out
		}
		var bytesSent int64
		for _, f := range files {
			rd := &reopener{a: pkg, id: f.ID, sum: sums[f.ID.Name()]}
			err := ss.conn.Put(ctx, proto.FileName(f.ID), rd, f.Bytes)
			rd.Close()
			if err != nil {
				out.Lines = []msg.Line{msg.Messagef(msg.CSM3052E, s, err.Error())}
				sent(ended{line: &out.Lines[0], bytes: bytesSent, detail: err.Error()})
				return out
			}
			bytesSent += f.Bytes
		}
		transferred := msg.Messagef(msg.CSM3053I, s, lvl, ss.addr, len(files), bytesSent)
		sent(ended{ok: true, line: &transferred, bytes: bytesSent, detail: fmt.Sprintf("%d files, %d bytes", len(files), bytesSent)})
		out.Lines = append(out.Lines, transferred)
		release() // the node validates and loads; the next system's transfer may begin
		job, done, err := ss.job(load, sendPhases(), 1)
		if err != nil {
			out.Lines = append(out.Lines, level.Lines(err)...)
			return out
		}
		if job.RC >= 8 {
			failed := msg.Messagef(msg.CSM3055E, s, "LOAD", job.RC, why(&out))
			done(failed)
			out.Lines = append(out.Lines, failed)
			out.update[tagStatus] = "LOADFAILED"
			return out
		}
		out.OK = true
		// Local service the LOAD replaced is said, not only logged on the
		// system: the SEND's RC is 4 for the system.
		for _, l := range job.Lines {
			if l.ID == "CSM3126W" {
				out.Lines = append(out.Lines, msg.Messagef(msg.CSM3068W, s, l.String()))
			}
		}
		state := mode
		if slices.ContainsFunc(job.Lines, func(l msg.Line) bool { return l.ID == "CSM3125I" }) {
			state = "STABLE" // the system had the level STABLE already and keeps it so
		}
		loaded := msg.Messagef(msg.CSM3056I, s, lvl, state)
		done(loaded)
		out.Lines = append(out.Lines, loaded)
		out.update = map[string]string{tagLevel: lvl, tagState: state, tagStatus: "LOADED"}
		return out
	}
	if r.Stable {
		o.finish = func(res *msg.Result) error {
			// On condition of the Service Level Table the SEND read: a level
			// changed meanwhile (serviced, packaged again) is not what the
			// systems loaded, and is not marked STABLE.
			if _, err := table.SvcStat().Update(sc.levels, sc.levelTable, func(t *table.Table) error {
				return t.Modify(lvl, func(x *table.Entry) { x.Set("STATE", "STABLE"); x.Set("LOCK", "ON") })
			}); err != nil {
				return err
			}
			res.Addf(msg.CSM3061I, lvl, vrm)
			return nil
		}
	}
	return o.run(ctx, e, w, r.Rollout)
}

// knownSums are the SHA-256s the package manifest lists for its SERVLINK
// files, by file name: each is sent to every system without being hashed
// again (transport.KnownSum), and each node's copy must match it. A
// manifest that cannot be read gives none: the files are hashed as they
// are sent, and the node's LOAD refuses the package with the reason.
func knownSums(pkg cms.FileArea) map[string]string {
	sums := map[string]string{}
	_ = cms.ReadFile(pkg, level.ManifestID, func(r io.Reader) error {
		var m servlink.Manifest
		if err := json.NewDecoder(io.LimitReader(r, servlink.MaxManifestSize)).Decode(&m); err != nil {
			return err
		}
		for _, ref := range m.Servlinks {
			if id, err := cms.ParseFileID(ref.File); err == nil {
				sums[id.Name()] = ref.SHA256
			}
		}
		return nil
	})
	return sums
}

// record adds each system's lines to res, writes the SYSSTAT changes in
// one update and returns how many systems succeeded.
func (e *Env) record(res *msg.Result, outs []SystemOutcome) int {
	good := 0
	for _, o := range outs {
		res.Add(o.Lines...)
		if o.OK {
			good++
		}
	}
	st, err := e.sysStat()
	if err == nil {
		// What the systems did is a fact to record whatever else changed
		// in SYSSTAT meanwhile: Apply reads again when another update came
		// between its read and its write.
		_, err = table.SysStat().Apply(st, func(t *table.Table) error {
			for _, o := range outs {
				if _, ok := t.Get(o.System); !ok {
					continue
				}
				if o.confirmed {
					if err := t.Modify(o.System, func(x *table.Entry) { x.Remove(tagContact) }); err != nil {
						return err
					}
				}
				if len(o.update) > 0 {
					if err := t.Set(o.System, o.update); err != nil {
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

// Put2ProdRequest is SYSTEM PUT2PROD vrm system|nickname|ALL, with its
// roll-out options.
type Put2ProdRequest struct {
	VRM     string
	Target  string
	Rollout *Rollout
}

// Put2Prod is SYSTEM PUT2PROD: each system copies its STABLE test build
// into production. With a Rollout, the systems are reached in a staged
// roll-out.
func Put2Prod(ctx context.Context, e *Env, w *Wire, r Put2ProdRequest) (Outcome, error) {
	sc, err := e.scope(w, "SYSTEM PUT2PROD", r.VRM, "", r.Target)
	if err != nil {
		return Outcome{Targets: sc.names()}, err
	}
	vrm, sys := r.VRM, sc.sys
	levelOf := func(s string) string { en, _ := sys.Get(s); return get(en, tagLevel) }
	o := &op{name: "SYSTEM PUT2PROD", id: rolloutID("PUT2PROD", vrm, r.Target), vrm: vrm, sc: sc, levelOf: levelOf}
	o.do = func(ctx context.Context, s string) SystemOutcome {
		en, _ := sys.Get(s)
		lvl := get(en, tagLevel)
		out := SystemOutcome{System: s, rollout: o.id}
		if get(en, tagState) != "STABLE" {
			out.Lines = []msg.Line{msg.Messagef(msg.CSM3063E, s, lvl, vrm, vrm, lvl, s)}
			return out
		}
		ss, err := w.open(ctx, en, &out)
		if err != nil {
			out.Lines = level.Lines(err)
			return out
		}
		defer ss.conn.Close()
		if err := ss.confirm(en); err != nil {
			out.Lines = append(out.Lines, level.Lines(err)...)
			return out
		}
		job, done, err := ss.job(proto.Put2Prod{Level: lvl}, put2prodPhases(), 0)
		if err != nil {
			out.Lines = append(out.Lines, level.Lines(err)...)
			return out
		}
		if job.RC >= 8 {
			failed := msg.Messagef(msg.CSM3055E, s, "PUT2PROD", job.RC, why(&out))
			done(failed)
			out.Lines = append(out.Lines, failed)
			out.update = map[string]string{tagStatus: "P2PFAILED"}
			return out
		}
		out.OK = true
		inProd := msg.Messagef(msg.CSM3057I, s, lvl)
		done(inProd)
		out.Lines = append(out.Lines, inProd)
		out.update = map[string]string{"PROD": lvl, tagStatus: "PROD"}
		return out
	}
	return o.run(ctx, e, w, r.Rollout)
}
