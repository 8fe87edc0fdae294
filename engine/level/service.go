package level

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// Service is SERVMGR SRVLVL SERVICE vrm level comp|ALL envelope: it
// applies an RSU or COR envelope's parts to the level.
func Service(e *Env, vrm, level, comp, envelope string) (msg.Result, error) {
	return e.apply(vrm, level, comp, envelope, "")
}

// Localmod is SERVMGR SRVLVL LOCALMOD vrm level comp envelope (origin: a
// local modification from IBM, a vendor or the customer, recorded as such.
func Localmod(e *Env, vrm, level, comp, envelope, origin string) (msg.Result, error) {
	if origin == "" {
		origin = "CUSTOMER"
	}
	return e.apply(vrm, level, comp, envelope, origin)
}

// apply validates the whole envelope and everything it touches, then
// writes: parts, inventory, the nucleus if it changed, and the tables.
func (e *Env) apply(vrm, level, comp, envelope, origin string) (msg.Result, error) {
	var res msg.Result
	c, err := e.begin(vrm, level)
	if err != nil {
		return res, err
	}
	defer c.unlock()
	st, read, en, level := c.st, c.t, c.en, c.en.Key()
	change := "serviced"
	if origin != "" {
		change = "changed by LOCALMOD"
	}
	if err := mustChange(en, vrm, change); err != nil {
		return res, err
	}
	disk, err := e.AdminDisk()
	if err != nil {
		return res, err
	}
	envID, err := cms.NewFileID(envelope, "SERVLINK", "")
	if err != nil {
		return res, Refuse(msg.CSM2720E, envelope, disk.String())
	}
	if _, err := disk.Stat(envID); err != nil {
		return res, Refuse(msg.CSM2720E, envID.FN(), disk.String())
	}
	var man servlink.Manifest
	if err := cms.ReadFile(disk, envID, func(r io.Reader) error {
		man, err = servlink.Validate(r)
		return err
	}); err != nil {
		return res, envelopeRefusal(envID.FN(), err)
	}
	if !man.Kind.IsEnvelope() || (origin == "") != (man.Kind != servlink.KindLocalMod) {
		want := "an RSU or COR envelope"
		if origin != "" {
			want = "a LOCALMOD envelope"
		}
		return res, Refuse(msg.CSM2721E, envID.FN(), "-", 0, fmt.Sprintf("it is a %s stream, SRVLVL %s needs %s", man.Kind, verb(origin), want))
	}
	if man.Release != vrm {
		// One principal carries several releases; service of one must not
		// land in another's level, whose parts it does not fit.
		return res, Refuse(msg.CSM2721E, envID.FN(), "-", 0, fmt.Sprintf("it is service for release %s, and level %s is of release %s; use an envelope of release %s", man.Release, level, vrm, vrm))
	}
	known, err := e.components(vrm, level)
	if err != nil {
		return res, err
	}
	comps, err := selectComponents(vrm, comp, envID.FN(), man.Components, known)
	if err != nil {
		return res, err
	}
	p, err := e.Pool()
	if err != nil {
		return res, err
	}
	cats := map[string]*table.Table{}
	for _, c := range comps {
		if cats[c], err = readCatalog(p, vrm, level, c); err != nil {
			return res, err
		}
	}
	parts := partsOf(man, comps)
	if err := e.checkServiceRoom(p, vrm, cats, parts); err != nil {
		return res, err
	}
	what := verb(origin) + " " + envID.FN()
	if err := mustBeWhole(en, what); err != nil {
		return res, err
	}

	// Everything is checked. The level is marked as being written (and its
	// package, stale from now on, dropped) before the first part; the last
	// table update clears the mark. Each update is on condition of the
	// generation the command read, or wrote last.
	marked, err := table.SvcStat().Update(st, read, func(t *table.Table) error {
		return t.Modify(level, func(x *table.Entry) { x.Set(tagPending, what); x.Remove(tagPackage) })
	})
	if err != nil {
		return res, err
	}
	// Write the parts, streaming the envelope once more and verifying each
	// part's SHA-256 as it goes.
	if err := cms.ReadFile(disk, envID, func(r io.Reader) error { return e.writeParts(p, vrm, level, comps, r) }); err != nil {
		return res, err
	}
	nucleus := false
	for _, c := range comps {
		applied := 0
		for _, part := range parts {
			if part.Component != c {
				continue
			}
			applied++
			nucleus = nucleus || inventory.IsNucleus(part)
			if err := inventory.Put(cats[c], part, origin); err != nil {
				return res, err
			}
		}
		if err := e.recordService(p, vrm, level, c, man, origin, parts); err != nil {
			return res, err
		}
		if origin != "" {
			res.Addf(msg.CSM2725I, man.Name, origin, c, level, applied)
		} else {
			res.Addf(msg.CSM2724I, man.Name, c, level, applied)
		}
	}
	if nucleus {
		cyls, part, err := e.buildNucleus(p, vrm, level, cats["CMS"])
		if err != nil {
			return res, Refuse(msg.CSM2731E, err.Error())
		}
		if err := inventory.Put(cats["CMS"], part, ""); err != nil {
			return res, err
		}
		res.Addf(msg.CSM2730I, TestBuildDir(vrm, level).String(), cyls)
	}
	for _, c := range comps {
		a, err := p.Dir(CompDir(vrm, level, c))
		if err != nil {
			return res, err
		}
		if err := inventory.Write(a, c, cats[c]); err != nil {
			return res, err
		}
	}
	if origin != "" {
		if err := e.recordLocalmod(p, vrm, level, man, origin, comps, parts); err != nil {
			return res, err
		}
	}
	if err := e.writeBitmap(p, vrm, level, known); err != nil {
		return res, err
	}
	_, err = table.SvcStat().Update(st, marked, func(t *table.Table) error {
		return t.Modify(level, func(x *table.Entry) { x.Remove(tagPending) })
	})
	return res, err
}

