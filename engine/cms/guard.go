package cms

import "io"

// Write is a kind of write a Guard's check is asked about.
type Write string

const (
	WriteCreate Write = "create" // a file begins to be written
	WriteCommit Write = "commit" // a file written is put in place
	WriteErase  Write = "erase"  // a file or directory is erased
	WriteRename Write = "rename"
	WriteMkdir  Write = "mkdir"
	WriteLoad   Write = "load" // a tree is loaded (FILEPOOL LOAD)
	WriteTracks Write = "ddr"  // cylinders are written (DDR, a nucleus build)
)

// Guard is sys with every write asking check first: creating, committing,
// erasing or renaming a file, creating or erasing a directory, loading a
// tree, and DDR writes to a minidisk's cylinders. check gets the kind of
// write and what is written to (the area, "VMPSFS:MAINT720.CMS.BUILD", or
// the minidisk, "MAINT720 0490") and returns the error the write gets, nil
// to let it through. Crash specs and fault injection stop a system's
// writes with it, as a process killed at that point, a full disk or a
// failing one would.
func Guard(sys System, check func(op Write, target string) error) System {
	return guardedSystem{sys, check}
}

type guardedSystem struct {
	System
	check func(Write, string) error
}

func (g guardedSystem) FilePool(name string) (FilePool, error) {
	p, err := g.System.FilePool(name)
	if err != nil {
		return nil, err
	}
	return guardedPool{p, g.check}, nil
}

func (g guardedSystem) Minidisk(owner, vaddr string) (Minidisk, error) {
	md, err := g.System.Minidisk(owner, vaddr)
	if err != nil {
		return nil, err
	}
	if d, ok := md.(DASDMinidisk); ok {
		return guardedDASD{guardedDisk{d, g.check}, d}, nil
	}
	return guardedDisk{md, g.check}, nil
}

func (g guardedSystem) TempDisk(user, devType string, cyls int) (CylinderIO, func() error, error) {
	d, release, err := g.System.TempDisk(user, devType, cyls)
	if err != nil {
		return nil, nil, err
	}
	return guardedCylinders{d, "temporary disk of " + user, g.check}, release, nil
}

type guardedPool struct {
	FilePool
	check func(Write, string) error
}

func (p guardedPool) Dir(d DirID) (FileArea, error) {
	a, err := p.FilePool.Dir(d)
	if err != nil {
		return nil, err
	}
	return guardedArea{a, p.check}, nil
}

func (p guardedPool) CreateDir(d DirID, by string) error {
	if err := p.check(WriteMkdir, d.String()); err != nil {
		return err
	}
	return p.FilePool.CreateDir(d, by)
}

func (p guardedPool) EraseDir(d DirID, by string) error {
	if err := p.check(WriteErase, d.String()); err != nil {
		return err
	}
	return p.FilePool.EraseDir(d, by)
}

func (p guardedPool) EraseTree(d DirID, by string) error {
	if err := p.check(WriteErase, d.String()); err != nil {
		return err
	}
	return p.FilePool.EraseTree(d, by)
}

func (p guardedPool) Load(r io.Reader, target DirID) error {
	if err := p.check(WriteLoad, target.String()); err != nil {
		return err
	}
	return p.FilePool.Load(r, target)
}

type guardedArea struct {
	FileArea
	check func(Write, string) error
}

func (a guardedArea) Create(id FileID) (FileWriter, error) {
	if err := a.check(WriteCreate, a.String()); err != nil {
		return nil, err
	}
	w, err := a.FileArea.Create(id)
	if err != nil {
		return nil, err
	}
	return &guardedWriter{FileWriter: w, target: a.String(), check: a.check}, nil
}

func (a guardedArea) Erase(id FileID) error {
	if err := a.check(WriteErase, a.String()); err != nil {
		return err
	}
	return a.FileArea.Erase(id)
}

func (a guardedArea) Rename(from, to FileID) error {
	if err := a.check(WriteRename, a.String()); err != nil {
		return err
	}
	return a.FileArea.Rename(from, to)
}

// LinkRange is a file created and committed at once: it asks for both
// before the link, and only when the area would link (else the caller's
// copy asks).
func (a guardedArea) LinkRange(src io.Reader, off, size int64, dst FileID) (bool, error) {
	if !a.CanLinkRange(src, off, size) {
		return false, nil
	}
	for _, op := range []Write{WriteCreate, WriteCommit} {
		if err := a.check(op, a.String()); err != nil {
			return false, err
		}
	}
	return a.FileArea.(RangeLinker).LinkRange(src, off, size, dst)
}

func (a guardedArea) CanLinkRange(src io.Reader, off, size int64) bool {
	l, ok := a.FileArea.(RangeLinker)
	return ok && l.CanLinkRange(src, off, size)
}

// guardedWriter asks again when the file is committed: a process killed
// while it streamed a file leaves no file.
type guardedWriter struct {
	FileWriter
	target string
	check  func(Write, string) error
}

func (w *guardedWriter) Close() error {
	if err := w.check(WriteCommit, w.target); err != nil {
		_ = w.FileWriter.Abort()
		return err
	}
	return w.FileWriter.Close()
}

type guardedDisk struct {
	Minidisk
	check func(Write, string) error
}

func (d guardedDisk) area() guardedArea { return guardedArea{d.Minidisk, d.check} }

func (d guardedDisk) Create(id FileID) (FileWriter, error) { return d.area().Create(id) }
func (d guardedDisk) Erase(id FileID) error                { return d.area().Erase(id) }
func (d guardedDisk) Rename(from, to FileID) error         { return d.area().Rename(from, to) }
func (d guardedDisk) LinkRange(src io.Reader, off, size int64, dst FileID) (bool, error) {
	return d.area().LinkRange(src, off, size, dst)
}
func (d guardedDisk) CanLinkRange(src io.Reader, off, size int64) bool {
	return d.area().CanLinkRange(src, off, size)
}

type guardedDASD struct {
	guardedDisk
	dasd DASDMinidisk
}

func (d guardedDASD) cylinders() guardedCylinders {
	return guardedCylinders{d.dasd, d.dasd.String(), d.check}
}

func (d guardedDASD) DumpCylinders(from, to int, w io.Writer) error {
	return d.dasd.DumpCylinders(from, to, w)
}
func (d guardedDASD) RestoreCylinders(dump io.ReadSeeker, reorderTo int) error {
	return d.cylinders().RestoreCylinders(dump, reorderTo)
}
func (d guardedDASD) WriteBlocks(from int, r io.Reader) (int, error) {
	return d.cylinders().WriteBlocks(from, r)
}

type guardedCylinders struct {
	CylinderIO
	target string
	check  func(Write, string) error
}

func (c guardedCylinders) RestoreCylinders(dump io.ReadSeeker, reorderTo int) error {
	if err := c.check(WriteTracks, c.target); err != nil {
		return err
	}
	return c.CylinderIO.RestoreCylinders(dump, reorderTo)
}

func (c guardedCylinders) WriteBlocks(from int, r io.Reader) (int, error) {
	if err := c.check(WriteTracks, c.target); err != nil {
		return 0, err
	}
	return c.CylinderIO.WriteBlocks(from, r)
}
