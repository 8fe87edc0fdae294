package agent

import (
	"errors"
	"io"
	"slices"
	"strconv"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// PARTCAT, as on the principal: one entry per part of a component, keyed
// by "AREA FN FT".
const (
	partcatName = "PARTCAT"
	partcatKey  = "PART"
)

// NucleusFiles are the CMS BUILD parts that make up the CMS nucleus in
// every release; envelopes may flag more (the principal's rule).
var NucleusFiles = []string{"DMSINS TEXT", "DMSNUC TEXT"}

func isNucleus(p servlink.Part) bool {
	return p.Nucleus || (p.Component == "CMS" && p.Area == servlink.AreaBuild && slices.Contains(NucleusFiles, p.File))
}

// isNucleusDump reports whether p is the DDR dump of the nucleus, which
// travels in the CMS SERVLINK as a BUILD part.
func isNucleusDump(p servlink.Part) bool {
	return p.Component == "CMS" && p.Area == servlink.AreaBuild && p.File == NucleusID.Name()
}

func partKey(area, file string) string { return area + " " + file }

// catalogEntry is the PARTCAT entry of p.
func catalogEntry(p servlink.Part) table.Entry {
	e := table.NewEntry(partcatKey, partKey(p.Area, p.File), "SIZE", strconv.FormatInt(p.Size, 10), "SHA256", p.SHA256)
	if p.PTF != "" {
		e.Set("PTF", p.PTF)
	}
	if isNucleus(p) {
		e.Set("NUC", "YES")
	}
	return e
}

// catalogPart adds or replaces p's entry in cat.
func catalogPart(cat *table.Table, p servlink.Part) error {
	en := catalogEntry(p)
	if _, ok := cat.Get(en.Key()); ok {
		return cat.Modify(en.Key(), func(x *table.Entry) { *x = en })
	}
	return cat.Add(en)
}

// readCatalog reads comp's PARTCAT; a component without one gets an empty
// catalog.
func (e *Env) readCatalog(p cms.FilePool, comp string) (*table.Table, error) {
	a, err := p.Dir(CompDir(e.Release, comp))
	if errors.Is(err, cms.ErrNotFound) {
		return table.New(partcatName, partcatKey)
	}
	if err != nil {
		return nil, err
	}
	var t *table.Table
	err = cms.ReadFile(a, PartcatID(comp), func(r io.Reader) error {
		var err error
		t, err = table.ParseAs(PartcatID(comp).Name(), partcatName, partcatKey, r)
		return err
	})
	if errors.Is(err, cms.ErrNotFound) {
		return table.New(partcatName, partcatKey)
	}
	return t, err
}

// writeCatalog writes comp's PARTCAT.
func (e *Env) writeCatalog(p cms.FilePool, comp string, t *table.Table) error {
	a, err := e.ensureDir(p, CompDir(e.Release, comp))
	if err != nil {
		return err
	}
	return writeTable(a, PartcatID(comp), t)
}

// catalogComponent hashes every file of comp's areas into a new PARTCAT.
func (e *Env) catalogComponent(p cms.FilePool, comp string) (*table.Table, error) {
	t, err := table.New(partcatName, partcatKey)
	if err != nil {
		return nil, err
	}
	err = e.eachPart(p, comp, func(part servlink.Part) error { return t.Add(catalogEntry(part)) })
	return t, err
}

// eachPart calls fn with every file of comp's areas, in area order
// (DELTA, APPLY, BUILD) then file order, hashed.
func (e *Env) eachPart(p cms.FilePool, comp string, fn func(servlink.Part) error) error {
	for _, area := range servlink.Areas {
		a, err := p.Dir(AreaDir(e.Release, comp, area))
		if errors.Is(err, cms.ErrNotFound) {
			continue // a component need not have every area
		}
		if err != nil {
			return err
		}
		files, err := a.List()
		if err != nil {
			return err
		}
		for _, f := range files {
			size, sum, err := hashFile(a, f.ID)
			if err != nil {
				return err
			}
			part := servlink.Part{Component: comp, Area: area, File: f.ID.Name(), Size: size, SHA256: sum}
			if err := fn(part); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRoom refuses parts that would overrun MAINTvrm's file space: the
// new parts' blocks less those of the files they replace.
func (e *Env) checkRoom(p cms.FilePool, cats map[string]*table.Table, parts []servlink.Part, what string) error {
	var need int64
	for _, part := range parts {
		need += cms.BlocksFor(part.Size)
		if cat := cats[part.Component]; cat != nil {
			if old, ok := cat.Get(partKey(part.Area, part.File)); ok {
				size, _ := strconv.ParseInt(get(old, "SIZE"), 10, 64)
				need -= cms.BlocksFor(size)
			}
		}
	}
	need += int64(len(cats)) // the PARTCATs grow
	return e.checkBlocks(p, need, what)
}

func (e *Env) checkBlocks(p cms.FilePool, need int64, what string) error {
	limit, used, err := p.Quota(e.maint())
	if err != nil {
		return err
	}
	if need > 0 && used+need > limit {
		return Refuse(msg.CSM0030E, Pool+":"+e.maint()+".", what, need, limit-used)
	}
	return nil
}

// writeParts streams a validated SERVLINK stream's parts that keep selects
// into their areas, creating directories as needed. The reader verifies
// each part's size and SHA-256 again as it is written; a part that does
// not match is not committed.
func (e *Env) writeParts(p cms.FilePool, r io.Reader, keep func(servlink.Part) bool) ([]servlink.Part, error) {
	rd, err := servlink.NewReader(r)
	if err != nil {
		return nil, err
	}
	var done []servlink.Part
	for {
		part, body, err := rd.Next()
		if err == io.EOF {
			return done, nil
		}
		if err != nil {
			return done, err
		}
		if keep != nil && !keep(part) {
			continue // Next skips (and verifies) what is not read
		}
		a, err := e.ensureDir(p, AreaDir(e.Release, part.Component, part.Area))
		if err != nil {
			return done, err
		}
		id, err := cms.ParseFileID(part.File)
		if err != nil {
			return done, err
		}
		if err := cms.WriteFile(a, id, func(w io.Writer) error {
			_, err := io.Copy(w, body)
			return err
		}); err != nil {
			return done, err
		}
		done = append(done, part)
	}
}
