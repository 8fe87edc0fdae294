package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// loadPlan is what LOAD validated: the package, each SERVLINK's manifest,
// and where the nucleus goes.
type loadPlan struct {
	pkg       servlink.Manifest
	links     []servlink.Manifest // by component, as the package lists them
	ids       []cms.FileID        // the SERVLINK files, parallel to links
	received  []bool              // the file's receipt matched the manifest: its parts are not hashed again
	nucleus   *dumpHeader         // the CMS SERVLINK carries CMSNUC DDRDUMP
	testBuild cms.DASDMinidisk    // MAINTvrm 0490, when there is a nucleus
}

// Load is CSMAGENT LOAD level TEST|STABLE [COND base]: it loads the package
// in the staging area (CSMPKG MANIFEST and its SERVLINK files) into the
// test build.
//
// Everything is validated before the first write: the package manifest
// (kind PACKAGE, this release, this level), every SERVLINK it lists
// (present, its size and SHA-256 as listed, a valid stream of that
// component of that level: the first failure is refused naming the file,
// the reason code and the failing member's byte offset), the components
// (installed here, in VM SYSSUF), with COND that every component is still
// at the based-on level, the nucleus dump against the recomp area of 0490,
// and the file space's room. Then it streams each SERVLINK's parts into
// VMPSFS:MAINTvrm.<comp>.<area>, updates each <comp> PARTCAT, restores the
// nucleus (CSMPKGLD), and records the level in VM SYSSUF for every
// component: a level is system-wide.
//
// What is not rolled back: a crash or an I/O error in the middle of the
// writes (the quota check rules out a full file space), and a nucleus
// dump whose SHA-256 matched but that DDR's own verification refuses (the
// principal made a bad dump; the restore then writes no track). Parts
// already written stay. Before the first write VM SYSSUF's system entry
// is marked :LOADING.<level>, and the last update, which records the
// level, removes the mark: until then the test build is a mix, PUT2PROD
// and a LOAD of any other level are refused (CSM3124E), and a LOAD of the
// same level makes it whole.
//
// COND accepts a system at base (normally the package's based-on level,
// which the principal names) and one loaded from a package of this very
// level based on base (a revised TEST level sent again), and refuses local
// service. Without COND, local service is replaced where the package
// carries its parts: a warning (CSM3126W, RC 4) names each such
// component; parts of it the package does not carry stay, and so does
// the component's LOCALSVC mark.
func Load(env *Env, level string, stable bool, condBase string) (msg.Result, error) {
	var res msg.Result
	unlock, err := env.lock()
	if err != nil {
		return res, err
	}
	defer unlock()
	env.progress(proto.PhaseValidate)
	level, condBase = strings.ToUpper(level), strings.ToUpper(condBase)
	state := StateTest
	if stable {
		state = StateStable
	}
	s, err := env.readSysuf()
	if err != nil {
		return res, err
	}
	stage, err := env.staging()
	if err != nil {
		return res, err
	}
	pkg, err := readPackageManifest(stage)
	if err != nil {
		return res, err
	}
	if pkg.Level != level || pkg.Release != env.Release {
		return res, Refuse(msg.CSM3113E, stage.String(), pkg.Level, pkg.Release, level, env.Release)
	}
	comps := s.components()
	if !stable && s.tag(SystemKey, TagLoading) == "" && len(comps) > 0 && !slices.ContainsFunc(comps, func(c string) bool {
		return !strings.EqualFold(s.tag(c, TagLevel), level) || s.tag(c, TagState) != StateStable
	}) {
		// Once STABLE, a level stays STABLE (it is locked on the principal):
		// a TEST send of it again, a resumed roll-out's say, changes nothing.
		res.Addf(msg.CSM3125I, level, env.Sys.Name())
		return res, nil
	}
	if condBase != "" {
		for _, c := range comps {
			if at := s.tag(c, TagLevel); !strings.EqualFold(at, condBase) && !s.samePackage(c, level, condBase) {
				if strings.EqualFold(at, level) {
					at += " based on " + orNone(s.tag(c, TagBasedOn))
				}
				return res, Refuse(msg.CSM3110E, c, env.Sys.Name(), orNone(at), condBase)
			}
			if local := s.tag(c, TagLocal); local != "" {
				return res, Refuse(msg.CSM3110E, c, env.Sys.Name(), s.tag(c, TagLevel)+" with local service "+local, condBase)
			}
		}
	}
	for _, c := range pkg.Components {
		if !slices.Contains(comps, c) {
			return res, Refuse(msg.CSM3104E, c, env.Sys.Name())
		}
	}
	plan := &loadPlan{pkg: pkg}
	for _, ref := range pkg.Servlinks {
		m, id, nuc, received, err := env.checkServlink(stage, pkg, ref)
		if err != nil {
			return res, err
		}
		plan.links = append(plan.links, m)
		plan.ids = append(plan.ids, id)
		plan.received = append(plan.received, received)
		if nuc != nil {
			plan.nucleus = nuc
		}
	}
	if plan.nucleus != nil {
		if plan.testBuild, err = env.recompArea(TestBuildDisk, "CSMPKGLD", *plan.nucleus); err != nil {
			return res, err
		}
	}
	p, err := env.pool()
	if err != nil {
		return res, err
	}
	cats := map[string]*table.Table{}
	var parts []servlink.Part
	for _, m := range plan.links {
		if cats[m.Name], err = env.readCatalog(p, m.Name); err != nil {
			return res, err
		}
		parts = append(parts, m.Parts...)
	}
	if err := env.checkRoom(p, cats, parts, "package "+level); err != nil {
		return res, err
	}
	locals, err := env.localService(p, s, comps, parts)
	if err != nil {
		return res, err
	}
	// A LOAD that did not finish left the test build a mix: only that
	// level, loaded again, makes it whole.
	if loading := s.tag(SystemKey, TagLoading); loading != "" && loading != level {
		return res, Refuse(msg.CSM3124E, env.Sys.Name(), loading, loading, "loading level "+level)
	}

	// Everything is checked: mark the test build incomplete, then write.
	env.progress(proto.PhaseLoad)
	if !plantSkipLoadingMark {
		if err := s.update(func(string, *table.Entry) {}, func(x *table.Entry) { x.Set(TagLoading, level) }); err != nil {
			return res, err
		}
	}
	for i, m := range plan.links {
		var written []servlink.Part
		if err := cms.ReadFile(stage, plan.ids[i], func(r io.Reader) error {
			var err error
			written, err = env.writeParts(p, r, plan.received[i], nil)
			return err
		}); err != nil {
			return res, err
		}
		for _, part := range written {
			if err := inventory.Put(cats[m.Name], part, ""); err != nil {
				return res, err
			}
		}
		if err := env.writeCatalog(p, m.Name, cats[m.Name]); err != nil {
			return res, err
		}
		res.Addf(msg.CSM3120I, m.Name, plan.ids[i].Name(), len(written))
	}
	if plan.nucleus != nil {
		from, to, err := env.restoreNucleus(p, plan.testBuild)
		if err != nil {
			return res, err
		}
		res.Addf(msg.CSM3121I, from, to, plan.testBuild.String())
	}
	if len(pkg.Servlinks) == 0 {
		res.Addf(msg.CSM3123W, level, pkg.BasedOn)
	}
	for _, c := range comps {
		// Nothing left of it is replaced too: by a LOAD of this level that
		// was interrupted after writing the parts (which unmarked them).
		if l, ok := locals[c]; ok && (l.replaced > 0 || l.left == 0) {
			res.Addf(msg.CSM3126W, level, l.envelope, l.comp, env.Sys.Name(), l.replaced, l.left)
		}
	}
	// The level and the build's completeness change in one update.
	if err := s.update(func(c string, x *table.Entry) {
		x.Set(TagLevel, level)
		x.Set(TagBasedOn, pkg.BasedOn)
		x.Set(TagState, state)
		if l, ok := locals[c]; !ok || l.left == 0 {
			x.Remove(TagLocal) // nothing of it is left: the component is at the level
		}
		if _, ok := x.Get(TagProd); !ok {
			x.Set(TagProd, None)
		}
		if _, ok := x.Get(TagManaged); !ok {
			x.Set(TagManaged, "NO")
		}
	}, func(x *table.Entry) { x.Remove(TagLoading) }); err != nil {
		return res, err
	}
	res.Addf(msg.CSM3122I, level, env.Sys.Name(), state)
	return res, nil
}

