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
	name       string // the command: SRVLVL SEND
	vrm        string
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
	sc := &scope{levels: st, levelTable: levels, name: name, vrm: vrm}
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
	// A system named alone that runs another release is refused whole; one
	// reached through a nickname is refused on its own (sc.foreign) while
	// the nickname's other systems go on, as any system that fails does.
	if en, ok := sc.sys.Get(target); ok && get(en, tagRelease) != vrm {
		id, args := sc.otherRelease(en.Key())
		return nil, level.Refuse(id, args...)
	}
	if !w.ready() {
		return sc, level.Refuse(msg.CSM3050E, name)
	}
	return sc, nil
}

// foreign is the outcome lines of a system the command reaches (through a
// nickname) that runs another release than the command's: it is refused
// on its own, nothing sent to it and nothing recorded. nil for a system
// of the command's release.
func (sc *scope) foreign(system string) []msg.Line {
	en, _ := sc.sys.Get(system)
	if get(en, tagRelease) == sc.vrm {
		return nil
	}
	id, args := sc.otherRelease(system)
	return []msg.Line{msg.Messagef(id, args...)}
}

// otherRelease is the refusal of a system of another release: a SEND's
// names the level it would not send, the other commands' say how to
// enter the command for the system's own release.
func (sc *scope) otherRelease(system string) (string, []any) {
	en, _ := sc.sys.Get(system)
	rel := get(en, tagRelease)
	if sc.level.Key() != "" {
		return msg.CSM2830E, []any{system, rel, sc.level.Key(), sc.vrm, rel}
	}
	return msg.CSM2831E, []any{system, rel, sc.vrm, sc.name, rel, system}
}
