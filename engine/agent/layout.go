// Package agent is the managed-system half of CSM: CSMAGENT (LOAD, with
// CSMPKGLD for the nucleus; PUT2PROD; QUERY), SERVMGR MANAGED OFF|ON and
// local SERVICE, run as the system's MAINTvrm against engine/cms.
package agent

import (
	"fmt"

	"github.com/csmsim/csmsim/engine/cms"
)

// A managed system, as csmsim lays it out (z/VM 7.2 service layout, reduced
// to what CSM touches):
//
//	CSMSERVE 0191                  staging area: the FTP root of CSMSERVE
//	MAINTvrm 051D                  VM SYSSUF: per component :LEVEL, :STATE, :PROD, :CSM_MANAGED
//	VMPSFS:MAINTvrm.<comp>         <comp> PARTCAT of the test build
//	VMPSFS:MAINTvrm.<comp>.<area>  DELTA, APPLY, BUILD: service and the test build
//	VMPSFS:MAINTvrm.PROD<A|B>.<comp>  production copies of the BUILD areas; SYSSUF's
//	                               :PRODSIDE says which side is live
//	MAINTvrm 0490                  CMS test-build disk; its last cylinders are the
//	                               recomp area CSMPKGLD restores the nucleus onto
//	MAINTvrm 0190                  CMS production system disk (recomp area the same)
//	VMPSFS:MAINTvrm.               $CSMCMD $MSGLOG
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
)

// Files of the protocol and the inventory.
var (
	SysufID     = cms.MustParseFileID("VM SYSSUF")
	ManifestID  = cms.MustParseFileID("CSMPKG MANIFEST")
	InventoryID = cms.MustParseFileID("CSMAGENT INVENTRY")
	MsgLogID    = cms.MustParseFileID("$CSMCMD $MSGLOG")
	NucleusID   = cms.MustParseFileID("CMSNUC DDRDUMP")
)

// JobMessagesID is the staging file with job n's messages.
func JobMessagesID(n int) cms.FileID { return cms.MustParseFileID(fmt.Sprintf("J%07d MSGS", n%10_000_000)) }

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
