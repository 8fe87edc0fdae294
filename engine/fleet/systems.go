// Package fleet is SERVMGR's managed-system operands: the System Status
// Table (SYSTEM ADD, DELETE, MODIFY, QUERY), nicknames, and (with a
// transport) SEND, PUT2PROD and SERVCHECK, system by system or as a staged
// roll-out over engine/rollout. It speaks to each system's CSMAGENT in
// engine/agent/proto over a Wire, and returns what each command did as an
// Outcome: per system its phases, its agent job and the job's messages, its
// lines and the cause of a failure; per roll-out the schedule's result.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// MaxSystems is how many managed systems one principal may have.
const MaxSystems = 54

// System Status Table tags.
const (
	tagRelease  = "RELEASE"
	tagHost     = "HOST"
	tagPort     = "PORT"
	tagCommType = "COMMTYPE"
	tagSecure   = "SECURE"
	tagESM      = "ESM"
	tagLevel    = "SRVLVL"
	tagState    = "STATE"
	tagStatus   = "STATUS"
)

// Spec is what SYSTEM ADD records about a system.
type Spec struct {
	System, Level string
	NoESM         bool
	Host          string
	CommType      string
	Port          int
	Require       bool
}

func (e *Env) sysStat() (*table.Store, error) {
	a, err := e.Area(level.AdminTop())
	if err != nil {
		return nil, err
	}
	return table.NewStore(a, e.Locker), nil
}

// Env is level.Env: the same principal, locks and clock.
type Env struct{ *level.Env }

// Area is the file area of an SFS directory in VMPSFS.
func (e *Env) Area(d cms.DirID) (cms.FileArea, error) {
	p, err := e.Pool()
	if err != nil {
		return nil, err
	}
	return p.Dir(d)
}

func (e *Env) readSystems() (*table.Store, *table.Table, error) {
	st, err := e.sysStat()
	if err != nil {
		return nil, nil, err
	}
	t, err := table.SysStat().Read(st)
	if errors.Is(err, table.ErrNotFound) {
		// Before INITIALIZE there is no table: an empty one reads the same.
		t, err = table.New(table.SysStat().Name, table.SysStat().KeyTag)
	}
	return st, t, err
}

// Add is SYSTEM ADD at table level: at most MaxSystems systems, release
// 7.2 or later, the level defined; host, port and options are kept. With
// a transport, the system is asked first (checkNew).
func Add(ctx context.Context, e *Env, w *Wire, vrm string, s Spec) (msg.Result, error) {
	var res msg.Result
	// One SYSTEM ADD at a time: it makes MAINTCSM.<system> before the entry.
	unlock, err := e.Locker.Lock(level.Pool + ":" + level.Admin + ". SERVMGR")
	if err != nil {
		return res, err
	}
	defer unlock()
	if n, err := strconv.Atoi(vrm); err != nil || n < 720 {
		return res, level.Refuse(msg.CSM2816E, s.System, vrm)
	}
	_, levels, err := e.ReadLevels(vrm)
	if err != nil {
		return res, err
	}
	lv, ok := levels.Get(s.Level)
	if !ok {
		return res, level.Refuse(msg.CSM2710E, s.Level, vrm)
	}
	st, t, err := e.readSystems()
	if err != nil {
		return res, err
	}
	if _, ok := t.Get(s.System); ok {
		return res, level.Refuse(msg.CSM2811E, s.System, vrm)
	}
	if t.Len() >= MaxSystems {
		return res, level.Refuse(msg.CSM2814E, s.System, t.Len(), MaxSystems)
	}
	if w.ready() {
		line, err := w.checkNew(ctx, en0(s, vrm), s, lv.Key())
		if err != nil {
			return res, err
		}
		res.Add(line)
	}
	p, err := e.Pool()
	if err != nil {
		return res, err
	}
	dir := level.SystemDir(s.System)
	made := false
	if _, err := p.Dir(dir); errors.Is(err, cms.ErrNotFound) {
		if err := p.CreateDir(dir, level.Admin); err != nil {
			return res, err
		}
		made = true
	}
	state, _ := lv.Get("STATE")
	en := table.NewEntry(table.SysStat().KeyTag, s.System, tagRelease, vrm, tagHost, s.Host, tagPort, strconv.Itoa(s.Port),
		tagCommType, s.CommType, tagSecure, secure(s.Require), tagESM, esm(s.NoESM), tagLevel, lv.Key(), tagState, state, tagStatus, "ADDED")
	if err := create(st); err != nil {
		return res, err
	}
	// On condition of the generation the checks read, and checked again
	// under the table's lock, so concurrent ADDs neither lose one another
	// nor pass the limit together.
	if _, err := table.SysStat().Update(st, t, func(t *table.Table) error {
		if _, ok := t.Get(s.System); ok {
			return level.Refuse(msg.CSM2811E, s.System, vrm)
		}
		if t.Len() >= MaxSystems {
			return level.Refuse(msg.CSM2814E, s.System, t.Len(), MaxSystems)
		}
		return t.Add(en)
	}); err != nil {
		if made {
			_ = p.EraseDir(dir, level.Admin)
		}
		return res, err
	}
	res.Addf(msg.CSM2800I, s.System, vrm, lv.Key(), s.Host, s.Port)
	return res, nil
}

