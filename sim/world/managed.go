package world

import (
	"fmt"
	"io"
	"path"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/cmsfs"
	"github.com/csmsim/csmsim/sim/ddr"
)

// A managed system's fixed resources (see engine/agent's layout).
const (
	// DefaultManagedVMPSFSBlocks is the managed system's VMPSFS capacity.
	DefaultManagedVMPSFSBlocks = 1_000_000
	// MaintSpaceBlocks is MAINTvrm's file space quota in VMPSFS.
	MaintSpaceBlocks = 400_000
	// ResVolser is the CKD volume holding MAINTvrm 0490 and 0190, kept in
	// the system's fs as /dasd/<volser>.img.
	ResVolser = "M01RES"
	// ResCylinders is the size of that 3390 volume: cylinder 0 (label),
	// then 0490 and 0190 side by side, then a spare cylinder. It is kept
	// small: afero's MemMapFs moves the rest of a file on every write into
	// its middle, so formatting costs the square of the image size.
	ResCylinders = 1 + 2*NucleusDiskCylinders + 1
	// NucleusDiskCylinders is the size of 0490 and of 0190: a 5-cylinder
	// CMS file area, then the recomp area (agent.RecompCylinders).
	NucleusDiskCylinders = 5 + agent.RecompCylinders
)

// ManagedOptions configure a new managed system.
type ManagedOptions struct {
	Name    string // system name, default VM01
	SSI     string // SSI cluster name: makes the system a member (SYSTEM ADD refuses it)
	Release string // default 720
	Seed    uint64
	// VMPSFSBlocks is the VMPSFS capacity; default DefaultManagedVMPSFSBlocks.
	VMPSFSBlocks int64
	// StagingCylinders is the size of CSMSERVE 0191, the staging disk, in
	// 3390 cylinders (180 4K blocks each); default DefaultStagingCylinders.
	StagingCylinders int
}

// DefaultStagingCylinders is CSMSERVE 0191's size: 300 cylinders, about
// 220 MB of packages.
const DefaultStagingCylinders = 300

func (o *ManagedOptions) defaults() {
	if o.Name == "" {
		o.Name = "VM01"
	}
	if o.Release == "" {
		o.Release = DefaultRelease
	}
	if o.VMPSFSBlocks == 0 {
		o.VMPSFSBlocks = DefaultManagedVMPSFSBlocks
	}
	if o.StagingCylinders == 0 {
		o.StagingCylinders = DefaultStagingCylinders
	}
}

// ResVolume is the path of the CKD image that holds 0490 and 0190.
func ResVolume() string { return path.Join(dasdRoot, ResVolser+".img") }

