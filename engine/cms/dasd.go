package cms

import "io"

// CylinderIO is DDR over one minidisk's cylinders, numbered relative to the
// minidisk as DDR sees them. SERVICE dumps the nucleus BLDNUC built with
// it; CSMPKGLD restores that dump with REORDER onto the recomp cylinders.
// Keeping the file area out of the restored range is the engine's rule
// (it knows Minidisk.RecompCylinders); implementations only move tracks.
type CylinderIO interface {
	// DumpCylinders writes cylinders from..to to w as a dump file.
	DumpCylinders(from, to int, w io.Writer) error
	// RestoreCylinders verifies the whole dump before writing anything and
	// places it at reorderTo, or where it was dumped from if reorderTo < 0.
	// A failed restore leaves every track as it was.
	RestoreCylinders(dump io.ReadSeeker, reorderTo int) error
	// WriteBlocks writes r as consecutive 4K records from cylinder from on,
	// track by track (the last record padded with zeros), as a nucleus
	// build does; it returns the cylinders used. Input that does not fit
	// is an error; the disk is then a scratch disk to discard.
	WriteBlocks(from int, r io.Reader) (cylinders int, err error)
}

// DASDMinidisk is a minidisk whose cylinders the engine can also reach
// with DDR: an optional capability of a Minidisk.
type DASDMinidisk interface {
	Minidisk
	CylinderIO
}
