package fleet

import (
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// scope is what a managed-side operand reaches: the release's levels, the
// level it names (if any), the System Status Table and the systems the
// target names.
type scope struct {
	levels     *table.Store
	levelTable *table.Table // the Service Level Table as read, for a conditional update
	level      table.Entry
	sys        *table.Table
	systems    []string
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
	sc := &scope{levels: st, levelTable: levels}
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
