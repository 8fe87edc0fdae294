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
}

// DASDMinidisk is a minidisk whose cylinders the engine can also reach
// with DDR: an optional capability of a Minidisk.
type DASDMinidisk interface {
	Minidisk
	CylinderIO
}
