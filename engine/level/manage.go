package level

import (
	"errors"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// Setlock is SERVMGR SRVLVL SETLOCK vrm level ON|OFF: the update control
// lock that keeps a level's content as it is.
func Setlock(e *Env, vrm, level string, on bool) (msg.Result, error) {
	var res msg.Result
	c, err := e.begin(vrm, level)
	if err != nil {
		return res, err
	}
	defer c.unlock()
	st, en, level := c.st, c.en, c.en.Key()
	want := map[bool]string{true: "ON", false: "OFF"}[on]
	if level == BaseLevel && !on {
		return res, refuseBase(vrm, "unlocked")
	}
	if on {
		if err := mustBeWhole(en, "SETLOCK ON"); err != nil {
			return res, err
		}
	}
	if get(en, tagLock) == want {
		res.Addf(msg.CSM2704W, level, vrm, map[bool]string{true: "locked", false: "unlocked"}[on])
		return res, nil
	}
	if _, err := table.SvcStat().Update(st, c.t, func(t *table.Table) error {
		return t.Modify(level, func(x *table.Entry) { x.Set(tagLock, want) })
	}); err != nil {
		return res, err
	}
	if on {
		res.Addf(msg.CSM2702I, level, vrm)
	} else {
		res.Addf(msg.CSM2703I, level, vrm)
	}
	return res, nil
}

// Delete is SERVMGR SRVLVL DELETE vrm level. It is refused for BASE, for a
// level under the update control lock ("SETLOCK stops further updates",
// and a delete is one), while a system is at the level, and while another
// level is based on it.
func Delete(e *Env, vrm, level string) (msg.Result, error) {
	var res msg.Result
	c, err := e.begin(vrm, level)
	if err != nil && msg.IsRefusal(err) && msg.LinesOf(err)[0].ID == "CSM2710E" {
		return e.eraseOrphan(vrm, level, err)
	}
	if err != nil {
		return res, err
	}
	defer c.unlock()
	st, t, level := c.st, c.t, c.en.Key()
	if level == BaseLevel {
		return res, refuseBase(vrm, "deleted")
	}
	var children []string
	for _, x := range t.List() {
		if strings.EqualFold(get(x, tagBasedOn), level) {
			children = append(children, x.Key())
		}
	}
	if len(children) > 0 {
		return res, Refuse(msg.CSM2717E, level, vrm, strings.Join(children, " "))
	}
	systems, err := e.systemsAt(vrm, level)
	if err != nil {
		return res, err
	}
	if len(systems) > 0 {
		return res, Refuse(msg.CSM2716E, level, vrm, len(systems), strings.Join(systems, " "))
	}
	// The lock last: when it is all that stands in the way, the SETLOCK OFF
	// that CSM2714E advises is enough.
	if err := mustBeUnlocked(c.en, vrm); err != nil {
		return res, err
	}
	// The table first, on condition of the generation the checks read: if
	// it moved on, nothing is erased.
	if _, err := table.SvcStat().Update(st, t, func(t *table.Table) error {
		for _, x := range t.List() {
			if strings.EqualFold(get(x, tagBasedOn), level) {
				return Refuse(msg.CSM2717E, level, vrm, x.Key())
			}
		}
		return t.Delete(level)
	}); err != nil {
		return res, err
	}
	p, err := e.Pool()
	if err != nil {
		return res, err
	}
	if err := p.EraseTree(LevelDir(vrm, level), Admin); err != nil && !errors.Is(err, cms.ErrNotFound) {
		return res, err
	}
	res.Addf(msg.CSM2701I, level, vrm)
	return res, nil
}

// eraseOrphan finishes a DELETE killed after its table update: the level
// is gone from the table but its directories are not. Without them it is
// refused as unknown (notDefined).
func (e *Env) eraseOrphan(vrm, level string, notDefined error) (msg.Result, error) {
	var res msg.Result
	unlock, err := e.lockRelease(vrm)
	if err != nil {
		return res, err
	}
	defer unlock()
	if _, t, err := e.ReadLevels(vrm); err != nil {
		return res, err
	} else if _, ok := t.Get(level); ok {
		return res, Refuse(msg.CSM0000S, "service level "+level+" was added meanwhile; enter the DELETE again")
	}
	p, err := e.Pool()
	if err != nil {
		return res, err
	}
	dir := LevelDir(vrm, level)
	files, _, err := countTree(p, dir, nil)
	if errors.Is(err, cms.ErrNotFound) {
		return res, notDefined
	}
	if err != nil {
		return res, err
	}
	if err := p.EraseTree(dir, Admin); err != nil {
		return res, err
	}
	res.Addf(msg.CSM2706I, dir.String(), files)
	res.Addf(msg.CSM2701I, strings.ToUpper(level), vrm)
	return res, nil
}

// systemsAt lists the managed systems of vrm recorded at level.
func (e *Env) systemsAt(vrm, level string) ([]string, error) {
	a, err := e.area(AdminTop())
	if err != nil {
		return nil, err
	}
	t, err := table.SysStat().Read(table.NewStore(a, e.Locker))
	if errors.Is(err, table.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range t.List() {
		if get(s, "RELEASE") == vrm && strings.EqualFold(get(s, "SRVLVL"), level) {
			out = append(out, s.Key())
		}
	}
	return out, nil
}

// Query is SERVMGR SRVLVL QUERY vrm [level|ALL]: the Service Level Table
// in aligned columns.
func Query(e *Env, vrm, level string) (msg.Result, error) {
	var res msg.Result
	_, t, err := e.ReadLevels(vrm)
	if err != nil {
		return res, err
	}
	rows := t.List()
	if level != "" && level != "ALL" {
		en, err := levelEntry(t, vrm, level)
		if err != nil {
			return res, err
		}
		rows = []table.Entry{en}
	}
	res.Addf(msg.CSM2740I, vrm)
	res.Addf(msg.CSM2741I, "LEVEL", "BASED ON", "STATE", "LOCK", "DESCRIPTION")
	for _, r := range rows {
		res.Addf(msg.CSM2741I, r.Key(), get(r, tagBasedOn), get(r, tagState), get(r, tagLock), get(r, tagDesc))
	}
	return res, nil
}

// Vmfsetup is SERVMGR SRVLVL VMFSETUP vrm level comp: what VMFSETUP with
// the level's CSM PPF would access, in order.
func Vmfsetup(e *Env, vrm, level, comp string) (msg.Result, error) {
	var res msg.Result
	_, t, err := e.ReadLevels(vrm)
	if err != nil {
		return res, err
	}
	en, err := levelEntry(t, vrm, level)
	if err != nil {
		return res, err
	}
	level = en.Key()
	comps, err := e.components(vrm, level)
	if err != nil {
		return res, err
	}
	if !slices.Contains(comps, comp) {
		return res, Refuse(msg.CSM2723E, comp, vrm)
	}
	res.Addf(msg.CSM2744I, comp, level)
	letters := "DEFGHIJ"
	i := 0
	for _, area := range setupOrder() {
		res.Addf(msg.CSM2745I, i+1, AreaDir(vrm, level, comp, area).String(), string(letters[i]))
		i++
	}
	res.Addf(msg.CSM2745I, i+1, LevelDir(vrm, level).String(), string(letters[i]))
	return res, nil
}
