package ddr

import (
	"io"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/ckd"
)

// MinidiskIO gives the engine DDR over a minidisk's extent of a CKD volume
// image, opening the image for each operation so nothing stays open
// between engine steps.
type MinidiskIO struct {
	FS        afero.Fs
	Volume    string // CKD image path in FS
	Start     int    // first cylinder of the minidisk on the volume
	Cylinders int
}

var _ cms.CylinderIO = MinidiskIO{}

func (m MinidiskIO) extent(readOnly bool) (*ckd.Volume, ckd.Extent, error) {
	return ckd.OpenExtent(m.FS, m.Volume, m.Start, m.Cylinders, readOnly)
}

// DumpCylinders dumps cylinders from..to of the minidisk to w.
func (m MinidiskIO) DumpCylinders(from, to int, w io.Writer) error {
	v, e, err := m.extent(true)
	if err != nil {
		return err
	}
	defer v.Close()
	_, err = Dump(e, from, to, w)
	return err
}

// RestoreCylinders restores dump onto the minidisk, at reorderTo if >= 0.
func (m MinidiskIO) RestoreCylinders(dump io.ReadSeeker, reorderTo int) error {
	v, e, err := m.extent(false)
	if err != nil {
		return err
	}
	_, err = Restore(dump, e, reorderTo)
	if cerr := v.Sync(); err == nil {
		err = cerr
	}
	if cerr := v.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteBlocks writes r as 4K records from cylinder from of the minidisk on.
func (m MinidiskIO) WriteBlocks(from int, r io.Reader) (int, error) {
	v, e, err := m.extent(false)
	if err != nil {
		return 0, err
	}
	defer v.Close()
	n, err := ckd.WriteBlocks(e, from, r)
	if cerr := v.Sync(); err == nil {
		err = cerr
	}
	return n, err
}
