package agent

import (
	"errors"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// sysuf is VM SYSSUF as read: its store (for the update) and its table.
type sysuf struct {
	st *table.Store
	t  *table.Table
}

// readSysuf reads VM SYSSUF from MAINTvrm 051D; a system without one is
// refused (CSM3100E).
func (e *Env) readSysuf() (*sysuf, error) {
	disk, err := e.Sys.Minidisk(e.maint(), SysufVaddr)
	if errors.Is(err, cms.ErrNotFound) {
		return nil, Refuse(msg.CSM3100E, e.maint()+" "+SysufVaddr)
	}
	if err != nil {
		return nil, err
	}
	st := table.NewStore(disk, e.Locker)
	t, err := Sysuf().Read(st)
	if errors.Is(err, table.ErrNotFound) {
		return nil, Refuse(msg.CSM3100E, disk.String())
	}
	if err != nil {
		return nil, err
	}
	return &sysuf{st: st, t: t}, nil
}

// SysufStore is where VM SYSSUF lives (MAINTvrm 051D), whether or not it
// parses: for checking and recovering a torn one.
func (e *Env) SysufStore() (*table.Store, error) {
	disk, err := e.Sys.Minidisk(e.maint(), SysufVaddr)
	if err != nil {
		return nil, err
	}
	return table.NewStore(disk, e.Locker), nil
}

// components lists the components of a SYSSUF table, sorted.
func components(t *table.Table) []string {
	var out []string
	for _, en := range t.List() {
		if en.Key() != SystemKey {
			out = append(out, strings.ToUpper(en.Key()))
		}
	}
	slices.Sort(out)
	return out
}

func (s *sysuf) components() []string { return components(s.t) }

func (s *sysuf) entry(comp string) (table.Entry, bool) { return s.t.Get(comp) }

func (s *sysuf) tag(comp, tag string) string {
	en, _ := s.t.Get(comp)
	return get(en, tag)
}

// update changes every component entry through fn and, if sys is not nil,
// the system entry, in one table update (one new generation), on condition
// that VM SYSSUF is as s read it (or as s last wrote it): a change made
// meanwhile by anyone else is refused, not overwritten.
func (s *sysuf) update(fn func(comp string, x *table.Entry), sys func(x *table.Entry)) error {
	return s.write(func(t *table.Table) error {
		for _, c := range components(t) {
			if err := t.Modify(c, func(x *table.Entry) { fn(c, x) }); err != nil {
				return err
			}
		}
		if sys == nil {
			return nil
		}
		if _, ok := t.Get(SystemKey); !ok {
			if err := t.Add(table.NewEntry(TagComp, SystemKey)); err != nil {
				return err
			}
		}
		return t.Modify(SystemKey, sys)
	})
}

// write is the conditional update of VM SYSSUF as s read it; s then holds
// the table as written, for the command's next update.
func (s *sysuf) write(fn func(t *table.Table) error) error {
	t, err := Sysuf().Update(s.st, s.t, fn)
	if err != nil {
		return err
	}
	s.t = t
	return nil
}

// prodSide is the live production side, "" when nothing is in production.
func (s *sysuf) prodSide() string { return s.tag(SystemKey, TagProdSide) }

// otherSide is the inactive production side: where PUT2PROD stages.
func otherSide(live string) string {
	if live == "A" {
		return "B"
	}
	return "A"
}

// Info reads the system's identity and VM SYSSUF, as INFO reports them.
// It changes nothing and takes no lock, so it answers while a job runs.
func Info(env *Env) (proto.SystemInfo, error) {
	if err := env.check(); err != nil {
		return proto.SystemInfo{}, err
	}
	s, err := env.readSysuf()
	if err != nil {
		return proto.SystemInfo{}, err
	}
	info := proto.SystemInfo{System: env.Sys.Name(), Release: env.Release, SSI: orNone(env.Sys.SSIName()),
		Level: orNone(s.tag("CMS", TagLevel))}
	comps := s.components()
	info.Managed = len(comps) > 0
	for _, c := range comps {
		if s.tag(c, TagManaged) != "YES" {
			info.Managed = false
		}
	}
	return info, nil
}

// Manage is SITE CSMAGENT MANAGE, sent by SERVMGR SYSTEM ADD: it sets
// :CSM_MANAGED YES for every component in VM SYSSUF, so that local
// SERVICE is refused from now on.
func Manage(env *Env) (msg.Result, error) {
	var res msg.Result
	n, err := setManaged(env, true)
	if err != nil {
		return res, err
	}
	res.Addf(msg.CSM3101I, env.Sys.Name(), n)
	return res, nil
}

// Managed is SERVMGR MANAGED OFF|ON typed on the managed system: OFF sets
// :CSM_MANAGED NO for every component (emergency local SERVICE allowed),
// ON sets it back to YES.
func Managed(env *Env, on bool) (msg.Result, error) {
	var res msg.Result
	n, err := setManaged(env, on)
	if err != nil {
		return res, err
	}
	res.Addf(msg.CSM2910I, map[bool]string{true: "ON", false: "OFF"}[on], yesNo(on), n)
	return res, nil
}

func setManaged(env *Env, on bool) (int, error) {
	unlock, err := env.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	s, err := env.readSysuf()
	if err != nil {
		return 0, err
	}
	err = s.update(func(_ string, x *table.Entry) { x.Set(TagManaged, yesNo(on)) }, nil)
	return len(s.components()), err
}

// yesNo is a :CSM_MANAGED value.
func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}