func verb(origin string) string {
	if origin != "" {
		return "LOCALMOD"
	}
	return "SERVICE"
}

// envelopeRefusal reports a damaged envelope with its reason code and the
// offset of the failing member.
func envelopeRefusal(name string, err error) error {
	var se *servlink.Error
	if errors.As(err, &se) {
		return Refuse(msg.CSM2721E, name, se.Reason.String(), se.Offset, se.Error())
	}
	return err
}

// selectComponents resolves comp|ALL against the envelope and the level.
func selectComponents(vrm, comp, envelope string, inEnvelope, known []string) ([]string, error) {
	var out []string
	if comp == "ALL" {
		out = slices.Clone(inEnvelope)
	} else {
		if !slices.Contains(inEnvelope, comp) {
			return nil, Refuse(msg.CSM2722E, comp, envelope)
		}
		out = []string{comp}
	}
	for _, c := range out {
		if !slices.Contains(known, c) {
			return nil, Refuse(msg.CSM2723E, c, vrm)
		}
	}
	slices.Sort(out)
	return out, nil
}

func partsOf(m servlink.Manifest, comps []string) []servlink.Part {
	var out []servlink.Part
	for _, p := range m.Parts {
		if slices.Contains(comps, p.Component) {
			out = append(out, p)
		}
	}
	return out
}

// checkServiceRoom refuses service that would overrun the release's file
// space: the new parts' blocks less those of the files they replace, plus
// room for a rebuilt nucleus dump.
func (e *Env) checkServiceRoom(p cms.FilePool, vrm string, cats map[string]*table.Table, parts []servlink.Part) error {
	var need int64
	for _, part := range parts {
		need += cms.BlocksFor(part.Size)
		if old, ok := cats[part.Component].Get(inventory.Key(part.Area, part.File)); ok {
			size, _ := strconv.ParseInt(get(old, "SIZE"), 10, 64)
			need -= cms.BlocksFor(size)
		}
		if inventory.IsNucleus(part) {
			need += cms.BlocksFor(part.Size) + 16 // the dump carries it again
		}
	}
	limit, used, err := p.Quota(Space(vrm))
	if err != nil {
		return err
	}
	if need > 0 && used+need > limit {
		return Refuse(msg.CSM0030E, Pool+":"+Space(vrm)+".", "service", need, limit-used)
	}
	return nil
}

