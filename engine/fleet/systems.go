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
	"maps"
	"slices"
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
	// tagContact marks a system whose record the system has not yet
	// confirmed (NOCONTACT); its first contact completes the checks.
	tagContact = "CONTACT"
)

// Values of tagContact.
const (
	// contactNever: added with NOCONTACT; SYSTEM ADD's checks and MANAGE
	// are still to be done.
	contactNever = "NEVER"
	// contactMoved: its address changed with NOCONTACT; that the system
	// there is this one is still to be checked.
	contactMoved = "MOVED"
)

// Spec is what SYSTEM ADD records about a system.
type Spec struct {
	System, Level string
	NoESM         bool
	Host          string
	CommType      string
	Port          int
	Require       bool
	NoContact     bool // record without contacting the system
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

// lockSystems makes SYSTEM ADD and MODIFY one at a time: ADD makes
// MAINTCSM.<system> before the entry, and both ask the system before
// they write.
func (e *Env) lockSystems() (func(), error) {
	return e.Locker.Lock(level.Pool + ":" + level.Admin + ". SERVMGR")
}

// Add is SYSTEM ADD: at most MaxSystems systems, release 7.2 or later, the
// level defined, one system per host and port. The system is asked first
// (check), which needs a transport; with NoContact it is recorded
// unconfirmed, and its first contact completes the checks.
func Add(ctx context.Context, e *Env, w *Wire, vrm string, s Spec) (msg.Result, error) {
	var res msg.Result
	unlock, err := e.lockSystems()
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
	if err := sameAddress(t, s.System, s.Host, s.Port); err != nil {
		return res, err
	}
	switch {
	case s.NoContact:
	case !w.ready():
		return res, level.Refuse(msg.CSM2817E, "ADD", s.System)
	default:
		line, err := w.check(ctx, en0(s, vrm), lv.Key(), "given on SYSTEM ADD", true)
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
	if s.NoContact {
		en.Set(tagStatus, "NOCONTACT")
		en.Set(tagContact, contactNever)
	}
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
		if err := sameAddress(t, s.System, s.Host, s.Port); err != nil {
			return err
		}
		return t.Add(en)
	}); err != nil {
		if made {
			_ = p.EraseDir(dir, level.Admin)
		}
		return res, err
	}
	res.Addf(msg.CSM2800I, s.System, vrm, lv.Key(), s.Host, s.Port)
	if s.NoContact {
		res.Addf(msg.CSM2803I, s.System)
	}
	return res, nil
}

// sameAddress refuses a host and port at which SYSSTAT records another
// system than system: one CSMSERVE serves one system.
func sameAddress(t *table.Table, system, host string, port int) error {
	for _, o := range t.List() {
		if !strings.EqualFold(o.Key(), system) && strings.EqualFold(get(o, tagHost), host) && get(o, tagPort) == strconv.Itoa(port) {
			return level.Refuse(msg.CSM2822E, strings.ToUpper(system), host, port, o.Key(), get(o, tagRelease), strings.ToUpper(system))
		}
	}
	return nil
}

// en0 is the SYSSTAT entry a new system would get, for reaching it.
func en0(s Spec, vrm string) table.Entry {
	return table.NewEntry(table.SysStat().KeyTag, s.System, tagRelease, vrm, tagHost, s.Host, tagPort, strconv.Itoa(s.Port),
		tagSecure, secure(s.Require))
}

// check is SYSTEM ADD's conversation with a system, at the address en
// records: see session.check.
func (w *Wire) check(ctx context.Context, en table.Entry, lvl, as string, manage bool) (msg.Line, error) {
	ss, err := w.open(ctx, en, &SystemOutcome{System: en.Key()})
	if err != nil {
		return msg.Line{}, err
	}
	defer ss.conn.Close()
	return ss.check(lvl, as, manage)
}

// check asks the system what SYSTEM ADD must know: it is the system the
// principal names it (by the name it reports), no SSI member, at 7.2 or
// later and, unless lvl is "", at level lvl (as says where lvl comes
// from). With manage it is then told to refuse non-CSM SERVICE
// (:CSM_MANAGED YES). The system is changed only if every check passes.
func (ss *session) check(lvl, as string, manage bool) (msg.Line, error) {
	system := ss.system()
	rep, err := ss.request(proto.Info{})
	if err != nil {
		return msg.Line{}, err
	}
	info, ok := rep.(proto.SystemInfo)
	if !ok {
		return msg.Line{}, level.Refuse(msg.CSM3052E, system, "unexpected CSMAGENT reply to INFO: "+rep.String())
	}
	if !strings.EqualFold(info.System, system) {
		return msg.Line{}, level.Refuse(msg.CSM2819E, ss.addr, info.System, system, system, info.System)
	}
	if info.SSI != "-" {
		return msg.Line{}, level.Refuse(msg.CSM2815E, system, info.SSI)
	}
	if n, err := strconv.Atoi(info.Release); err != nil || n < 720 {
		return msg.Line{}, level.Refuse(msg.CSM2816E, system, info.Release)
	}
	if ss.vrm != "" && info.Release != ss.vrm {
		return msg.Line{}, level.Refuse(msg.CSM2832E, system, info.Release, ss.vrm, info.Release)
	}
	if lvl != "" && !strings.EqualFold(info.Level, lvl) {
		return msg.Line{}, level.Refuse(msg.CSM3065E, system, info.Level, lvl, as)
	}
	if !manage {
		return msg.Messagef(msg.CSM3067I, system, info.Release, info.Level), nil
	}
	if _, err := ss.request(proto.Manage{}); err != nil {
		return msg.Line{}, err
	}
	return msg.Messagef(msg.CSM3064I, system, info.Release, info.Level), nil
}

