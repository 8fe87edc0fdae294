package world

import (
	"fmt"
	"io"
	"slices"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/fixtures"
	"github.com/csmsim/csmsim/sim/cmsfs"
	"github.com/csmsim/csmsim/sim/memfs"
)

// The principal's fixed resources, as on a z/VM 7.2 system prepared for CSM.
const (
	FilePoolName   = "VMPSFS"
	DefaultRelease = "720"
	// DefaultVMPSFSBlocks leaves room for INITIALIZE's 355,800-block check.
	DefaultVMPSFSBlocks = 400_000
)

// PrincipalOptions configure a new principal.
type PrincipalOptions struct {
	Name         string // system name, default PRINCIPAL
	SSI          string // SSI cluster name: makes the principal a member, to rehearse INITIALIZE's refusal
	Release      string // default 720
	VMPSFSBlocks int64  // VMPSFS capacity in 4K blocks
	Seed         uint64 // seed of the generated BASE
	// Unload writes the CSMvrm UNLOAD file (FILEPOOL UNLOAD of CSMvrm.BASE)
	// that MAINTvrm's 5BC disk carries.
	Unload func(w io.Writer) error
	// Releases, when given, are every release the principal carries, in
	// place of Release and Unload: the seed keeps one MAINTvrm and one
	// CSMvrm "for each system release level included in z/VM CSM", so a
	// shop migrating from 7.2 to 7.3 serves both from one principal. The
	// first is the principal's own release (Config.Release).
	Releases []ReleaseBase
}

// ReleaseBase is one release a principal carries: MAINTvrm with its 05BC
// disk, and on it the CSMvrm UNLOAD file that Unload writes (none if nil).
type ReleaseBase struct {
	Release string
	Unload  func(w io.Writer) error
}

func (o *PrincipalOptions) defaults() {
	if o.Name == "" {
		o.Name = "PRINCIPAL"
	}
	if o.Release == "" {
		o.Release = DefaultRelease
	}
	if o.VMPSFSBlocks == 0 {
		o.VMPSFSBlocks = DefaultVMPSFSBlocks
	}
	if len(o.Releases) == 0 {
		o.Releases = []ReleaseBase{{Release: o.Release, Unload: o.Unload}}
	}
	o.Release = o.Releases[0].Release
}

// maintUser is the release's service userid, e.g. MAINT720.
func maintUser(release string) string { return "MAINT" + release }

// InitPrincipal creates a fresh principal in fsys: the VMPSFS file pool,
// for each release MAINTvrm with its 5BC disk holding the CSMvrm UNLOAD
// file, and MAINTCSM with its A-disk.
func InitPrincipal(fsys afero.Fs, o PrincipalOptions) (*System, error) {
	o.defaults()
	var releases []string
	for _, r := range o.Releases {
		if r.Release == "" || slices.Contains(releases, r.Release) {
			return nil, fmt.Errorf("release %q given twice or empty; give each release once, e.g. 720,730", r.Release)
		}
		releases = append(releases, r.Release)
	}
	cfg := Config{Name: o.Name, Role: "principal", SSI: o.SSI, Release: o.Release, Seed: o.Seed}
	if len(releases) > 1 {
		cfg.Releases = releases
	}
	s, err := create(fsys, cfg)
	if err != nil {
		return nil, err
	}
	w := s.CMS()
	admins := []string{"MAINT"} // and each release's MAINTvrm, as installing that release makes it
	for _, r := range releases {
		admins = append(admins, maintUser(r))
	}
	if _, err := w.DefineFilePool(FilePoolName, o.VMPSFSBlocks, admins...); err != nil {
		return nil, err
	}
	var disks []cmsfs.MinidiskDef
	for _, r := range releases {
		disks = append(disks, cmsfs.MinidiskDef{Owner: maintUser(r), Vaddr: "05BC", DevType: "3390", Cylinders: 100})
	}
	disks = append(disks, cmsfs.MinidiskDef{Owner: "MAINTCSM", Vaddr: "0191", DevType: "3390", Cylinders: 100})
	for _, d := range disks {
		if _, err := w.DefineMinidisk(d); err != nil {
			return nil, err
		}
	}
	for _, r := range o.Releases {
		if r.Unload != nil {
			if err := s.writeUnload(r.Release, r.Unload); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// UnloadFileID is the CSMvrm UNLOAD file's id on MAINTvrm 5BC.
func UnloadFileID(release string) string { return "CSM" + release + " UNLOAD" }

func (s *System) writeUnload(release string, write func(w io.Writer) error) error {
	disk, err := s.cms.Minidisk(maintUser(release), "05BC")
	if err != nil {
		return err
	}
	id := cms.MustParseFileID(UnloadFileID(release))
	w, err := disk.Create(id)
	if err != nil {
		return err
	}
	if err := write(w); err != nil {
		_ = w.Abort()
		return fmt.Errorf("writing %s on %s: %w", UnloadFileID(release), disk, err)
	}
	return w.Close()
}

// BaseUnload returns a writer of the CSMvrm UNLOAD file for base: the
// FILEPOOL UNLOAD of CSMvrm.BASE with one directory per component and
// area (CSMvrm.BASE.CMS.BUILD, ...), made in a scratch file pool in memory,
// as IBM builds it once for the product.
func BaseUnload(base fixtures.BaseSpec) func(w io.Writer) error {
	return func(w io.Writer) error {
		scratch, err := cmsfs.New(memfs.New(memfs.Options{}))
		if err != nil {
			return err
		}
		space := base.FileSpace()
		pool, err := scratch.DefineFilePool(FilePoolName, 1<<40, "MAINT")
		if err != nil {
			return err
		}
		if err := pool.Enroll("MAINT", space, 1<<40); err != nil {
			return err
		}
		top, err := cms.NewDirID(FilePoolName, space, "BASE")
		if err != nil {
			return err
		}
		if err := pool.CreateDir(top, "MAINT"); err != nil {
			return err
		}
		made := map[string]bool{}
		for _, p := range base.Parts {
			comp, err := top.Child(p.Component)
			if err != nil {
				return err
			}
			area, err := comp.Child(p.Area)
			if err != nil {
				return err
			}
			for _, d := range []cms.DirID{comp, area} {
				if !made[d.String()] {
					if err := pool.CreateDir(d, "MAINT"); err != nil {
						return err
					}
					made[d.String()] = true
				}
			}
			a, err := pool.Dir(area)
			if err != nil {
				return err
			}
			id, err := cms.ParseFileID(p.File)
			if err != nil {
				return err
			}
			fw, err := a.Create(id)
			if err != nil {
				return err
			}
			if _, err := io.Copy(fw, base.Open(p)); err != nil {
				_ = fw.Abort()
				return err
			}
			if err := fw.Close(); err != nil {
				return err
			}
		}
		return pool.Unload(top, w)
	}
}