// InitManaged creates a fresh managed system in fsys: VMPSFS with MAINTvrm
// enrolled, CSMSERVE's staging disk (0191), MAINTvrm's 051D (VM SYSSUF,
// empty), A-disk (0191), and the CMS test-build and production disks 0490
// and 0190 as extents of a real 3390 volume image, each ending in
// agent.RecompCylinders recomp cylinders. No level is installed.
func InitManaged(fsys afero.Fs, o ManagedOptions) (*System, error) {
	o.defaults()
	s, err := create(fsys, Config{Name: o.Name, Role: "managed", SSI: o.SSI, Release: o.Release, Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	maint := agent.MaintUser(o.Release)
	w := s.CMS()
	pool, err := w.DefineFilePool(FilePoolName, o.VMPSFSBlocks, "MAINT", maint)
	if err != nil {
		return nil, err
	}
	if err := pool.Enroll("MAINT", maint, MaintSpaceBlocks); err != nil {
		return nil, err
	}
	if err := fsys.MkdirAll(dasdRoot, 0o755); err != nil {
		return nil, err
	}
	vol, err := ckd.Create(fsys, ResVolume(), "3390", ResCylinders, ResVolser)
	if err != nil {
		return nil, err
	}
	if err := vol.Close(); err != nil {
		return nil, err
	}
	disks := []cmsfs.MinidiskDef{
		{Owner: agent.StagingOwner, Vaddr: agent.StagingVaddr, DevType: "3390", Cylinders: o.StagingCylinders},
		{Owner: maint, Vaddr: agent.SysufVaddr, DevType: "3390", Cylinders: 10},
		{Owner: maint, Vaddr: agent.LocalDiskVaddr, DevType: "3390", Cylinders: 50},
		{Owner: maint, Vaddr: agent.TestBuildDisk, DevType: "3390", Cylinders: NucleusDiskCylinders,
			RecompCylinders: agent.RecompCylinders, Volume: ResVolume(), StartCylinder: 1},
		{Owner: maint, Vaddr: agent.ProdDisk, DevType: "3390", Cylinders: NucleusDiskCylinders,
			RecompCylinders: agent.RecompCylinders, Volume: ResVolume(), StartCylinder: 1 + NucleusDiskCylinders},
	}
	for _, d := range disks {
		if _, err := w.DefineMinidisk(d); err != nil {
			return nil, err
		}
	}
	sysuf, err := w.Minidisk(maint, agent.SysufVaddr)
	if err != nil {
		return nil, err
	}
	if err := agent.Sysuf().Create(table.NewStore(sysuf, table.NewMemLocker())); err != nil {
		return nil, fmt.Errorf("creating VM SYSSUF: %w", err)
	}
	return s, nil
}

// Agent is the CSMAGENT environment of a managed system. All Envs of one
// system must share locker (nil makes a new in-memory one: fine for one
// Env per process).
func (s *System) Agent(clock cms.Clock, locker table.Locker) *agent.Env {
	if locker == nil {
		locker = table.NewMemLocker()
	}
	return &agent.Env{Sys: s, Locker: locker, Clock: clock, Release: s.cfg.Release}
}

// DASDMinidisk is a minidisk defined on an extent of a CKD volume: its CMS
// file area (cmsfs) and DDR over its cylinders (ddr.MinidiskIO). It
// implements cms.DASDMinidisk.
type DASDMinidisk struct {
	*cmsfs.Minidisk
	io ddr.MinidiskIO
}

var _ cms.DASDMinidisk = (*DASDMinidisk)(nil)

// DumpCylinders implements cms.CylinderIO.
func (d *DASDMinidisk) DumpCylinders(from, to int, w io.Writer) error {
	return d.io.DumpCylinders(from, to, w)
}

// RestoreCylinders implements cms.CylinderIO.
func (d *DASDMinidisk) RestoreCylinders(dump io.ReadSeeker, reorderTo int) error {
	return d.io.RestoreCylinders(dump, reorderTo)
}

// WriteBlocks implements cms.CylinderIO.
func (d *DASDMinidisk) WriteBlocks(from int, r io.Reader) (int, error) {
	return d.io.WriteBlocks(from, r)
}

// IO is DDR over the minidisk's extent.
func (d *DASDMinidisk) IO() ddr.MinidiskIO { return d.io }

// minidisk gives a minidisk the DDR capability when it lies on a volume.
func (s *System) minidisk(m *cmsfs.Minidisk) cms.Minidisk {
	vol, start := m.Extent()
	if vol == "" {
		return m
	}
	return &DASDMinidisk{Minidisk: m, io: ddr.MinidiskIO{FS: s.fs, Volume: vol, Start: start, Cylinders: m.Cylinders()}}
}

// Sysuf reads the system's VM SYSSUF (MAINTvrm 051D) as it is, without
// writing anything and without the agent's lock, which a crashed or
// stalled job may hold: what the system says of itself, for whoever
// watches it from outside (the simulator, a test).
func (s *System) Sysuf() (*table.Table, error) {
	disk, err := s.Minidisk(agent.MaintUser(s.cfg.Release), agent.SysufVaddr)
	if err != nil {
		return nil, err
	}
	return agent.Sysuf().Read(table.NewStore(disk, table.NewMemLocker()))
}