// samePackage reports that comp was loaded from a package of level based
// on base: a revised package of that level (SETLOCK OFF, more service,
// PACKAGE again) carries every part that differs from base, so it loads
// on comp as it would on base.
func (s *sysuf) samePackage(comp, level, base string) bool {
	return strings.EqualFold(s.tag(comp, TagLevel), level) && strings.EqualFold(s.tag(comp, TagBasedOn), base)
}

// localLoad is what a LOAD does to a component's local service: how many
// of the parts it wrote the package replaces, and how many it leaves.
type localLoad struct {
	comp, envelope string
	replaced, left int
}

// localService finds, for each component with local service (SYSSUF's
// LOCALSVC), the parts that service wrote (PARTCAT's LOCALSVC) and which
// of them the package's parts replace.
func (e *Env) localService(p cms.FilePool, s *sysuf, comps []string, parts []servlink.Part) (map[string]localLoad, error) {
	out := map[string]localLoad{}
	for _, c := range comps {
		envelope := s.tag(c, TagLocal)
		if envelope == "" {
			continue
		}
		cat, err := e.readCatalog(p, c)
		if err != nil {
			return nil, err
		}
		l := localLoad{comp: c, envelope: envelope}
		for _, en := range cat.List() {
			if _, ok := en.Get(TagLocal); !ok {
				continue
			}
			if slices.ContainsFunc(parts, func(part servlink.Part) bool {
				return part.Component == c && inventory.Key(part.Area, part.File) == en.Key()
			}) {
				l.replaced++
			} else {
				l.left++
			}
		}
		out[c] = l
	}
	return out, nil
}

