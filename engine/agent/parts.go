package agent

import (
	"errors"
	"io"
	"strconv"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// isNucleusDump reports whether p is the DDR dump of the nucleus, which
// travels in the CMS SERVLINK as a BUILD part.
func isNucleusDump(p servlink.Part) bool {
	return p.Component == "CMS" && p.Area == servlink.AreaBuild && p.File == NucleusID.Name()
}

// readCatalog reads comp's PARTCAT of the test build; a component without
// one gets an empty catalog.
func (e *Env) readCatalog(p cms.FilePool, comp string) (*table.Table, error) {
	a, err := p.Dir(CompDir(e.Release, comp))
	if errors.Is(err, cms.ErrNotFound) {
		return inventory.New(), nil
	}
	if err != nil {
		return nil, err
	}
	t, err := inventory.Read(a, comp)
	if errors.Is(err, cms.ErrNotFound) {
		return inventory.New(), nil
	}
	return t, err
}

// writeCatalog writes comp's PARTCAT of the test build.
func (e *Env) writeCatalog(p cms.FilePool, comp string, t *table.Table) error {
	a, err := e.ensureDir(p, CompDir(e.Release, comp))
	if err != nil {
		return err
	}
	return inventory.Write(a, comp, t)
}

// areaDir names comp's area directories of the test build.
func (e *Env) areaDir(comp string) func(area string) cms.DirID {
	return func(area string) cms.DirID { return AreaDir(e.Release, comp, area) }
}

// checkRoom refuses parts that would overrun MAINTvrm's file space: the
// new parts' blocks less those of the files they replace.
func (e *Env) checkRoom(p cms.FilePool, cats map[string]*table.Table, parts []servlink.Part, what string) error {
	var need int64
	for _, part := range parts {
		need += cms.BlocksFor(part.Size)
		if cat := cats[part.Component]; cat != nil {
			if old, ok := cat.Get(inventory.Key(part.Area, part.File)); ok {
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
// not match is not committed. A trusted stream (its receipt matched) is
// not verified again, and its parts are linked into place where the
// system can (cms.RangeLinker) instead of written.
func (e *Env) writeParts(p cms.FilePool, r io.Reader, trusted bool, keep func(servlink.Part) bool) ([]servlink.Part, error) {
	open := servlink.NewReader
	if trusted {
		open = servlink.NewTrustedReader
	}
	rd, err := open(r)
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
		if l, ok := a.(cms.RangeLinker); ok && trusted {
			linked, err := l.LinkRange(r, rd.ContentOffset(), part.Size, id)
			if err != nil {
				return done, err
			}
			if linked {
				done = append(done, part)
				continue
			}
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
