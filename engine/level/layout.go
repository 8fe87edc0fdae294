// Package level is the principal's service level work: INITIALIZE and the
// SRVLVL operands (ADD, SERVICE, LOCALMOD, PACKAGE, SETLOCK, DELETE, QUERY,
// VMFSETUP), over the CMS world of engine/cms.
package level

import (
	"fmt"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/servlink"
)

// Where CSM keeps things (VMPSFS on the principal).
const (
	Pool  = "VMPSFS"
	Admin = "MAINTCSM"
	// AdminVaddr is MAINTCSM's A-disk: where SRVLVL SERVICE and LOCALMOD
	// find envelopes (<name> SERVLINK), where MAINTCSM NAMES lives, and
	// where SERVMGR logs before INITIALIZE.
	AdminVaddr = "0191"
	BaseLevel  = "BASE"
	// MinFreeBlocks is what INITIALIZE needs free in VMPSFS to load BASE.
	MinFreeBlocks = 355_800
	// MaxLevelName is the longest service level name (SERVICE EXEC limit).
	MaxLevelName = 16
)

// setupOrder is the VMSES/E service directories of each component in the
// order VMFSETUP accesses them.
func setupOrder() []string {
	return []string{servlink.AreaBuild, servlink.AreaApply, servlink.AreaDelta}
}

// Directories of a level that are not components.
const (
	TestBuild = "TESTBLD" // nucleus dump and other test-build objects
	Packages  = "PACKAGE" // SERVLINK files and the package manifest
)

// Files CSM keeps.
var (
	SvcStatID  = cms.MustParseFileID("CSM SVCSTAT")
	SysStatID  = cms.MustParseFileID("CSM SYSSTAT")
	NamesID    = cms.MustParseFileID("MAINTCSM NAMES")
	DescriptID = cms.MustParseFileID("SERVLVL DESCRIPT")
	BaselistID = cms.MustParseFileID("CSMPKG BASELIST")
	BitmapID   = cms.MustParseFileID("CSMSRV BITMAP")
	VVTLCLID   = cms.MustParseFileID("VVTLCL SUMMARY")
	ProfileID  = cms.MustParseFileID("VMSESE PROFILE")
	PPFID      = cms.MustParseFileID("CSM PPF")
	NucleusID  = cms.MustParseFileID("CMSNUC DDRDUMP")
	ManifestID = cms.MustParseFileID("CSMPKG MANIFEST")
)

// Inventory files of a component, named after it: CMS PARTCAT, ...
func SrvrecsID(comp string) cms.FileID  { return cms.MustParseFileID(comp + " SRVRECS") }
func SrvappsID(comp string) cms.FileID  { return cms.MustParseFileID(comp + " SRVAPPS") }
func SrvbldsID(comp string) cms.FileID  { return cms.MustParseFileID(comp + " SRVBLDS") }
func ServlinkID(comp string) cms.FileID { return cms.MustParseFileID(comp + " SERVLINK") }

// UnloadID is the CSMvrm UNLOAD file on MAINTvrm 5BC.
func UnloadID(vrm string) cms.FileID { return cms.MustParseFileID("CSM" + vrm + " UNLOAD") }

// Space is the release's file space, CSMvrm.
func Space(vrm string) string { return "CSM" + vrm }

// MaintUser is the release's service machine, MAINTvrm.
func MaintUser(vrm string) string { return "MAINT" + vrm }

func dir(space string, names ...string) cms.DirID {
	d, err := cms.NewDirID(Pool, space, names...)
	if err != nil {
		panic(fmt.Sprintf("level: bad directory %s %v: %v", space, names, err)) // names are checked before
	}
	return d
}

// ReleaseTop is VMPSFS:CSMvrm. (tables and $CSMCMD $MSGLOG).
func ReleaseTop(vrm string) cms.DirID { return dir(Space(vrm)) }

// AdminTop is VMPSFS:MAINTCSM. (the System Status Table).
func AdminTop() cms.DirID { return dir(Admin) }

// SystemDir is MAINTCSM.<system>, where a managed system's logs live.
func SystemDir(system string) cms.DirID { return dir(Admin, system) }

// LevelDir is CSMvrm.<level>.
func LevelDir(vrm, level string) cms.DirID { return dir(Space(vrm), level) }

// CompDir is CSMvrm.<level>.<comp>.
func CompDir(vrm, level, comp string) cms.DirID { return dir(Space(vrm), level, comp) }

// AreaDir is CSMvrm.<level>.<comp>.<area>.
func AreaDir(vrm, level, comp, area string) cms.DirID { return dir(Space(vrm), level, comp, area) }

// TestBuildDir is CSMvrm.<level>.TESTBLD, where the nucleus dump goes.
func TestBuildDir(vrm, level string) cms.DirID { return dir(Space(vrm), level, TestBuild) }

// PackageDir is CSMvrm.<level>.PACKAGE, where PACKAGE writes SERVLINKs.
func PackageDir(vrm, level string) cms.DirID { return dir(Space(vrm), level, Packages) }
