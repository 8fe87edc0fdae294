package level

import (
	"errors"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// AddRequest is SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text].
type AddRequest struct {
	VRM, Level, BasedOn string
	NoESM               bool // the level carries no external security manager
	Desc                string
}

// Add is SERVMGR SRVLVL ADD: a new TEST level whose directories are primed
// from the based-on level.
func Add(e *Env, r AddRequest) (msg.Result, error) {
	vrm, level, basedOn, noESM, desc := r.VRM, r.Level, r.BasedOn, r.NoESM, r.Desc
	var res msg.Result
	unlock, err := e.lockRelease(vrm)
	if err != nil {
		return res, err
	}
	defer unlock()
	if len(level) > MaxLevelName {
		return res, Refuse(msg.CSM2712E, level, MaxLevelName)
	}
	if _, err := cms.NewDirID(Pool, Space(vrm), level); err != nil {
		return res, Refuse(msg.CSM0000S, err.Error())
	}
	st, t, err := e.ReadLevels(vrm)
	if err != nil {
		return res, err
	}
	if _, ok := t.Get(level); ok {
		return res, Refuse(msg.CSM2711E, level, vrm)
	}
	if _, ok := t.Get(basedOn); !ok {
		return res, Refuse(msg.CSM2713E, basedOn, vrm)
	}
	if err := mustBeWhole(mustEntry(t, basedOn), "SRVLVL ADD based on it"); err != nil {
		return res, err
	}
	basedOn = mustEntry(t, basedOn).Key() // as the table spells it
	p, err := e.Pool()
	if err != nil {
		return res, err
	}
	from, to := LevelDir(vrm, basedOn), LevelDir(vrm, level)
	skip := func(d cms.DirID) bool { return len(d.Names()) >= 2 && d.Names()[1] == Packages }
	// Directories of a level the table does not have were left by an ADD
	// that was killed (or by a table recovered to before it): under the
	// release's lock nobody is making them, so they go, and the ADD runs
	// again from the start.
	orphanFiles, orphanBlocks, err := countTree(p, to, nil)
	orphan := err == nil
	if err != nil && !errors.Is(err, cms.ErrNotFound) {
		return res, err
	}
	if err := e.checkRoom(p, vrm, from, skip, orphanBlocks); err != nil {
		return res, err
	}
	comps, err := e.components(vrm, basedOn)
	if err != nil {
		return res, err
	}

	if orphan {
		if err := p.EraseTree(to, Admin); err != nil {
			return res, err
		}
		res.Addf(msg.CSM2706I, to.String(), orphanFiles)
	}
	// From here on, a failure erases the new level: nothing stays half made.
	undo := func(err error) (msg.Result, error) {
		_ = p.EraseTree(to, Admin)
		return msg.Result{}, err
	}
	if err := copyTree(p, from, to, Admin, skip); err != nil {
		return undo(err)
	}
	files, _, err := countTree(p, to, nil)
	if err != nil {
		return undo(err)
	}
	if err := e.writeLevelTop(p, vrm, level, basedOn, desc, comps); err != nil {
		return undo(err)
	}
	esm := "-"
	if noESM {
		esm = "NONE"
	}
	// On condition of the generation the checks read, and checked again
	// under the table's lock: a concurrent change (an ADD of the same name,
	// a DELETE of the based-on level) makes this one fail cleanly.
	_, err = table.SvcStat().Update(st, t, func(t *table.Table) error {
		if _, ok := t.Get(level); ok {
			return Refuse(msg.CSM2711E, level, vrm)
		}
		if _, ok := t.Get(basedOn); !ok {
			return Refuse(msg.CSM2713E, basedOn, vrm)
		}
		return t.Add(table.NewEntry("SRVLVL", level, tagRelease, vrm, tagBasedOn, basedOn, tagState, stateTest,
			tagLock, "OFF", tagESM, esm, tagDesc, desc))
	})
	if err != nil {
		return undo(err)
	}
	res.Addf(msg.CSM2705I, level, basedOn, files)
	res.Addf(msg.CSM2700I, level, vrm, basedOn)
	return res, nil
}

func mustEntry(t *table.Table, key string) table.Entry {
	en, _ := t.Get(key)
	return en
}

// checkRoom refuses a copy of from that would not fit in the release's
// file space, less the blocks freed first, before anything is written.
func (e *Env) checkRoom(p cms.FilePool, vrm string, from cms.DirID, skip func(cms.DirID) bool, freed int64) error {
	_, need, err := countTree(p, from, skip)
	if err != nil {
		return err
	}
	need -= freed
	limit, used, err := p.Quota(Space(vrm))
	if err != nil {
		return err
	}
	if used+need > limit {
		return Refuse(msg.CSM0030E, Pool+":"+Space(vrm)+".", from.String(), need, limit-used)
	}
	if free := p.FreeBlocks(); need > free {
		return Refuse(msg.CSM0031E, "File pool "+Pool, from.String())
	}
	return nil
}