// confirm does, at the first contact with a system recorded with
// NOCONTACT, the checks that were skipped (and MANAGE for one never
// contacted), before the command's own work. Its line goes to the
// system's outcome, which record then clears the mark by.
func (ss *session) confirm(en table.Entry) error {
	var line msg.Line
	var err error
	switch get(en, tagContact) {
	case contactNever:
		line, err = ss.check(get(en, tagLevel), "recorded by SYSTEM ADD", true)
	case contactMoved:
		line, err = ss.check("", "", false)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	ss.out.Lines = append(ss.out.Lines, line)
	ss.out.confirmed = true
	return nil
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
	Host      string
	Level     string
	Port      int
	Require   *bool
	NoContact bool // record without contacting the system (not with Level)
}

// Modify is SYSTEM MODIFY vrm system ...: the system is asked at its (new)
// address, as SYSTEM ADD asks it, and a new level must be the level it
// reports. A system recorded with NOCONTACT gets SYSTEM ADD's checks and
// MANAGE here, at its first contact. With NoContact, a new address is
// recorded unconfirmed and checked at the next contact; a level is never
// recorded without the system's word.
func Modify(ctx context.Context, e *Env, w *Wire, vrm, system string, c Change) (msg.Result, error) {
	var res msg.Result
	unlock, err := e.lockSystems()
	if err != nil {
		return res, err
	}
	defer unlock()
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
	after := en.Clone() // the entry as modified: where the system is to be reached
	for tag, v := range set {
		after.Set(tag, v)
	}
	host, port := get(after, tagHost), get(after, tagPort)
	moved := !strings.EqualFold(host, get(en, tagHost)) || port != get(en, tagPort)
	portN, _ := strconv.Atoi(port)
	if err := sameAddress(t, en.Key(), host, portN); err != nil {
		return res, err
	}
	confirmed := false
	switch {
	case c.Level != "" && (c.NoContact || !w.ready()):
		why := "no transport is configured"
		if c.NoContact {
			why = "NOCONTACT was given"
		}
		return res, level.Refuse(msg.CSM2818E, en.Key(), set[tagLevel], why)
	case c.NoContact:
		if moved && get(en, tagContact) != contactNever {
			set[tagContact] = contactMoved
		}
	case !w.ready():
		return res, level.Refuse(msg.CSM2817E, "MODIFY", en.Key())
	default:
		lvl, as, manage := "", "", false
		if c.Level != "" {
			lvl, as = set[tagLevel], "given on SYSTEM MODIFY"
		}
		if get(en, tagContact) == contactNever { // ADD's checks, skipped then
			manage = true
			if lvl == "" {
				lvl, as = get(en, tagLevel), "recorded by SYSTEM ADD"
			}
		}
		line, err := w.check(ctx, after, lvl, as, manage)
		if err != nil {
			return res, err
		}
		res.Add(line)
		confirmed = true
		if get(en, tagStatus) == "NOCONTACT" {
			set[tagStatus] = "ADDED"
		}
	}
	if _, err := table.SysStat().Update(st, t, func(t *table.Table) error {
		if err := sameAddress(t, en.Key(), host, portN); err != nil {
			return err
		}
		return t.Modify(en.Key(), func(x *table.Entry) {
			for _, tag := range slices.Sorted(maps.Keys(set)) {
				x.Set(tag, set[tag])
			}
			if confirmed {
				x.Remove(tagContact)
			}
		})
	}); err != nil {
		return res, err
	}
	var what []string
	for _, tag := range []string{tagHost, tagPort, tagSecure, tagLevel} {
		if v, ok := set[tag]; ok {
			what = append(what, tag+" "+v)
		}
	}
	res.Addf(msg.CSM2802I, en.Key(), vrm, strings.Join(what, ", "))
	if c.NoContact && moved {
		res.Addf(msg.CSM2804I, en.Key(), host+":"+port)
	}
	return res, nil
}

// Resolve turns system|nickname|ALL into the systems it names, through
// the nicknames of MAINTCSM NAMES (nesting allowed): ALL is every system
// of vrm; a system or nickname may name systems of other releases too.
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
	// Any release's system counts: a nickname may list systems of several
	// releases, and a command reaching one of another release refuses it
	// by name (CSM2830E, CSM2831E) rather than calling it unknown.
	isSystem := func(s string) bool {
		_, ok := t.Get(s)
		return ok
	}
	out, err := table.ResolveNames(names, target, isSystem)
	var unknown *table.UnknownNameError
	switch {
	case errors.As(err, &unknown) && unknown.In != "":
		// The member is what is wrong, not the nickname that lists it.
		return nil, level.Refuse(msg.CSM2823E, unknown.Name, unknown.In, vrm, unknown.In)
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
	if en, ok := t.Get(target); ok && get(en, tagRelease) != vrm {
		rel := get(en, tagRelease)
		return res, level.Refuse(msg.CSM2831E, en.Key(), rel, vrm, "SYSTEM QUERY", rel, en.Key())
	}
	// A nickname's systems of other releases are theirs to list.
	systems = slices.DeleteFunc(systems, func(s string) bool { en, _ := t.Get(s); return get(en, tagRelease) != vrm })
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
