package agent

import (
	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// Query is CSMAGENT QUERY: the inventory of the system, from the files as
// they are (each hashed), not from PARTCAT, so that drift shows. One entry
// per component, keyed by the component, and after it one per part of its
// areas (DELTA, APPLY, BUILD), keyed "COMP AREA FN FT":
//
//	:TABLE.INVENTRY :GEN.1
//	:PART.CMS :LEVEL.L2 :STATE.STABLE :PROD.L1 :MANAGED.YES
//	:PART.CMS BUILD DMSNUC TEXT :SHA256.9f… :SIZE.312
//
// It is written to the staging area as CSMAGENT INVENTRY.
func Query(env *Env) (*table.Table, msg.Result, error) {
	var res msg.Result
	unlock, err := env.lock()
	if err != nil {
		return nil, res, err
	}
	defer unlock()
	s, err := env.readSysuf()
	if err != nil {
		return nil, res, err
	}
	p, err := env.pool()
	if err != nil {
		return nil, res, err
	}
	stage, err := env.staging()
	if err != nil {
		return nil, res, err
	}
	t, err := table.New(InventoryTable, InventoryKey)
	if err != nil {
		return nil, res, err
	}
	comps := s.components()
	parts := 0
	for _, c := range comps {
		managed := s.tag(c, TagManaged)
		if managed != "YES" {
			managed = "NO"
		}
		if err := t.Add(table.NewEntry(InventoryKey, c, TagLevel, orNone(s.tag(c, TagLevel)), TagState, orNone(s.tag(c, TagState)),
			TagProd, orNone(s.tag(c, TagProd)), "MANAGED", managed)); err != nil {
			return nil, res, err
		}
		if err := inventory.Walk(p, c, env.areaDir(c), func(part servlink.Part) error {
			parts++
			return t.Add(table.NewEntry(InventoryKey, c+" "+inventory.Key(part.Area, part.File), "SHA256", part.SHA256,
				"SIZE", itoa(part.Size)))
		}); err != nil {
			return nil, res, err
		}
	}
	if err := table.Save(stage, proto.Inventory(), t); err != nil {
		return nil, res, err
	}
	res.Addf(msg.CSM3140I, env.Sys.Name(), stage.String()+" "+proto.Inventory().Name(), len(comps), parts)
	return t, res, nil
}
