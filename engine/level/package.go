package level

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// Package is SERVMGR SRVLVL PACKAGE vrm level: it compares each
// component's PARTCAT with the level's CSMPKG BASELIST (the parts of the
// based-on level) and writes, into CSMvrm.<level>.PACKAGE, one SERVLINK per
// changed component holding only the changed and new parts, and a package
// manifest. Unchanged components get no SERVLINK. BASE, a STABLE level and
// a locked level are not packaged again.
func Package(e *Env, vrm, level string) (msg.Result, error) {
	var res msg.Result
	c, err := e.begin(vrm, level)
	if err != nil {
		return res, err
	}
	defer c.unlock()
	st, en, level := c.st, c.en, c.en.Key()
	// A new package rewrites the level's content as systems receive it:
	// refused for BASE, a STABLE level and a locked one.
	if err := mustChange(en, vrm, "packaged"); err != nil {
		return res, err
	}
	if err := mustBeWhole(en, "PACKAGE"); err != nil {
		return res, err
	}
	basedOn := get(en, tagBasedOn)
	p, err := e.Pool()
	if err != nil {
		return res, err
	}
	top, err := p.Dir(LevelDir(vrm, level))
	if err != nil {
		return res, err
	}
	base, err := table.Load(top, BaselistID, baselistName, "PART")
	if err != nil {
		return res, err
	}
	links, need, err := e.servlinks(p, vrm, level, basedOn, base)
	if err != nil {
		return res, err
	}
	limit, used, err := p.Quota(Space(vrm))
	if err != nil {
		return res, err
	}
	if used+need+int64(len(links))+1 > limit {
		return res, Refuse(msg.CSM0030E, Pool+":"+Space(vrm)+".", "the package", need, limit-used)
	}

	// A new package replaces the old one whole.
	pkg := PackageDir(vrm, level)
	if _, err := p.Dir(pkg); err == nil {
		if err := p.EraseTree(pkg, Admin); err != nil {
			return res, err
		}
	}
	if err := p.CreateDir(pkg, Admin); err != nil {
		return res, err
	}
	undo := func(err error) (msg.Result, error) {
		_ = p.EraseTree(pkg, Admin)
		return msg.Result{}, err
	}
	out, err := p.Dir(pkg)
	if err != nil {
		return undo(err)
	}
	if err := e.writePackage(&res, p, out, vrm, level, basedOn, links); err != nil {
		return undo(err)
	}
	if len(links) == 0 {
		res.Addf(msg.CSM2736W, level, basedOn)
	}
	res.Addf(msg.CSM2737I, pkg.String()+" "+ManifestID.Name(), len(links))
	if _, err := table.SvcStat().Update(st, c.t, func(t *table.Table) error {
		return t.Modify(level, func(x *table.Entry) { x.Set(tagPackage, e.now()) })
	}); err != nil {
		return undo(err)
	}
	return res, nil
}

// shipped is how a part travels: the nucleus dump, kept in TESTBLD on the
// principal, goes as a CMS BUILD part the managed system's CSMPKGLD knows.
func shipped(p servlink.Part) servlink.Part {
	if p.Area == nucleusDumpArea {
		p.Area = servlink.AreaBuild
	}
	return p
}

// source is where a shipped part is read from on the principal.
func source(vrm, level string, p servlink.Part) cms.DirID {
	if p.Component == "CMS" && p.File == NucleusID.Name() {
		return TestBuildDir(vrm, level)
	}
	return AreaDir(vrm, level, p.Component, p.Area)
}

// writeServlink writes <COMP> SERVLINK, streaming each part from its
// directory; the writer checks every part against the PARTCAT's SHA-256.
func (e *Env) writeServlink(p cms.FilePool, out cms.FileArea, vrm, level string, m servlink.Manifest) (servlink.ServlinkRef, error) {
	id := ServlinkID(m.Name)
	var sum servlink.Digest
	err := cms.WriteFile(out, id, func(w io.Writer) error {
		return servlink.WriteStream(io.MultiWriter(w, &sum), m, func(part servlink.Part) (io.Reader, error) {
			a, err := p.Dir(source(vrm, level, part))
			if err != nil {
				return nil, err
			}
			fid, err := cms.ParseFileID(part.File)
			if err != nil {
				return nil, err
			}
			return a.Open(fid)
		})
	})
	if err != nil {
		var se *servlink.Error
		if errors.As(err, &se) {
			return servlink.ServlinkRef{}, Refuse(msg.CSM0000S, "a part changed since its PARTCAT entry was made: "+se.Error())
		}
		return servlink.ServlinkRef{}, err
	}
	return servlink.ServlinkRef{Component: m.Name, File: id.Name(), Size: sum.Size(), SHA256: sum.Sum()}, nil
}