// readPackageManifest reads and checks CSMPKG MANIFEST in the staging area.
func readPackageManifest(stage cms.FileArea) (servlink.Manifest, error) {
	var m servlink.Manifest
	name := ManifestID.Name()
	if _, err := stage.Stat(ManifestID); errors.Is(err, cms.ErrNotFound) {
		return m, Refuse(msg.CSM3111E, name, stage.String())
	} else if err != nil {
		return m, err
	}
	bad := func(r servlink.ReasonCode, detail string) error {
		return Refuse(msg.CSM3112E, name, r.String(), 0, detail)
	}
	err := cms.ReadFile(stage, ManifestID, func(r io.Reader) error {
		data, err := io.ReadAll(io.LimitReader(r, servlink.MaxManifestSize+1))
		if err != nil {
			return err
		}
		if len(data) > servlink.MaxManifestSize {
			return bad(servlink.ReasonBadManifest, fmt.Sprintf("more than %d bytes", servlink.MaxManifestSize))
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return bad(servlink.ReasonBadManifest, err.Error())
		}
		if _, err := dec.Token(); err != io.EOF {
			return bad(servlink.ReasonBadManifest, "data after the JSON object")
		}
		if err := m.Check(); err != nil {
			var se *servlink.Error
			if errors.As(err, &se) {
				return bad(se.Reason, se.Error())
			}
			return err
		}
		if m.Kind != servlink.KindPackage {
			return bad(servlink.ReasonUnsupported, fmt.Sprintf("it is a %s manifest; a package manifest is of kind %s", m.Kind, servlink.KindPackage))
		}
		return nil
	})
	return m, err
}

