package level

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// The VMSES/E inventory of a component, kept as tag tables in the
// component's directory of a level:
//
//	<COMP> PARTCAT  every part:        :PART.BUILD DMSNUC TEXT :SIZE.n :SHA256.x :PTF.UM1 :NUC.YES :ORIGIN.IBM
//	<COMP> SRVRECS  envelopes received: :ENVELOPE.RSU0801 :KIND.RSU :DATE.d :PARTS.n
//	<COMP> SRVAPPS  PTFs applied:       :PTF.UM12345 :ENVELOPE.RSU0801 :DATE.d
//	<COMP> SRVBLDS  parts built:        :PART.BUILD DMSNUC TEXT :PTF.UM12345 :DATE.d
//
// and CSMPKG BASELIST in the level's top directory: the parts of the
// based-on level (:PART.CMS BUILD DMSNUC TEXT :SHA256.x), what a managed
// system at that level has, so PACKAGE can send only the difference.
var (
	partcatKind  = inventoryKind("PARTCAT", "PART")
	srvrecsKind  = inventoryKind("SRVRECS", "ENVELOPE")
	srvappsKind  = inventoryKind("SRVAPPS", "PTF")
	srvbldsKind  = inventoryKind("SRVBLDS", "PART")
	baselistName = "BASELIST"
)

type kind struct{ name, key string }

func inventoryKind(name, key string) kind { return kind{name, key} }

func (k kind) file(comp string) cms.FileID { return cms.MustParseFileID(comp + " " + k.name) }

// NucleusFiles are the CMS BUILD parts that make up the CMS nucleus in
// every release; envelopes may flag more.
var NucleusFiles = []string{"DMSINS TEXT", "DMSNUC TEXT"}

// isNucleus applies the rule: the listed CMS BUILD parts, or any part an
// envelope flags.
func isNucleus(p servlink.Part) bool {
	return p.Nucleus || (p.Component == "CMS" && p.Area == servlink.AreaBuild && slices.Contains(NucleusFiles, p.File))
}

// partKey is the PARTCAT key of a part: area and file id.
func partKey(area, file string) string { return area + " " + file }

// catalogEntry is a PARTCAT entry for p.
func catalogEntry(p servlink.Part, origin string) table.Entry {
	e := table.NewEntry("PART", partKey(p.Area, p.File), "SIZE", strconv.FormatInt(p.Size, 10), "SHA256", p.SHA256)
	if p.PTF != "" {
		e.Set("PTF", p.PTF)
	}
	if isNucleus(p) {
		e.Set("NUC", "YES")
	}
	if origin != "" {
		e.Set("ORIGIN", origin)
	}
	return e
}

// partOf turns a PARTCAT entry back into a part of comp.
func partOf(comp string, en table.Entry) (servlink.Part, error) {
	area, file, ok := strings.Cut(en.Key(), " ")
	size, err := strconv.ParseInt(get(en, "SIZE"), 10, 64)
	if !ok || err != nil {
		return servlink.Part{}, fmt.Errorf("%s PARTCAT: entry %q is damaged", comp, en.Key())
	}
	return servlink.Part{Component: comp, Area: area, File: file, Size: size, SHA256: get(en, "SHA256"),
		PTF: get(en, "PTF"), Nucleus: get(en, "NUC") == "YES"}, nil
}

// writeTable writes a fresh table file (generation 1) in a, replacing any.
func writeTable(a cms.FileArea, id cms.FileID, t *table.Table) error {
	return cms.WriteFile(a, id, func(w io.Writer) error {
		_, err := t.WriteTo(w)
		return err
	})
}

// readTable reads a table file of a.
func readTable(a cms.FileArea, id cms.FileID, name, key string) (*table.Table, error) {
	var t *table.Table
	err := cms.ReadFile(a, id, func(r io.Reader) error {
		var err error
		t, err = table.ParseAs(id.Name(), name, key, r)
		return err
	})
	return t, err
}

// catalogArea hashes every file of a component's areas into a PARTCAT,
// one pass over each file.
func catalogComponent(p cms.FilePool, vrm, level, comp string) (*table.Table, error) {
	t, err := table.New(partcatKind.name, partcatKind.key)
	if err != nil {
		return nil, err
	}
	for _, area := range servlink.Areas {
		a, err := p.Dir(AreaDir(vrm, level, comp, area))
		if err != nil {
			continue // a component need not have every area
		}
		files, err := a.List()
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			var part servlink.Part
			err := cms.ReadFile(a, f.ID, func(r io.Reader) error {
				size, sum, err := servlink.HashReader(r)
				part = servlink.Part{Component: comp, Area: area, File: f.ID.Name(), Size: size, SHA256: sum}
				return err
			})
			if err != nil {
				return nil, err
			}
			if err := t.Add(catalogEntry(part, "IBM")); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// readCatalog reads a component's PARTCAT in a level.
func readCatalog(p cms.FilePool, vrm, level, comp string) (*table.Table, error) {
	a, err := p.Dir(CompDir(vrm, level, comp))
	if err != nil {
		return nil, err
	}
	return readTable(a, partcatKind.file(comp), partcatKind.name, partcatKind.key)
}

// emptyInventory writes empty SRVRECS, SRVAPPS and SRVBLDS for comp.
func emptyInventory(a cms.FileArea, comp string) error {
	for _, k := range []kind{srvrecsKind, srvappsKind, srvbldsKind} {
		t, err := table.New(k.name, k.key)
		if err != nil {
			return err
		}
		if err := writeTable(a, k.file(comp), t); err != nil {
			return err
		}
	}
	return nil
}

// baselist makes CSMPKG BASELIST from the PARTCATs of a level: the parts
// a system at that level has.
func baselist(p cms.FilePool, vrm, level string, comps []string) (*table.Table, error) {
	t, err := table.New(baselistName, "PART")
	if err != nil {
		return nil, err
	}
	for _, c := range comps {
		cat, err := readCatalog(p, vrm, level, c)
		if err != nil {
			return nil, err
		}
		for _, en := range cat.List() {
			if err := t.Add(table.NewEntry("PART", c+" "+en.Key(), "SHA256", get(en, "SHA256"))); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}