// Parts is what a system at level should have: every part of the level's
// PARTCATs as it travels ("COMP AREA FN FT" -> SHA-256), for SERVCHECK.
func Parts(e *Env, vrm, level string) (map[string]string, error) {
	p, err := e.Pool()
	if err != nil {
		return nil, err
	}
	comps, err := e.components(vrm, level)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, c := range comps {
		cat, err := readCatalog(p, vrm, level, c)
		if err != nil {
			return nil, err
		}
		for _, en := range cat.List() {
			part, err := inventory.PartOf(c, en)
			if err != nil {
				return nil, err
			}
			part = shipped(part)
			out[c+" "+inventory.Key(part.Area, part.File)] = part.SHA256
		}
	}
	return out, nil
}

// servlinks plans one SERVLINK per component with parts that differ from
// base (CSMPKG BASELIST); a nil base means every part (a full package).
func (e *Env) servlinks(p cms.FilePool, vrm, level, basedOn string, base *table.Table) ([]servlink.Manifest, int64, error) {
	comps, err := e.components(vrm, level)
	if err != nil {
		return nil, 0, err
	}
	var links []servlink.Manifest
	var need int64
	for _, c := range comps {
		cat, err := readCatalog(p, vrm, level, c)
		if err != nil {
			return nil, 0, err
		}
		m := servlink.Manifest{Format: servlink.FormatVersion, Kind: servlink.KindServlink, Name: c, Release: vrm,
			Level: level, BasedOn: basedOn, Time: e.Clock.Now().Unix(), Components: []string{c}}
		for _, pe := range cat.List() {
			if base != nil {
				if old, ok := base.Get(c + " " + pe.Key()); ok && get(old, "SHA256") == get(pe, "SHA256") {
					continue
				}
			}
			part, err := inventory.PartOf(c, pe)
			if err != nil {
				return nil, 0, err
			}
			m.Parts = append(m.Parts, shipped(part))
			need += cms.BlocksFor(part.Size)
		}
		if len(m.Parts) > 0 {
			if err := m.Check(); err != nil {
				return nil, 0, err
			}
			links = append(links, m)
		}
	}
	return links, need, nil
}

// writePackage writes the SERVLINKs and CSMPKG MANIFEST into out.
func (e *Env) writePackage(res *msg.Result, p cms.FilePool, out cms.FileArea, vrm, level, basedOn string, links []servlink.Manifest) error {
	manifest := servlink.Manifest{Format: servlink.FormatVersion, Kind: servlink.KindPackage, Name: level, Release: vrm,
		Level: level, BasedOn: basedOn, Time: e.Clock.Now().Unix(), Components: []string{}}
	for _, m := range links {
		ref, err := e.writeServlink(p, out, vrm, level, m)
		if err != nil {
			return err
		}
		manifest.Components = append(manifest.Components, m.Name)
		manifest.Servlinks = append(manifest.Servlinks, ref)
		res.Addf(msg.CSM2735I, m.Name, len(m.Parts), ref.Size)
	}
	return cms.WriteFile(out, ManifestID, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(manifest)
	})
}

// FullPackage writes a package of every part of level into out, based on
// nothing: what installs a system at that level (csmsim node init).
func FullPackage(e *Env, vrm, level string, out cms.FileArea) (msg.Result, error) {
	var res msg.Result
	c, err := e.begin(vrm, level)
	if err != nil {
		return res, err
	}
	defer c.unlock()
	p, err := e.Pool()
	if err != nil {
		return res, err
	}
	// The manifest still names the level's base; with every part in it,
	// the package loads on a system at any level (without COND).
	basedOn := get(c.en, tagBasedOn)
	if basedOn == "" || basedOn == "-" {
		basedOn = BaseLevel
	}
	links, _, err := e.servlinks(p, vrm, c.en.Key(), basedOn, nil)
	if err != nil {
		return res, err
	}
	err = e.writePackage(&res, p, out, vrm, c.en.Key(), basedOn, links)
	return res, err
}
