// Package inventory is the part inventory CSM keeps on both sides: the
// PARTCAT of a component (one entry per part of its DELTA, APPLY and BUILD
// areas, with size, SHA-256, PTF, nucleus flag and origin), the rule that
// says which parts make the CMS nucleus, and the catalog of a component's
// areas as they are on disk. The principal (engine/level) keeps one per
// component of each service level; a managed system (engine/agent) one per
// component of its test build.
package inventory

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// A PARTCAT is a tag table: :TABLE.PARTCAT, then one entry per part,
//
//	:PART.BUILD DMSNUC TEXT :SIZE.n :SHA256.x [:PTF.UM12345] [:NUC.YES] [:ORIGIN.IBM]
const (
	Table  = "PARTCAT"
	KeyTag = "PART"
)

// PartcatID is <comp> PARTCAT, in the component's directory.
func PartcatID(comp string) cms.FileID { return cms.MustParseFileID(comp + " PARTCAT") }

// Key is the PARTCAT key of a part: its area and file id, "BUILD DMSNUC TEXT".
func Key(area, file string) string { return area + " " + file }

// NucleusFiles are the CMS BUILD parts that make up the CMS nucleus in
// every release; envelopes may flag more.
func NucleusFiles() []string { return []string{"DMSINS TEXT", "DMSNUC TEXT"} }

// IsNucleus applies the nucleus rule: the NucleusFiles of CMS BUILD, or
// any part an envelope flags.
func IsNucleus(p servlink.Part) bool {
	return p.Nucleus || (p.Component == "CMS" && p.Area == servlink.AreaBuild && slices.Contains(NucleusFiles(), p.File))
}

// Entry is the PARTCAT entry of p; origin (IBM, VENDOR, CUSTOMER) is left
// out when "".
func Entry(p servlink.Part, origin string) table.Entry {
	e := table.NewEntry(KeyTag, Key(p.Area, p.File), "SIZE", strconv.FormatInt(p.Size, 10), "SHA256", p.SHA256)
	if p.PTF != "" {
		e.Set("PTF", p.PTF)
	}
	if IsNucleus(p) {
		e.Set("NUC", "YES")
	}
	if origin != "" {
		e.Set("ORIGIN", origin)
	}
	return e
}

// PartOf turns a PARTCAT entry of comp back into a part.
func PartOf(comp string, en table.Entry) (servlink.Part, error) {
	get := func(tag string) string { v, _ := en.Get(tag); return v }
	area, file, ok := strings.Cut(en.Key(), " ")
	size, err := strconv.ParseInt(get("SIZE"), 10, 64)
	if !ok || err != nil {
		return servlink.Part{}, fmt.Errorf("%s PARTCAT: entry %q is damaged", comp, en.Key())
	}
	return servlink.Part{Component: comp, Area: area, File: file, Size: size, SHA256: get("SHA256"),
		PTF: get("PTF"), Nucleus: get("NUC") == "YES"}, nil
}

// New is an empty PARTCAT.
func New() *table.Table {
	t, err := table.New(Table, KeyTag)
	if err != nil {
		panic(err) // the name and key tag are constants
	}
	return t
}

// Put adds p's entry to cat, or replaces the entry of the same part.
func Put(cat *table.Table, p servlink.Part, origin string) error {
	en := Entry(p, origin)
	if _, ok := cat.Get(en.Key()); ok {
		return cat.Modify(en.Key(), func(x *table.Entry) { *x = en })
	}
	return cat.Add(en)
}

// Read reads comp's PARTCAT from its component directory a.
func Read(a cms.FileArea, comp string) (*table.Table, error) {
	return table.Load(a, PartcatID(comp), Table, KeyTag)
}

// Write writes comp's PARTCAT into its component directory a.
func Write(a cms.FileArea, comp string, cat *table.Table) error {
	return table.Save(a, PartcatID(comp), cat)
}

// Walk calls fn with every file of comp's areas as a part, hashed, in area
// order (DELTA, APPLY, BUILD) then file order. dir names an area's
// directory; a component need not have every area, so a missing one is
// skipped. Any other error stops the walk.
func Walk(p cms.FilePool, comp string, dir func(area string) cms.DirID, fn func(servlink.Part) error) error {
	for _, area := range servlink.Areas() {
		a, err := p.Dir(dir(area))
		if errors.Is(err, cms.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		files, err := a.List()
		if err != nil {
			return err
		}
		for _, f := range files {
			var part servlink.Part
			err := cms.ReadFile(a, f.ID, func(r io.Reader) error {
				size, sum, err := servlink.HashReader(r)
				part = servlink.Part{Component: comp, Area: area, File: f.ID.Name(), Size: size, SHA256: sum}
				return err
			})
			if err != nil {
				return err
			}
			if err := fn(part); err != nil {
				return err
			}
		}
	}
	return nil
}

// Catalog hashes every file of comp's areas into a new PARTCAT, each entry
// with origin.
func Catalog(p cms.FilePool, comp string, dir func(area string) cms.DirID, origin string) (*table.Table, error) {
	cat := New()
	err := Walk(p, comp, dir, func(part servlink.Part) error { return cat.Add(Entry(part, origin)) })
	return cat, err
}