// checkServlink validates one SERVLINK of the package in one pass: the
// stream (servlink's reader verifies every member), its size and SHA-256
// against the package manifest (from the file's receipt when the node
// hashed it as it arrived, else hashed in the same pass), and that it is
// the listed component of the package's level. A receipt that matches
// vouches for every part: the stream is then read for its structure and
// sizes only (servlink.NewTrustedReader), and so is it by the LOAD that
// follows (received). It returns the SERVLINK's manifest and, when it
// carries the nucleus dump, the dump's header.
func (e *Env) checkServlink(stage cms.FileArea, pkg servlink.Manifest, ref servlink.ServlinkRef) (m servlink.Manifest, id cms.FileID, nuc *dumpHeader, received bool, err error) {
	if id, err = cms.ParseFileID(ref.File); err != nil {
		return m, id, nil, false, Refuse(msg.CSM3115E, ref.File, pkg.Level, err.Error())
	}
	if _, err := stage.Stat(id); errors.Is(err, cms.ErrNotFound) {
		return m, id, nil, false, Refuse(msg.CSM3111E, id.Name(), stage.String())
	} else if err != nil {
		return m, id, nil, false, err
	}
	// A receipt that does not match is no help: the file is read and
	// verified in full, so that the refusal names the damaged member.
	rc, ok := e.receipt(id)
	received = ok && rc.Size == ref.Size && rc.SHA256 == ref.SHA256
	var nucErr error
	var sum servlink.Digest
	err = cms.ReadFile(stage, id, func(r io.Reader) error {
		open, in := servlink.NewReader, io.TeeReader(r, &sum)
		if received {
			open, in = servlink.NewTrustedReader, r
		}
		rd, err := open(in)
		if err != nil {
			return err
		}
		m = rd.Manifest()
		for {
			part, body, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if isNucleusDump(part) {
				dh, err := readDumpHeader(body)
				if err != nil {
					nucErr = err
				} else {
					nuc = &dh
				}
			}
		}
		if received {
			return nil
		}
		_, err = io.Copy(io.Discard, in) // whatever the reader left: hash the whole file
		return err
	})
	var se *servlink.Error
	if errors.As(err, &se) {
		return m, id, nil, false, Refuse(msg.CSM3112E, id.Name(), se.Reason.String(), se.Offset, se.Error())
	}
	if err != nil {
		return m, id, nil, false, err
	}
	if n, got := sum.Size(), sum.Sum(); !received && (n != ref.Size || got != ref.SHA256) {
		return m, id, nil, false, Refuse(msg.CSM3114E, id.Name(),
			fmt.Sprintf("it has %d bytes with SHA-256 %s, the manifest lists %d bytes with SHA-256 %s", n, got, ref.Size, ref.SHA256))
	}
	switch {
	case m.Kind != servlink.KindServlink:
		err = fmt.Errorf("it is a %s stream", m.Kind)
	case m.Name != ref.Component:
		err = fmt.Errorf("it is the SERVLINK of component %s, the manifest lists it for %s", m.Name, ref.Component)
	case m.Release != pkg.Release || m.Level != pkg.Level || m.BasedOn != pkg.BasedOn:
		err = fmt.Errorf("it is of level %s (based on %s) of release %s", m.Level, m.BasedOn, m.Release)
	}
	if err != nil {
		return m, id, nil, false, Refuse(msg.CSM3115E, id.Name(), pkg.Level, err.Error())
	}
	if nucErr != nil {
		return m, id, nil, false, Refuse(msg.CSM3118E, NucleusID.Name()+" in "+id.Name(), MaintUser(pkg.Release)+" "+TestBuildDisk, nucErr.Error())
	}
	return m, id, nuc, received, nil
}

// recompArea finds a minidisk of MAINTvrm that DDR can reach and checks
// that a dump fits its recomp area.
func (e *Env) recompArea(vaddr, who string, h dumpHeader) (cms.DASDMinidisk, error) {
	d, err := e.dasd(vaddr, who)
	if err != nil {
		return nil, err
	}
	if d.DevType() != h.devType {
		return nil, Refuse(msg.CSM3118E, NucleusID.Name(), d.String(), fmt.Sprintf("it is a dump of a %s, the minidisk is a %s", h.devType, d.DevType()))
	}
	if _, count := d.RecompCylinders(); h.cylinders() > count {
		return nil, Refuse(msg.CSM3117E, NucleusID.Name(), h.cylinders(), d.String(), count)
	}
	return d, nil
}

// dasd is MAINTvrm's minidisk vaddr as a DDR-capable disk.
func (e *Env) dasd(vaddr, who string) (cms.DASDMinidisk, error) {
	md, err := e.Sys.Minidisk(e.maint(), vaddr)
	if err != nil {
		return nil, err
	}
	d, ok := md.(cms.DASDMinidisk)
	if !ok {
		return nil, Refuse(msg.CSM3116E, md.String(), who)
	}
	return d, nil
}

// restoreNucleus is CSMPKGLD: the nucleus dump now in MAINTvrm.CMS.BUILD
// is restored with REORDER onto the first recomp cylinders of the test
// build disk. The restore verifies the whole dump before writing, and
// touches only the dumped cylinders' range inside the recomp area.
func (e *Env) restoreNucleus(p cms.FilePool, disk cms.DASDMinidisk) (from, to int, err error) {
	a, err := p.Dir(AreaDir(e.Release, "CMS", "BUILD"))
	if err != nil {
		return 0, 0, err
	}
	r, err := a.Open(NucleusID)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(r)
		if err != nil {
			return 0, 0, err
		}
		rs = bytes.NewReader(b)
	}
	h, err := readDumpHeader(rs)
	if err != nil {
		return 0, 0, Refuse(msg.CSM3118E, NucleusID.Name(), disk.String(), err.Error())
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	start, count := disk.RecompCylinders()
	if h.cylinders() > count {
		return 0, 0, Refuse(msg.CSM3117E, NucleusID.Name(), h.cylinders(), disk.String(), count)
	}
	if err := disk.RestoreCylinders(rs, start); err != nil {
		return 0, 0, err
	}
	return start, start + h.cylinders() - 1, nil
}
