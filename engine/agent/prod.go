package agent

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// Put2Prod is CSMAGENT PUT2PROD level: the stable test build goes into
// production. It is refused unless VM SYSSUF shows level loaded STABLE for
// every component. It stages, then switches: every component's BUILD area
// is copied into the inactive production side VMPSFS:MAINTvrm.PROD<side>
// (erased first), the nucleus is DDR-copied from the recomp cylinders of
// 0490 to those of 0190 (dumped, and the dump verified whole before the
// first track is written), and only then one VM SYSSUF update makes the
// staged side live and sets PROD for every component. Production is never
// a mix: until that update the live side is untouched.
//
// Not rolled back on an I/O error mid-way: a half-staged inactive side
// (harmless: it is not live, and the next PUT2PROD erases it) and, if the
// failure hits while the nucleus tracks are written, 0190's recomp
// cylinders. The nucleus is written before the switch, so a failure after
// it leaves the new nucleus with the old side live; PUT2PROD again repairs
// both.
func Put2Prod(env *Env, level string) (msg.Result, error) {
	var res msg.Result
	unlock, err := env.lock()
	if err != nil {
		return res, err
	}
	defer unlock()
	level = strings.ToUpper(level)
	s, err := env.readSysuf()
	if err != nil {
		return res, err
	}
	comps := s.components()
	if len(comps) == 0 {
		return res, Refuse(msg.CSM3130E, level, env.Sys.Name(), None, None, None)
	}
	if loading := s.tag(SystemKey, TagLoading); loading != "" {
		return res, Refuse(msg.CSM3124E, env.Sys.Name(), loading, loading, "PUT2PROD")
	}
	for _, c := range comps {
		at, state := s.tag(c, TagLevel), s.tag(c, TagState)
		if !strings.EqualFold(at, level) || state != StateStable {
			return res, Refuse(msg.CSM3130E, level, env.Sys.Name(), c, orNone(at), orNone(state))
		}
	}
	src, dst, err := env.nucleusDisks("PUT2PROD")
	if err != nil {
		return res, err
	}
	p, err := env.pool()
	if err != nil {
		return res, err
	}
	side := otherSide(s.prodSide())
	if err := env.checkStageRoom(p, comps, side); err != nil {
		return res, err
	}

	files, err := env.stageSide(p, comps, side)
	if err != nil {
		return res, err
	}
	res.Addf(msg.CSM3131I, side, len(comps), files)
	cyls, err := copyNucleus(src, dst)
	if err != nil {
		return res, err
	}
	res.Addf(msg.CSM3132I, src.String(), dst.String(), cyls)
	if err := s.update(func(_ string, x *table.Entry) { x.Set(TagProd, level) },
		func(x *table.Entry) { x.Set(TagProdSide, side) }); err != nil {
		return res, err
	}
	res.Addf(msg.CSM3133I, level, env.Sys.Name(), side)
	return res, nil
}

// nucleusDisks are 0490 and 0190 as DDR reaches them, checked to hold
// recomp areas that a copy from the one to the other fits.
func (e *Env) nucleusDisks(who string) (src, dst cms.DASDMinidisk, err error) {
	if src, err = e.dasd(TestBuildDisk, who); err != nil {
		return nil, nil, err
	}
	if dst, err = e.dasd(ProdDisk, who); err != nil {
		return nil, nil, err
	}
	if src.DevType() != dst.DevType() {
		return nil, nil, Refuse(msg.CSM3118E, "of "+src.String(), dst.String(),
			fmt.Sprintf("%s is a %s, %s a %s", src.String(), src.DevType(), dst.String(), dst.DevType()))
	}
	_, n := src.RecompCylinders()
	if _, m := dst.RecompCylinders(); n > m {
		return nil, nil, Refuse(msg.CSM3117E, "The recomp area of "+src.String(), n, dst.String(), m)
	}
	return src, dst, nil
}

// checkStageRoom refuses a staging that would overrun the file space: the
// BUILD areas' blocks, less what the erased inactive side frees.
func (e *Env) checkStageRoom(p cms.FilePool, comps []string, side string) error {
	var need int64
	for _, c := range comps {
		n, err := treeBlocks(p, AreaDir(e.Release, c, servlink.AreaBuild))
		if err != nil {
			return err
		}
		need += n
	}
	freed, err := treeBlocks(p, ProdTop(e.Release, side))
	if err != nil {
		return err
	}
	return e.checkBlocks(p, need-freed, "production side "+side)
}