// en0 is the SYSSTAT entry a new system would get, for reaching it.
func en0(s Spec, vrm string) table.Entry {
	return table.NewEntry(table.SysStat().KeyTag, s.System, tagRelease, vrm, tagHost, s.Host, tagPort, strconv.Itoa(s.Port),
		tagSecure, secure(s.Require))
}

// checkNew is SYSTEM ADD's conversation with the new system: it must
// answer over FTP, not be an SSI member, run 7.2 or later and be at the
// level given; then it is told to refuse non-CSM SERVICE (:CSM_MANAGED YES).
func (w *Wire) checkNew(ctx context.Context, en table.Entry, s Spec, lvl string) (msg.Line, error) {
	ss, err := w.open(ctx, en, &SystemOutcome{System: s.System})
	if err != nil {
		return msg.Line{}, err
	}
	defer ss.conn.Close()
	rep, err := ss.request(proto.Info{})
	if err != nil {
		return msg.Line{}, err
	}
	info, ok := rep.(proto.SystemInfo)
	if !ok {
		return msg.Line{}, level.Refuse(msg.CSM3052E, s.System, "unexpected CSMAGENT reply to INFO: "+rep.String())
	}
	if info.SSI != "-" {
		return msg.Line{}, level.Refuse(msg.CSM2815E, s.System, info.SSI)
	}
	if n, err := strconv.Atoi(info.Release); err != nil || n < 720 {
		return msg.Line{}, level.Refuse(msg.CSM2816E, s.System, info.Release)
	}
	if !strings.EqualFold(info.Level, lvl) {
		return msg.Line{}, level.Refuse(msg.CSM3065E, s.System, info.Level, lvl)
	}
	if _, err := ss.request(proto.Manage{}); err != nil {
		return msg.Line{}, err
	}
	return msg.Messagef(msg.CSM3064I, s.System, info.Release, info.Level), nil
}

// create makes an empty System Status Table if there is none (the first
// SYSTEM ADD on a principal set up before tables existed).
func create(st *table.Store) error {
	if _, err := table.SysStat().Read(st); errors.Is(err, table.ErrNotFound) {
		return table.SysStat().Create(st)
	}
	return nil
}

func secure(require bool) string {
	if require {
		return "REQUIRE"
	}
	return "NOREQUIRE"
}

func esm(none bool) string {
	if none {
		return "NONE"
	}
	return "-"
}

func systemOf(t *table.Table, vrm, system string) (table.Entry, error) {
	en, ok := t.Get(system)
	if !ok || get(en, tagRelease) != vrm {
		return table.Entry{}, level.Refuse(msg.CSM2810E, system, vrm)
	}
	return en, nil
}

func get(en table.Entry, tag string) string {
	v, _ := en.Get(tag)
	return v
}

// Delete is SYSTEM DELETE vrm system. MAINTCSM.<system> and its logs stay.
func Delete(e *Env, vrm, system string) (msg.Result, error) {
	var res msg.Result
	st, t, err := e.readSystems()
	if err != nil {
		return res, err
	}
	en, err := systemOf(t, vrm, system)
	if err != nil {
		return res, err
	}
	if _, err := table.SysStat().Update(st, t, func(t *table.Table) error { return t.Delete(en.Key()) }); err != nil {
		return res, err
	}
	res.Addf(msg.CSM2801I, en.Key(), vrm)
	return res, nil
}

// Change is what SYSTEM MODIFY changes; zero values leave a field alone.
type Change struct {
	Host    string
	Level   string
	Port    int
	Require *bool
}

// Modify is SYSTEM MODIFY vrm system ...
func Modify(e *Env, vrm, system string, c Change) (msg.Result, error) {
	var res msg.Result
	st, t, err := e.readSystems()
	if err != nil {
		return res, err
	}
	en, err := systemOf(t, vrm, system)
	if err != nil {
		return res, err
	}
	set := map[string]string{}
	if c.Level != "" {
		_, levels, err := e.ReadLevels(vrm)
		if err != nil {
			return res, err
		}
		lv, ok := levels.Get(c.Level)
		if !ok {
			return res, level.Refuse(msg.CSM2710E, c.Level, vrm)
		}
		set[tagLevel] = lv.Key()
		set[tagState] = get(lv, "STATE")
	}
	if c.Host != "" {
		set[tagHost] = c.Host
	}
	if c.Port != 0 {
		set[tagPort] = strconv.Itoa(c.Port)
	}
	if c.Require != nil {
		set[tagSecure] = secure(*c.Require)
	}
	if _, err := table.SysStat().Update(st, t, func(t *table.Table) error { return t.Set(en.Key(), set) }); err != nil {
		return res, err
	}
	var what []string
	for _, tag := range []string{tagHost, tagPort, tagSecure, tagLevel} {
		if v, ok := set[tag]; ok {
			what = append(what, tag+" "+v)
		}
	}
	res.Addf(msg.CSM2802I, en.Key(), vrm, strings.Join(what, ", "))
	return res, nil
}

