// Package world assembles emulated z/VM systems: a principal and managed
// systems, each a CMS/SFS world plus CKD volumes, kept in one afero.Fs (a
// state directory on disk, or memory).
package world

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sync"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/cmsfs"
	"github.com/csmsim/csmsim/sim/ddr"
	"github.com/csmsim/csmsim/sim/hostfs"
)

// Layout inside a system's fs.
const (
	configFile = "/system.json"
	cmsRoot    = "/cms"
	dasdRoot   = "/dasd"
)

// Config is what system.json keeps about a system.
type Config struct {
	Name    string `json:"name"`
	Role    string `json:"role"` // "principal" or "managed"
	SSI     string `json:"ssi,omitempty"`
	Release string `json:"release"`
	// Releases are every release a principal carries when it carries more
	// than Release (which is the first of them).
	Releases []string `json:"releases,omitempty"`
	Seed     uint64   `json:"seed"`
}

// AllReleases are the releases the system carries: Releases, or Release.
func (c Config) AllReleases() []string {
	if len(c.Releases) > 0 {
		return c.Releases
	}
	return []string{c.Release}
}

// System is one emulated z/VM system. It implements cms.System.
type System struct {
	fs  afero.Fs
	cfg Config
	cms *cmsfs.World

	mu    sync.Mutex
	tdisk int // counter for temporary disk names
}

var _ cms.System = (*System)(nil)

// ErrNoSystem means the fs holds no system yet.
var ErrNoSystem = errors.New("no system here")

// Open opens the system kept in fsys, tidying what interrupted writes
// left: no other process may be working in it.
func Open(fsys afero.Fs) (*System, error) { return openConfig(fsys, cmsfs.New) }

// Join opens the system kept in fsys while another process may be working
// in it (a node's CSMSERVE while its MAINT720 runs a command).
func Join(fsys afero.Fs) (*System, error) { return openConfig(fsys, cmsfs.Join) }

func openConfig(fsys afero.Fs, openCMS func(afero.Fs) (*cmsfs.World, error)) (*System, error) {
	b, err := afero.ReadFile(fsys, configFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s not found; create one first (csmsim principal init)", ErrNoSystem, configFile)
	}
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %v; the state is damaged", configFile, err)
	}
	return open(fsys, cfg, openCMS)
}

func open(fsys afero.Fs, cfg Config, openCMS func(afero.Fs) (*cmsfs.World, error)) (*System, error) {
	if err := fsys.MkdirAll(cmsRoot, 0o755); err != nil {
		return nil, err
	}
	w, err := openCMS(hostfs.Sub(fsys, cmsRoot))
	if err != nil {
		return nil, err
	}
	return &System{fs: fsys, cfg: cfg, cms: w}, nil
}

// create writes a new system's config; it refuses an fs that has one.
func create(fsys afero.Fs, cfg Config) (*System, error) {
	if _, err := fsys.Stat(configFile); err == nil {
		return nil, fmt.Errorf("a system (%s) already exists here; use a new state directory", configFile)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := afero.WriteFile(fsys, configFile, append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return open(fsys, cfg, cmsfs.New)
}

// Name is the system name.
func (s *System) Name() string { return s.cfg.Name }

// SSIName is the SSI cluster name, "" if the system is not a member.
func (s *System) SSIName() string { return s.cfg.SSI }

// Config is the system's configuration.
func (s *System) Config() Config { return s.cfg }

// CMS is the system's CMS/SFS world.
func (s *System) CMS() *cmsfs.World { return s.cms }

// FS is the system's whole state.
func (s *System) FS() afero.Fs { return s.fs }

// FilePool implements cms.System.
func (s *System) FilePool(name string) (cms.FilePool, error) {
	p, err := s.cms.FilePool(name)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Minidisk implements cms.System.
func (s *System) Minidisk(owner, vaddr string) (cms.Minidisk, error) {
	m, err := s.cms.Minidisk(owner, vaddr)
	if err != nil {
		return nil, err
	}
	return s.minidisk(m), nil // a cms.DASDMinidisk when it lies on a volume
}

// TempDisk implements cms.System: a fresh CKD volume that exists until
// released, like a T-disk that goes away at DETACH.
func (s *System) TempDisk(user, devType string, cyls int) (cms.CylinderIO, func() error, error) {
	if err := s.fs.MkdirAll(dasdRoot, 0o755); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	s.tdisk++
	name := path.Join(dasdRoot, fmt.Sprintf("T%s.%d.img", user, s.tdisk))
	s.mu.Unlock()
	_ = s.fs.Remove(name) // a leftover of a crashed run is a scratch disk too
	v, err := ckd.Create(s.fs, name, devType, cyls, "T"+fmt.Sprint(s.tdisk%100000))
	if err != nil {
		return nil, nil, err
	}
	if err := v.Close(); err != nil {
		return nil, nil, err
	}
	release := func() error {
		if err := s.fs.Remove(name); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	return ddr.MinidiskIO{FS: s.fs, Volume: name, Start: 0, Cylinders: cyls}, release, nil
}
