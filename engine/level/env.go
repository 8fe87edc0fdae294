package level

import (
	"errors"
	"slices"
	"strconv"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// Env is what a SERVMGR command on the principal works with: the system,
// its locks and clock, and the user running it (MAINTCSM).
type Env struct {
	Sys    cms.System
	Locker table.Locker
	Clock  cms.Clock
	User   string
}

// Refuse makes the error for a refused command from a message format.
func Refuse(format string, args ...any) error { return msg.Refuse(format, args...) }

// Lines renders an error as the command's messages (msg.LinesOf).
func Lines(err error) []msg.Line { return msg.LinesOf(err) }

func (e *Env) Pool() (cms.FilePool, error) { return e.Sys.FilePool(Pool) }

// AdminDisk is MAINTCSM's A-disk (AdminVaddr).
func (e *Env) AdminDisk() (cms.Minidisk, error) { return e.Sys.Minidisk(Admin, AdminVaddr) }

func (e *Env) area(d cms.DirID) (cms.FileArea, error) {
	p, err := e.Pool()
	if err != nil {
		return nil, err
	}
	return p.Dir(d)
}

// levels is the release's Service Level Table store.
func (e *Env) levels(vrm string) (*table.Store, error) {
	a, err := e.area(ReleaseTop(vrm))
	if err != nil {
		return nil, err
	}
	return table.NewStore(a, e.Locker), nil
}

// CheckRelease refuses releases CSM does not serve.
func CheckRelease(vrm string) error {
	n, err := strconv.Atoi(vrm)
	if err != nil || len(vrm) != 3 || n < 720 {
		return Refuse(msg.CSM0021E, vrm)
	}
	return nil
}

// ReadLevels reads the release's Service Level Table; a release without
// one is not initialized.
func (e *Env) ReadLevels(vrm string) (*table.Store, *table.Table, error) {
	if err := CheckRelease(vrm); err != nil {
		return nil, nil, err
	}
	st, err := e.levels(vrm)
	if err != nil {
		if errors.Is(err, cms.ErrNotEnrolled) || errors.Is(err, cms.ErrNotFound) {
			return nil, nil, Refuse(msg.CSM0020E, vrm, vrm)
		}
		return nil, nil, err
	}
	t, err := table.SvcStat().Read(st)
	if errors.Is(err, table.ErrNotFound) {
		return nil, nil, Refuse(msg.CSM0020E, vrm, vrm)
	}
	return st, t, err
}

// levelEntry finds a level, refusing an unknown one.
func levelEntry(t *table.Table, vrm, level string) (table.Entry, error) {
	en, ok := t.Get(level)
	if !ok {
		return table.Entry{}, Refuse(msg.CSM2710E, level, vrm)
	}
	return en, nil
}

// Level table tags.
const (
	tagRelease = "RELEASE"
	tagBasedOn = "BASEDON"
	tagState   = "STATE"
	tagLock    = "LOCK"
	tagESM     = "ESM"
	tagDesc    = "DESC"
	tagPackage = "PACKAGE"
	// tagPending names the SERVICE or LOCALMOD that began to write into a
	// level and has not finished: the level's files are a mix until that
	// command, entered again, ends.
	tagPending  = "PENDING"
	stateTest   = "TEST"
	stateStable = "STABLE"
)

func get(en table.Entry, tag string) string {
	v, _ := en.Get(tag)
	return v
}

// mustBeWhole refuses a level that a SERVICE or LOCALMOD left half
// written, for what (PACKAGE, SETLOCK ON, ...), unless what is that very
// command entered again.
func mustBeWhole(en table.Entry, what string) error {
	if pending := get(en, tagPending); pending != "" && pending != what {
		return Refuse(msg.CSM2719E, pending, en.Key(), what)
	}
	return nil
}

// mustChange refuses to change the content of a level (what says how:
// "serviced", "packaged"): BASE is IBM's and never changes, a STABLE
// level is what systems run (a new level based on it carries any change),
// and a locked one waits for SETLOCK OFF. STABLE comes before the lock so
// that the advice given is one that works: unlocking a STABLE level would
// not let it change.
func mustChange(en table.Entry, vrm, what string) error {
	lvl := en.Key()
	if lvl == BaseLevel {
		return refuseBase(vrm, what)
	}
	if get(en, tagState) == stateStable {
		return Refuse(msg.CSM2715E, lvl, vrm)
	}
	return mustBeUnlocked(en, vrm)
}

// mustBeUnlocked refuses a level under the update control lock.
func mustBeUnlocked(en table.Entry, vrm string) error {
	if lvl := en.Key(); get(en, tagLock) == "ON" {
		return Refuse(msg.CSM2714E, lvl, vrm, vrm, lvl)
	}
	return nil
}

// refuseBase refuses what no command may do to BASE, saying what to do
// instead: every change goes into a level based on it.
func refuseBase(vrm, what string) error {
	advice := "define a level based on it with SERVMGR SRVLVL ADD " + vrm + " level BASEDON BASE and change that one"
	switch what {
	case "deleted":
		advice = "keep it: it is the IBM base every level of the release is built on"
	case "packaged":
		advice = "a system is at BASE once z/VM is installed; package a level based on it (SERVMGR SRVLVL ADD " + vrm + " level BASEDON BASE)"
	}
	return Refuse(msg.CSM2718E, vrm, what, advice)
}

// components lists the component directories of a level.
func (e *Env) components(vrm, level string) ([]string, error) {
	p, err := e.Pool()
	if err != nil {
		return nil, err
	}
	dirs, err := p.ListDirs(LevelDir(vrm, level))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range dirs {
		n := d.Names()
		if len(n) == 2 && n[1] != TestBuild && n[1] != Packages {
			out = append(out, n[1])
		}
	}
	slices.Sort(out)
	return out, nil
}

func (e *Env) now() string { return msg.Stamp(e.Clock.Now()) }

// lockRelease serializes the commands that change a release's levels, as
// one MAINTCSM runs one command at a time: ADD's copy, SERVICE's writes and
// PACKAGE's SERVLINKs must not interleave with another command's.
func (e *Env) lockRelease(vrm string) (func(), error) {
	return e.Locker.Lock(Pool + ":" + Space(vrm) + ". SERVMGR")
}

// levelCmd is a command on one level: it holds the release's lock and has
// read the Service Level Table and the level's entry.
type levelCmd struct {
	st     *table.Store
	t      *table.Table
	en     table.Entry
	unlock func()
}

// begin starts a command on an existing level of vrm.
func (e *Env) begin(vrm, level string) (*levelCmd, error) {
	unlock, err := e.lockRelease(vrm)
	if err != nil {
		return nil, err
	}
	st, t, err := e.ReadLevels(vrm)
	if err == nil {
		var en table.Entry
		if en, err = levelEntry(t, vrm, level); err == nil {
			return &levelCmd{st: st, t: t, en: en, unlock: unlock}, nil
		}
	}
	unlock()
	return nil, err
}