// Resolve turns system|nickname|ALL into the systems of vrm it names,
// through the nicknames of MAINTCSM NAMES (nesting allowed).
func Resolve(e *Env, vrm, target string) ([]string, error) {
	_, t, err := e.readSystems()
	if err != nil {
		return nil, err
	}
	return e.resolve(vrm, target, t)
}

// resolve is Resolve against a System Status Table already read.
func (e *Env) resolve(vrm, target string, t *table.Table) ([]string, error) {
	var all []string
	for _, s := range t.List() {
		if get(s, tagRelease) == vrm {
			all = append(all, s.Key())
		}
	}
	if strings.EqualFold(target, "ALL") {
		return all, nil
	}
	names, err := e.names()
	if err != nil {
		return nil, err
	}
	isSystem := func(s string) bool {
		en, ok := t.Get(s)
		return ok && get(en, tagRelease) == vrm
	}
	out, err := table.ResolveNames(names, target, isSystem)
	switch {
	case errors.Is(err, table.ErrUnknownName):
		return nil, level.Refuse(msg.CSM2812E, strings.ToUpper(target), vrm)
	case errors.Is(err, table.ErrNicknameCycle):
		return nil, level.Refuse(msg.CSM2813E, strings.ToUpper(target), err.Error())
	}
	return out, err
}

// names reads MAINTCSM NAMES from MAINTCSM's A-disk; none means no
// nicknames.
func (e *Env) names() (*table.Table, error) {
	disk, err := e.AdminDisk()
	if err != nil {
		return nil, err
	}
	t, err := table.Names().Read(table.NewStore(disk, e.Locker))
	if errors.Is(err, table.ErrNotFound) {
		return table.New(table.Names().Name, table.Names().KeyTag)
	}
	return t, err
}

// Query is SYSTEM QUERY vrm [system|nickname|ALL].
func Query(e *Env, vrm, target string) (msg.Result, error) {
	var res msg.Result
	if target == "" {
		target = "ALL"
	}
	_, t, err := e.readSystems()
	if err != nil {
		return res, err
	}
	systems, err := e.resolve(vrm, target, t)
	if err != nil {
		return res, err
	}
	res.Addf(msg.CSM2820I, vrm)
	res.Addf(msg.CSM2821I, "SYSTEM", "LEVEL", "HOST", "PORT", "STATE", "STATUS")
	for _, s := range systems {
		en, _ := t.Get(s)
		res.Addf(msg.CSM2821I, en.Key(), get(en, tagLevel), get(en, tagHost), get(en, tagPort), get(en, tagState), get(en, tagStatus))
	}
	return res, nil
}

// Tables names the principal's CSM tables, as ReadTable takes them.
func Tables() []string {
	return []string{table.SysStat().Name, table.SvcStat().Name, RolloutTable().Name, table.Names().Name}
}

// ReadTable reads one of the principal's CSM tables by name: SYSSTAT,
// NAMES, and the SVCSTAT and ROLLOUT of release vrm, each from where CSM
// keeps it.
func (e *Env) ReadTable(vrm, name string) (*table.Table, error) {
	switch strings.ToUpper(name) {
	case table.SysStat().Name:
		st, err := e.sysStat()
		if err != nil {
			return nil, err
		}
		return table.SysStat().Read(st)
	case table.SvcStat().Name:
		_, t, err := e.ReadLevels(vrm)
		return t, err
	case RolloutTable().Name:
		st, _, err := e.ReadLevels(vrm)
		if err != nil {
			return nil, err
		}
		return RolloutTable().Read(st)
	case table.Names().Name:
		disk, err := e.AdminDisk()
		if err != nil {
			return nil, err
		}
		return table.Names().Read(table.NewStore(disk, e.Locker))
	}
	return nil, fmt.Errorf("unknown table %s: use %s", name, strings.Join(Tables(), ", "))
}

// TableStore is where the principal's table name (of release vrm, for
// SVCSTAT and ROLLOUT) lives, and its kind, whether or not the table
// parses: for checking and recovering a torn table.
func (e *Env) TableStore(vrm, name string) (*table.Store, table.Kind, error) {
	var kind table.Kind
	var area cms.FileArea
	var err error
	switch strings.ToUpper(name) {
	case table.SysStat().Name:
		kind = table.SysStat()
		area, err = e.Area(level.AdminTop())
	case table.SvcStat().Name, RolloutTable().Name:
		kind = table.SvcStat()
		if strings.EqualFold(name, RolloutTable().Name) {
			kind = RolloutTable()
		}
		if err = level.CheckRelease(vrm); err == nil {
			area, err = e.Area(level.ReleaseTop(vrm))
		}
	case table.Names().Name:
		kind = table.Names()
		area, err = e.AdminDisk()
	default:
		return nil, kind, fmt.Errorf("unknown table %s: use %s", name, strings.Join(Tables(), ", "))
	}
	if err != nil {
		return nil, kind, err
	}
	return table.NewStore(area, e.Locker), kind, nil
}