// treeBlocks counts the blocks of a directory tree's files; 0 if there is
// no such directory.
func treeBlocks(p cms.FilePool, d cms.DirID) (int64, error) {
	a, err := p.Dir(d)
	if errors.Is(err, cms.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	dirs, err := p.ListDirs(d)
	if err != nil {
		return 0, err
	}
	var n int64
	for i := -1; i < len(dirs); i++ {
		if i >= 0 {
			if a, err = p.Dir(dirs[i]); err != nil {
				return 0, err
			}
		}
		files, err := a.List()
		if err != nil {
			return 0, err
		}
		for _, f := range files {
			n += f.Blocks
		}
	}
	return n, nil
}

// stageSide makes VMPSFS:MAINTvrm.PROD<side> afresh: one directory per
// component holding a copy of its BUILD area. It returns the files copied.
func (e *Env) stageSide(p cms.FilePool, comps []string, side string) (int, error) {
	top := ProdTop(e.Release, side)
	if _, err := p.Dir(top); err == nil {
		if err := p.EraseTree(top, e.maint()); err != nil {
			return 0, err
		}
	} else if !errors.Is(err, cms.ErrNotFound) {
		return 0, err
	}
	if err := p.CreateDir(top, e.maint()); err != nil {
		return 0, err
	}
	files := 0
	for _, c := range comps {
		d := ProdDir(e.Release, side, c)
		if err := p.CreateDir(d, e.maint()); err != nil {
			return files, err
		}
		to, err := p.Dir(d)
		if err != nil {
			return files, err
		}
		from, err := p.Dir(AreaDir(e.Release, c, servlink.AreaBuild))
		if errors.Is(err, cms.ErrNotFound) {
			continue
		}
		if err != nil {
			return files, err
		}
		list, err := from.List()
		if err != nil {
			return files, err
		}
		for _, f := range list {
			if err := copyFile(from, to, f.ID); err != nil {
				return files, err
			}
			files++
		}
	}
	return files, nil
}

// copyNucleus DDR-copies the whole recomp area of src onto the recomp area
// of dst (REORDER: the records keep their count fields). The dump is held
// in memory (a recomp area is a few cylinders) and verified whole by the
// restore before the first track is written.
func copyNucleus(src, dst cms.DASDMinidisk) (int, error) {
	from, n := src.RecompCylinders()
	to, _ := dst.RecompCylinders()
	if n == 0 {
		return 0, nil
	}
	var buf bytes.Buffer
	if err := src.DumpCylinders(from, from+n-1, &buf); err != nil {
		return 0, err
	}
	if err := dst.RestoreCylinders(bytes.NewReader(buf.Bytes()), to); err != nil {
		return 0, err
	}
	return n, nil
}

// Install records the service level whose files are already in place as
// installed and in production, as the VMSES/E installation of a system
// leaves it: every component directory VMPSFS:MAINTvrm.<comp> gets a
// PARTCAT of its files, VM SYSSUF an entry (LEVEL and PROD level, STATE
// STABLE; CSM_MANAGED kept, else NO), the BUILD areas are staged as the
// production side and, when 0490 and 0190 are DASD, the recomp area of
// 0490 is copied to 0190. World builders (sim) use it after copying a
// level's files into place; it is not part of the CSMSERVE protocol.
func Install(env *Env, level string) (msg.Result, error) {
	var res msg.Result
	unlock, err := env.lock()
	if err != nil {
		return res, err
	}
	defer unlock()
	level = strings.ToUpper(level)
	if _, err := cms.NewDirID(Pool, env.maint(), level); err != nil {
		return res, Refuse(msg.CSM0000S, err.Error())
	}
	s, err := env.readSysuf()
	if err != nil {
		return res, err
	}
	p, err := env.pool()
	if err != nil {
		return res, err
	}
	dirs, err := p.ListDirs(Top(env.Release))
	if err != nil {
		return res, err
	}
	comps := s.components()
	for _, d := range dirs {
		if n := d.Names(); len(n) == 1 && n[0] != "PRODA" && n[0] != "PRODB" && !slices.Contains(comps, n[0]) {
			comps = append(comps, n[0])
		}
	}
	slices.Sort(comps)
	side := otherSide(s.prodSide())
	if err := env.checkStageRoom(p, comps, side); err != nil {
		return res, err
	}
	parts := 0
	for _, c := range comps {
		cat, err := inventory.Catalog(p, c, env.areaDir(c), "")
		if err != nil {
			return res, err
		}
		if err := env.writeCatalog(p, c, cat); err != nil {
			return res, err
		}
		parts += cat.Len()
	}
	if _, err := env.stageSide(p, comps, side); err != nil {
		return res, err
	}
	if src, dst, err := env.nucleusDisks("INSTALL"); err == nil {
		if _, err := copyNucleus(src, dst); err != nil {
			return res, err
		}
	} else if !IsRefusal(err) {
		return res, err
	}
	err = s.write(func(t *table.Table) error {
		if _, ok := t.Get(SystemKey); !ok {
			if err := t.Add(table.NewEntry(TagComp, SystemKey)); err != nil {
				return err
			}
		}
		for _, c := range comps {
			if _, ok := t.Get(c); !ok {
				if err := t.Add(table.NewEntry(TagComp, c)); err != nil {
					return err
				}
			}
			if err := t.Modify(c, func(x *table.Entry) {
				x.Set(TagLevel, level)
				x.Set(TagState, StateStable)
				x.Set(TagProd, level)
				if _, ok := x.Get(TagManaged); !ok {
					x.Set(TagManaged, "NO")
				}
			}); err != nil {
				return err
			}
		}
		return t.Modify(SystemKey, func(x *table.Entry) { x.Set(TagProdSide, side) })
	})
	if err != nil {
		return res, err
	}
	res.Addf(msg.CSM3103I, level, env.Sys.Name(), len(comps), parts, side)
	return res, nil
}