// writeParts streams the envelope's parts of comps into their areas. A
// part whose bytes do not match the manifest is not committed.
func (e *Env) writeParts(p cms.FilePool, vrm, level string, comps []string, r io.Reader) error {
	rd, err := servlink.NewReader(r)
	if err != nil {
		return err
	}
	for {
		part, body, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !slices.Contains(comps, part.Component) {
			continue // Next skips what is not read
		}
		d := AreaDir(vrm, level, part.Component, part.Area)
		a, err := p.Dir(d)
		if errors.Is(err, cms.ErrNotFound) {
			if err := p.CreateDir(d, Admin); err != nil {
				return err
			}
			a, err = p.Dir(d)
		}
		if err != nil {
			return err
		}
		id, err := cms.ParseFileID(part.File)
		if err != nil {
			return err
		}
		if err := cms.WriteFile(a, id, func(w io.Writer) error {
			_, err := io.Copy(w, body)
			return err
		}); err != nil {
			return err
		}
	}
}

// recordService adds the envelope to SRVRECS, its PTFs to SRVAPPS and its
// BUILD parts to SRVBLDS of comp.
func (e *Env) recordService(p cms.FilePool, vrm, level, comp string, m servlink.Manifest, origin string, parts []servlink.Part) error {
	a, err := p.Dir(CompDir(vrm, level, comp))
	if err != nil {
		return err
	}
	st := table.NewStore(a, e.Locker)
	date := e.now()
	n := 0
	for _, part := range parts {
		if part.Component == comp {
			n++
		}
	}
	kind := string(m.Kind)
	if origin != "" {
		kind += "/" + origin
	}
	if _, err := st.Apply(srvrecsKind.file(comp), srvrecsKind.key, func(t *table.Table) error {
		_ = t.Delete(m.Name) // service applied again replaces its record
		return t.Add(table.NewEntry(srvrecsKind.key, m.Name, "KIND", kind, "DATE", date, "PARTS", strconv.Itoa(n)))
	}); err != nil {
		return err
	}
	if _, err := st.Apply(srvappsKind.file(comp), srvappsKind.key, func(t *table.Table) error {
		for _, part := range parts {
			if part.Component != comp || part.PTF == "" {
				continue
			}
			if _, ok := t.Get(part.PTF); !ok {
				if err := t.Add(table.NewEntry(srvappsKind.key, part.PTF, "ENVELOPE", m.Name, "DATE", date)); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	_, err = st.Apply(srvbldsKind.file(comp), srvbldsKind.key, func(t *table.Table) error {
		for _, part := range parts {
			if part.Component != comp || part.Area != servlink.AreaBuild {
				continue
			}
			_ = t.Delete(inventory.Key(part.Area, part.File))
			if err := t.Add(table.NewEntry(srvbldsKind.key, inventory.Key(part.Area, part.File), "PTF", orDash(part.PTF), "ENVELOPE", m.Name, "DATE", date)); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// recordLocalmod lists a local modification in the level's VVTLCL summary.
func (e *Env) recordLocalmod(p cms.FilePool, vrm, level string, m servlink.Manifest, origin string, comps []string, parts []servlink.Part) error {
	a, err := p.Dir(LevelDir(vrm, level))
	if err != nil {
		return err
	}
	st := table.NewStore(a, e.Locker)
	_, err = st.Apply(VVTLCLID, "LOCALMOD", func(t *table.Table) error {
		_ = t.Delete(m.Name)
		return t.Add(table.NewEntry("LOCALMOD", m.Name, "ORIGIN", origin, "COMP", strings.Join(comps, " "), "PARTS", strconv.Itoa(len(parts)), "DATE", e.now()))
	})
	return err
}
