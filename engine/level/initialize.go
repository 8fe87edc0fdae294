package level

import (
	"errors"
	"io"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// baseDesc describes BASE: components with no service applied, but ICKDSF
// and LE at the service level shipped with z/VM (the seed).
const baseDesc = "IBM base as shipped, no RSU applied"

// Quotas INITIALIZE gives the file spaces it enrolls.
const (
	adminQuota = 50_000
)

// Initialize is SERVMGR INITIALIZE vrm: it loads CSMvrm.BASE from the
// CSMvrm UNLOAD file on MAINTvrm 5BC and creates the Service Level Table
// with BASE. Everything is checked before anything is written.
func Initialize(e *Env, vrm string) (msg.Result, error) {
	var res msg.Result
	if err := CheckRelease(vrm); err != nil {
		return res, err
	}
	if ssi := e.Sys.SSIName(); ssi != "" {
		return res, Refuse(msg.CSM2903E, ssi)
	}
	p, err := e.Pool()
	if err != nil {
		return res, err
	}
	if !p.IsAdmin(Admin) {
		return res, Refuse(msg.CSM0022E, Admin, Pool, Admin, Pool)
	}
	space := Space(vrm)
	_, _, qerr := p.Quota(space)
	enrolled := qerr == nil
	if enrolled {
		if a, err := p.Dir(ReleaseTop(vrm)); err == nil {
			if _, err := a.Stat(SvcStatID); err == nil {
				return res, Refuse(msg.CSM2901E, vrm, Pool+":"+space+". CSM SVCSTAT")
			}
		}
	} else if !errors.Is(qerr, cms.ErrNotEnrolled) {
		return res, qerr
	}
	disk, err := e.Sys.Minidisk(MaintUser(vrm), "05BC")
	if err != nil {
		return res, Refuse(msg.CSM2904E, UnloadID(vrm).Name(), MaintUser(vrm)+" 05BC", vrm)
	}
	if _, err := disk.Stat(UnloadID(vrm)); err != nil {
		return res, Refuse(msg.CSM2904E, UnloadID(vrm).Name(), MaintUser(vrm)+" 05BC", vrm)
	}
	if free := p.FreeBlocks(); free < MinFreeBlocks {
		return res, Refuse(msg.CSM2902E, Pool, int64(MinFreeBlocks), free)
	}

	// Enrollment comes first because LOAD needs the file space; a LOAD
	// that then refuses the UNLOAD file leaves CSMvrm enrolled and empty,
	// and a repeated INITIALIZE goes on from there.
	if _, _, err := p.Quota(Admin); errors.Is(err, cms.ErrNotEnrolled) {
		if err := p.Enroll(Admin, Admin, adminQuota); err != nil {
			return res, err
		}
	}
	if !enrolled {
		if err := p.Enroll(Admin, space, MinFreeBlocks); err != nil {
			return res, err
		}
	}
	base := LevelDir(vrm, BaseLevel)
	if err := cms.ReadFile(disk, UnloadID(vrm), func(r io.Reader) error { return p.Load(r, base) }); err != nil {
		return res, err
	}
	files, blocks, err := countTree(p, base, nil)
	if err != nil {
		return res, err
	}
	res.Addf(msg.CSM2900I, vrm, UnloadID(vrm).Name(), base.String(), files, blocks)

	comps, err := e.components(vrm, BaseLevel)
	if err != nil {
		return res, err
	}
	for _, c := range comps {
		cat, err := catalogComponent(p, vrm, BaseLevel, c)
		if err != nil {
			return res, err
		}
		a, err := p.Dir(CompDir(vrm, BaseLevel, c))
		if err != nil {
			return res, err
		}
		if err := inventory.Write(a, c, cat); err != nil {
			return res, err
		}
		if err := emptyInventory(a, c); err != nil {
			return res, err
		}
	}
	if err := e.writeLevelTop(p, vrm, BaseLevel, "", baseDesc, comps); err != nil {
		return res, err
	}
	res.Addf(msg.CSM2906I, vrm)

	if err := e.ensureSysStat(p); err != nil {
		return res, err
	}
	st, err := e.levels(vrm)
	if err != nil {
		return res, err
	}
	// The table and BASE's entry in one write: the release is initialized
	// whole, or not at all and INITIALIZE goes again.
	if err := table.SvcStat().Create(st, table.NewEntry("SRVLVL", BaseLevel, tagRelease, vrm, tagBasedOn, "-", tagState, stateStable,
		tagLock, "ON", tagESM, "-", tagDesc, baseDesc)); err != nil {
		return res, err
	}
	res.Addf(msg.CSM2905I, vrm)
	return res, nil
}

// ensureSysStat creates the System Status Table in MAINTCSM's top
// directory if it is not there yet.
func (e *Env) ensureSysStat(p cms.FilePool) error {
	a, err := p.Dir(AdminTop())
	if err != nil {
		return err
	}
	st := table.NewStore(a, e.Locker)
	if _, err := table.SysStat().Read(st); errors.Is(err, table.ErrNotFound) {
		return table.SysStat().Create(st)
	} else if err != nil {
		return err
	}
	return nil
}

// countTree counts the files and blocks in and under d, leaving out the
// directories skip selects.
func countTree(p cms.FilePool, d cms.DirID, skip func(cms.DirID) bool) (files int, blocks int64, err error) {
	dirs, err := p.ListDirs(d)
	if err != nil {
		return 0, 0, err
	}
	for _, x := range append([]cms.DirID{d}, dirs...) {
		if skip != nil && skip(x) {
			continue
		}
		a, err := p.Dir(x)
		if err != nil {
			return 0, 0, err
		}
		list, err := a.List()
		if err != nil {
			return 0, 0, err
		}
		for _, f := range list {
			files++
			blocks += f.Blocks
		}
	}
	return files, blocks, nil
}
