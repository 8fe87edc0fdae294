package level

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// Nucleus build geometry: BLDNUC's temporary disk is a 3390.
const (
	nucleusDevType    = "3390"
	blocksPerCylinder = 180
	nucleusBuildUser  = "BLDNUC"
	nucleusDumpArea   = TestBuild
)

// buildNucleus is SERVICE's BLDNUC step: the CMS nucleus parts of the
// level, in PARTCAT order, are written as 4K records onto a temporary
// minidisk, whose cylinders are then DDR-dumped into the level's test
// build directory. It returns the cylinders dumped and the dump as a part.
func (e *Env) buildNucleus(p cms.FilePool, vrm, level string, cat *table.Table) (int, servlink.Part, error) {
	var parts []servlink.Part
	var size int64
	for _, en := range cat.List() {
		part, err := inventory.PartOf("CMS", en)
		if err != nil {
			return 0, servlink.Part{}, err
		}
		if part.Nucleus && part.Area != nucleusDumpArea {
			parts = append(parts, part)
			size += part.Size
		}
	}
	if len(parts) == 0 {
		return 0, servlink.Part{}, errors.New("the CMS component has no nucleus parts")
	}
	slices.SortFunc(parts, func(a, b servlink.Part) int {
		return strings.Compare(inventory.Key(a.Area, a.File), inventory.Key(b.Area, b.File))
	})
	cyls := int(cms.BlocksFor(size)/blocksPerCylinder) + 1
	disk, release, err := e.Sys.TempDisk(nucleusBuildUser, nucleusDevType, cyls)
	if err != nil {
		return 0, servlink.Part{}, err
	}
	defer release()

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(e.streamParts(p, vrm, level, parts, pw)) }()
	used, err := disk.WriteBlocks(0, pr)
	pr.CloseWithError(err)
	if err != nil {
		return 0, servlink.Part{}, err
	}

	d := TestBuildDir(vrm, level)
	a, err := p.Dir(d)
	if errors.Is(err, cms.ErrNotFound) {
		if err = p.CreateDir(d, Admin); err == nil {
			a, err = p.Dir(d)
		}
	}
	if err != nil {
		return 0, servlink.Part{}, err
	}
	var sum servlink.Digest
	err = cms.WriteFile(a, NucleusID, func(w io.Writer) error {
		return disk.DumpCylinders(0, used-1, io.MultiWriter(w, &sum))
	})
	if err != nil {
		return 0, servlink.Part{}, err
	}
	return used, servlink.Part{Component: "CMS", Area: nucleusDumpArea, File: NucleusID.Name(), Size: sum.Size(),
		SHA256: sum.Sum(), Nucleus: true}, nil
}

// streamParts writes the parts' bytes one after another to w.
func (e *Env) streamParts(p cms.FilePool, vrm, level string, parts []servlink.Part, w io.Writer) error {
	for _, part := range parts {
		a, err := p.Dir(AreaDir(vrm, level, part.Component, part.Area))
		if err != nil {
			return err
		}
		id, err := cms.ParseFileID(part.File)
		if err != nil {
			return err
		}
		if err := cms.ReadFile(a, id, func(r io.Reader) error {
			_, err := io.Copy(w, r)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
