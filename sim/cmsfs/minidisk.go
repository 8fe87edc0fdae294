package cmsfs

import (
	"fmt"
	"path/filepath"

	"github.com/csmsim/csmsim/engine/cms"
)

// MinidiskDef defines a CMS-formatted minidisk. Volume and StartCylinder
// locate its extent on a CKD volume image; cmsfs only keeps them, the CKD
// package reads and writes those cylinders.
type MinidiskDef struct {
	Owner           string `json:"owner"`
	Vaddr           string `json:"vaddr"`
	DevType         string `json:"devtype"` // "3390" or "3380"
	Cylinders       int    `json:"cylinders"`
	RecompCylinders int    `json:"recomp_cylinders"` // the last ones, holding the nucleus
	Volume          string `json:"volume"`
	StartCylinder   int    `json:"start_cylinder"`
}

// Minidisk is a defined minidisk; its file area holds CMS files. It
// implements cms.Minidisk.
type Minidisk struct {
	*area
	def MinidiskDef
}

var _ cms.Minidisk = (*Minidisk)(nil)

func diskKey(owner, vaddr string) string { return owner + "." + vaddr }

// check validates d and returns it with names folded and the capacity of
// its file area in blocks.
func (d MinidiskDef) check() (MinidiskDef, int64, error) {
	var err error
	if d.Owner, err = cms.ParseUserID(d.Owner); err != nil {
		return d, 0, err
	}
	if d.Vaddr, err = cms.ParseVaddr(d.Vaddr); err != nil {
		return d, 0, err
	}
	perCyl, err := cms.BlocksPerCylinder(d.DevType)
	if err != nil {
		return d, 0, err
	}
	name := d.Owner + " " + d.Vaddr
	switch {
	case d.Cylinders <= 0:
		return d, 0, fmt.Errorf("minidisk %s: %d cylinders; need at least 1", name, d.Cylinders)
	case d.RecompCylinders < 0 || d.RecompCylinders >= d.Cylinders:
		return d, 0, fmt.Errorf("minidisk %s: %d recomp cylinders leave no file area in %d cylinders", name, d.RecompCylinders, d.Cylinders)
	case d.StartCylinder < 0:
		return d, 0, fmt.Errorf("minidisk %s: start cylinder %d is negative", name, d.StartCylinder)
	}
	return d, int64(d.Cylinders-d.RecompCylinders) * int64(perCyl), nil
}

func (w *World) newMinidisk(d MinidiskDef, capacity int64) *Minidisk {
	name := d.Owner + " " + d.Vaddr
	l := &ledger{label: "minidisk " + name, limit: capacity, full: cms.ErrDiskFull,
		hint: "erase files or give the minidisk more cylinders"}
	return &Minidisk{
		area: &area{w: w, name: name, dir: filepath.Join(mdiskRoot, diskKey(d.Owner, d.Vaddr)), ledgers: []*ledger{l}},
		def:  d,
	}
}

// DefineMinidisk defines an empty, formatted minidisk.
func (w *World) DefineMinidisk(d MinidiskDef) (*Minidisk, error) {
	d, capacity, err := d.check()
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	key := diskKey(d.Owner, d.Vaddr)
	if _, ok := w.disks[key]; ok {
		return nil, &cms.Error{Object: d.Owner + " " + d.Vaddr, Err: cms.ErrExists}
	}
	m := w.newMinidisk(d, capacity)
	if err := w.fs.MkdirAll(m.dir, 0o755); err != nil {
		return nil, err
	}
	if err := w.writeJSON(filepath.Join(m.dir, ".minidisk.json"), d); err != nil {
		_ = w.fs.RemoveAll(m.dir)
		return nil, err
	}
	w.disks[key] = m
	return m, nil
}

// Minidisk looks up a defined minidisk by owner and virtual address.
func (w *World) Minidisk(owner, vaddr string) (*Minidisk, error) {
	o, err := cms.ParseUserID(owner)
	if err != nil {
		return nil, err
	}
	v, err := cms.ParseVaddr(vaddr)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	m, ok := w.disks[diskKey(o, v)]
	if !ok {
		return nil, &cms.Error{Object: o + " " + v, Err: cms.ErrNotFound, Detail: "no such minidisk is defined"}
	}
	return m, nil
}

func (w *World) loadMinidisks() error {
	names, err := w.subdirs(mdiskRoot)
	if err != nil {
		return err
	}
	for _, n := range names {
		meta := filepath.Join(mdiskRoot, n, ".minidisk.json")
		var d MinidiskDef
		if err := w.readJSON(meta, &d); err != nil {
			return err
		}
		d, capacity, err := d.check()
		if err != nil {
			return fmt.Errorf("%s: %w", meta, err)
		}
		m := w.newMinidisk(d, capacity)
		if m.ledgers[0].used, err = w.treeBlocks(m.dir); err != nil {
			return err
		}
		w.disks[diskKey(d.Owner, d.Vaddr)] = m
	}
	return nil
}

// Owner is the owning userid.
func (m *Minidisk) Owner() string { return m.def.Owner }

// Vaddr is the virtual address, 4 upper-case hex digits.
func (m *Minidisk) Vaddr() string { return m.def.Vaddr }

// DevType is "3390" or "3380".
func (m *Minidisk) DevType() string { return m.def.DevType }

// Cylinders is the minidisk's size, recomp area included.
func (m *Minidisk) Cylinders() int { return m.def.Cylinders }

// RecompCylinders is the nucleus area: the last count cylinders from start.
func (m *Minidisk) RecompCylinders() (start, count int) {
	return m.def.Cylinders - m.def.RecompCylinders, m.def.RecompCylinders
}

// CapacityBlocks is the file area's size: the cylinders outside the recomp area.
func (m *Minidisk) CapacityBlocks() int64 { return m.ledgers[0].limit }

// UsedBlocks counts the blocks files use, including writes in progress.
func (m *Minidisk) UsedBlocks() int64 {
	m.w.mu.Lock()
	defer m.w.mu.Unlock()
	return m.ledgers[0].used
}

// Extent is where the minidisk lies: the CKD volume and its first cylinder.
func (m *Minidisk) Extent() (volume string, startCylinder int) {
	return m.def.Volume, m.def.StartCylinder
}
