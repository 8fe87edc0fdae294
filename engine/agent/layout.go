// Package agent is the managed-system half of CSM: CSMAGENT (LOAD, with
// CSMPKGLD for the nucleus; PUT2PROD; QUERY), SERVMGR MANAGED OFF|ON and
// local SERVICE, run as the system's MAINTvrm against engine/cms.
package agent

import (
	"fmt"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
)

// A managed system, as csmsim lays it out (z/VM 7.2 service layout, reduced
// to what CSM touches):
//
//	CSMSERVE 0191                  staging area: the FTP root of CSMSERVE
//	MAINTvrm 051D                  VM SYSSUF: per component :LEVEL, :BASEDON, :STATE, :PROD, :CSM_MANAGED
//	VMPSFS:MAINTvrm.<comp>         <comp> PARTCAT of the test build
//	VMPSFS:MAINTvrm.<comp>.<area>  DELTA, APPLY, BUILD: service and the test build
//	VMPSFS:MAINTvrm.PROD<A|B>.<comp>  production copies of the BUILD areas; SYSSUF's
//	                               :PRODSIDE says which side is live
//	MAINTvrm 0490                  CMS test-build disk; its last cylinders are the
//	                               recomp area CSMPKGLD restores the nucleus onto
//	MAINTvrm 0190                  CMS production system disk (recomp area the same)
//	MAINTvrm 0191                  A-disk: envelopes for emergency local SERVICE
//	VMPSFS:MAINTvrm.               $CSMCMD $MSGLOG
//
// VM SYSSUF is a tag table (engine/table) keyed by component; one entry per
// component VMSES/E knows, and one system entry keyed "*":
//
//	:TABLE.SYSSUF :GEN.7
//	:COMP.* :PRODSIDE.A
//	:COMP.CMS :LEVEL.VM010802_BLD2 :STATE.STABLE :PROD.VM010102_BLD1 :CSM_MANAGED.YES :BASEDON.VM010102_BLD1
//	:COMP.CP :LEVEL.VM010802_BLD2 :STATE.STABLE :PROD.VM010102_BLD1 :CSM_MANAGED.YES :BASEDON.VM010102_BLD1
//
// LEVEL is the service level in the test build (a level is system-wide:
// LOAD sets it for every component), BASEDON the level its package was
// based on (LOAD records it), STATE how it was loaded (TEST or
// STABLE), PROD the level in production ("-" for none) and CSM_MANAGED
// whether local SERVICE is blocked (YES) or allowed (NO). The "*" entry's
// PRODSIDE names the live production side, A or B (absent: nothing has been
// put into production; PUT2PROD then stages side A). Keeping both in one
// table lets PUT2PROD switch the side and every PROD in one update.
//
// <comp> PARTCAT in VMPSFS:MAINTvrm.<comp> has the principal's format
// (engine/level): :PART.BUILD DMSNUC TEXT :SIZE.n :SHA256.x [:PTF.p] [:NUC.YES],
// and :LOCALSVC.<envelope> on a part that local service wrote, until a
// LOAD replaces it.
const (
	Pool          = "VMPSFS"
	StagingOwner  = "CSMSERVE"
	StagingVaddr  = "0191"
	SysufVaddr    = "051D"
	TestBuildDisk = "0490"
	ProdDisk      = "0190"
	// RecompCylinders is the size of the nucleus area at the end of 0490
	// and 0190.
	RecompCylinders = 10
	// LocalDiskVaddr is MAINTvrm's A-disk, where SERVMGR MANAGED OFF's
	// emergency local SERVICE finds its envelopes.
	LocalDiskVaddr = "0191"
)

// VM SYSSUF tags and values.
const (
	SysufTable = "SYSSUF"
	TagComp    = "COMP"
	TagLevel   = "LEVEL"
	TagState   = "STATE"
	TagProd    = "PROD"
	TagManaged = "CSM_MANAGED"
	// TagLocal names the envelope of local service applied under MANAGED
	// OFF: the component no longer matches its LEVEL, so a COND load,
	// which promises "still at the based-on level", must refuse it.
	TagLocal = "LOCALSVC"
	// TagBasedOn is the level the loaded package was based on: with LEVEL,
	// the package's identity, which COND accepts as well as the based-on
	// level itself (a revised package of the same level).
	TagBasedOn  = "BASEDON"
	TagProdSide = "PRODSIDE"
	// TagLoading, on the system entry, names the level a LOAD began to
	// write and has not finished: the test build is a mix until a LOAD of
	// that level ends, and PUT2PROD refuses it.
	TagLoading = "LOADING"
	// SystemKey is the key of the SYSSUF entry that holds PRODSIDE.
	SystemKey   = "*"
	StateTest   = "TEST"
	StateStable = "STABLE"
	None        = "-"
)

// Sysuf is VM SYSSUF as a table kind: read, create and update it through
// a table.Store over MAINTvrm 051D.
func Sysuf() table.Kind { return table.Kind{File: SysufID, Name: SysufTable, KeyTag: TagComp} }

// Inventory table: CSMAGENT INVENTRY in the staging area.
const (
	InventoryTable = "INVENTRY"
	InventoryKey   = "PART"
)

// ServlinkID is <comp> SERVLINK (in the staging area) or <envelope>
// SERVLINK (on the A-disk).
func ServlinkID(name string) cms.FileID { return cms.MustParseFileID(name + " SERVLINK") }

// Files of the protocol and the inventory.
var (
	SysufID    = cms.MustParseFileID("VM SYSSUF")
	ManifestID = cms.MustParseFileID("CSMPKG MANIFEST")
	NucleusID  = cms.MustParseFileID("CMSNUC DDRDUMP")
)

// MaintUser is the release's service machine, MAINTvrm.
func MaintUser(vrm string) string { return "MAINT" + vrm }

func dir(vrm string, names ...string) cms.DirID {
	d, err := cms.NewDirID(Pool, MaintUser(vrm), names...)
	if err != nil {
		panic(fmt.Sprintf("agent: bad directory %v: %v", names, err))
	}
	return d
}

// CompDir is VMPSFS:MAINTvrm.<comp>.
func CompDir(vrm, comp string) cms.DirID { return dir(vrm, comp) }

// AreaDir is VMPSFS:MAINTvrm.<comp>.<area>.
func AreaDir(vrm, comp, area string) cms.DirID { return dir(vrm, comp, area) }

// ProdDir is VMPSFS:MAINTvrm.PROD<side>.<comp>, side "A" or "B".
func ProdDir(vrm, side, comp string) cms.DirID { return dir(vrm, "PROD"+side, comp) }

// Top is VMPSFS:MAINTvrm.
func Top(vrm string) cms.DirID { return dir(vrm) }

// ProdTop is VMPSFS:MAINTvrm.PROD<side>, side "A" or "B".
func ProdTop(vrm, side string) cms.DirID { return dir(vrm, "PROD"+side) }
