package level

import (
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/table"
)

// The VMSES/E inventory of a component, kept as tag tables in the
// component's directory of a level:
//
//	<COMP> PARTCAT  every part (engine/inventory)
//	<COMP> SRVRECS  envelopes received: :ENVELOPE.RSU0801 :KIND.RSU :DATE.d :PARTS.n
//	<COMP> SRVAPPS  PTFs applied:       :PTF.UM12345 :ENVELOPE.RSU0801 :DATE.d
//	<COMP> SRVBLDS  parts built:        :PART.BUILD DMSNUC TEXT :PTF.UM12345 :DATE.d
//
// and CSMPKG BASELIST in the level's top directory: the parts of the
// based-on level (:PART.CMS BUILD DMSNUC TEXT :SHA256.x), what a managed
// system at that level has, so PACKAGE can send only the difference.
var (
	srvrecsKind  = inventoryKind("SRVRECS", "ENVELOPE")
	srvappsKind  = inventoryKind("SRVAPPS", "PTF")
	srvbldsKind  = inventoryKind("SRVBLDS", "PART")
	baselistName = "BASELIST"
)

type kind struct{ name, key string }

func inventoryKind(name, key string) kind { return kind{name, key} }

func (k kind) file(comp string) cms.FileID { return cms.MustParseFileID(comp + " " + k.name) }

// readCatalog reads a component's PARTCAT in a level.
func readCatalog(p cms.FilePool, vrm, level, comp string) (*table.Table, error) {
	a, err := p.Dir(CompDir(vrm, level, comp))
	if err != nil {
		return nil, err
	}
	return inventory.Read(a, comp)
}

// catalogComponent hashes every file of a component's areas in a level
// into a PARTCAT; BASE's parts are IBM's.
func catalogComponent(p cms.FilePool, vrm, level, comp string) (*table.Table, error) {
	return inventory.Catalog(p, comp, func(area string) cms.DirID { return AreaDir(vrm, level, comp, area) }, "IBM")
}

// emptyInventory writes empty SRVRECS, SRVAPPS and SRVBLDS for comp.
func emptyInventory(a cms.FileArea, comp string) error {
	for _, k := range []kind{srvrecsKind, srvappsKind, srvbldsKind} {
		t, err := table.New(k.name, k.key)
		if err != nil {
			return err
		}
		if err := table.Save(a, k.file(comp), t); err != nil {
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
