package ddr

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/spf13/afero"
)

// Run executes the deck's operations in order on fs. units maps a vdev (4
// hex digits) to the CKD image or dump file standing for it. Every unit
// must be given before anything runs; the deck stops at the first failing
// operation, whose error names its line.
func (p *Program) Run(fs afero.Fs, units map[string]string, out io.Writer) error {
	files := make(map[string]string, len(units))
	for k, v := range units {
		files[normVdev(strings.TrimSpace(k))] = v
	}
	var missing []string
	seen := map[string]bool{}
	for _, op := range p.Ops {
		for _, u := range []struct {
			role string
			Unit
		}{{"INPUT", op.In}, {"OUTPUT", op.Out}} {
			if files[u.Vdev] == "" && !seen[u.Vdev] {
				seen[u.Vdev] = true
				missing = append(missing, fmt.Sprintf("unit %s (%s on line %d) has no file; give it with --unit %s=FILE", u.Vdev, u.role, u.Line, u.Vdev))
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(missing, "; "), ErrNoUnit)
	}
	for _, op := range p.Ops {
		r := runner{fs: fs, files: files, out: out, op: op}
		var err error
		switch op.Verb {
		case "DUMP":
			err = r.dump()
		case "RESTORE":
			err = r.restore()
		case "COPY":
			err = r.copy()
		}
		if err != nil {
			return fmt.Errorf("line %d: %s: %w", op.Line, op.Text, err)
		}
	}
	return nil
}

type runner struct {
	fs    afero.Fs
	files map[string]string
	out   io.Writer
	op    Op
}

// checkVolume holds a volume unit to its statement's device type and
// volume serial.
func checkVolume(role string, u Unit, v *ckd.Volume) error {
	if u.DevType != "" {
		g, _, err := ckd.ParseDevType(u.DevType)
		if err != nil { // a tape type on a unit that must be a disk
			return fmt.Errorf("%s %s is a %s volume image, not a %s; correct the %s statement: %w", role, u.Vdev, v.Geometry().Type, u.DevType, role, ErrDeviceMismatch)
		}
		if g.Type != v.Geometry().Type {
			return fmt.Errorf("%s %s (%s) is a %s, the %s statement says %s; correct the statement or the unit's file: %w",
				role, u.Vdev, v.Path(), v.Geometry().Type, role, u.DevType, ErrDeviceMismatch)
		}
	}
	if u.Volser != "" && u.Volser != v.Volser() {
		return fmt.Errorf("%s %s (%s) has volume serial %q, the %s statement says %s; check you have the right volume: %w",
			role, u.Vdev, v.Path(), v.Volser(), role, u.Volser, ErrVolser)
	}
	return nil
}

// checkDumpUnit holds a dump-file unit's device type (a tape type passes)
// and volume serial to what the dump was made from.
func checkDumpUnit(role string, u Unit, devType, volser string) error {
	if u.DevType != "" && !tapeTypes[u.DevType] {
		if g, _, err := ckd.ParseDevType(u.DevType); err == nil && g.Type != devType {
			return fmt.Errorf("%s %s is a dump of a %s, the %s statement says %s: %w", role, u.Vdev, devType, role, u.DevType, ErrDeviceMismatch)
		}
	}
	if u.Volser != "" && u.Volser != volser {
		return fmt.Errorf("%s %s is a dump of volume %q, the %s statement says %s; check you have the right dump: %w", role, u.Vdev, volser, role, u.Volser, ErrVolser)
	}
	return nil
}

func (r runner) rangeOf(v *ckd.Volume) (int, int) {
	if r.op.All {
		return 0, v.Cylinders() - 1
	}
	return r.op.From, r.op.To
}

func cyls(from, to, reorder int) string {
	s := fmt.Sprintf("CYLS %d-%d", from, to)
	if reorder >= 0 {
		s += fmt.Sprintf(" REORDER TO %d", reorder)
	}
	return s
}

func (r runner) dump() error {
	in, outPath := r.op.In, r.files[r.op.Out.Vdev]
	vol, err := ckd.OpenReadOnly(r.fs, r.files[in.Vdev])
	if err != nil {
		return err
	}
	defer vol.Close()
	if err := checkVolume("INPUT", in, vol); err != nil {
		return err
	}
	// A new dump file has no label: only the device type is checked.
	outUnit := r.op.Out
	outUnit.Volser = ""
	if err := checkDumpUnit("OUTPUT", outUnit, vol.Geometry().Type, ""); err != nil {
		return err
	}
	if err := r.refuseVolume(outPath); err != nil {
		return err
	}
	ext, err := vol.Extent(0, vol.Cylinders())
	if err != nil {
		return err
	}
	from, to := r.rangeOf(vol)
	fmt.Fprintf(r.out, "DUMPING   %s (%s %s) %s TO %s (%s)\n", in.Vdev, vol.Geometry().Type, vol.Volser(), cyls(from, to, r.op.Reorder), r.op.Out.Vdev, filepath.Base(outPath))

	// Written aside and renamed, so a failed DUMP leaves no partial dump
	// under the real name.
	tmp := outPath + ".ddrtmp"
	f, err := r.fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	s, err := DumpReorder(ext, from, to, r.op.Reorder, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.fs.Rename(tmp, outPath)
	}
	if err != nil {
		_ = r.fs.Remove(tmp)
		return err
	}
	fmt.Fprintf(r.out, "END OF DUMP: %d TRACKS, %d BYTES\n", s.Tracks, s.Bytes)
	return nil
}

// refuseVolume keeps a DUMP from overwriting a CKD image named by mistake.
func (r runner) refuseVolume(path string) error {
	f, err := r.fs.Open(path)
	if err != nil {
		return nil // a new file
	}
	defer f.Close()
	magic := make([]byte, 8)
	if _, err := io.ReadFull(bufio.NewReader(f), magic); err == nil && bytes.Equal(magic, []byte("CKD_P370")) {
		return fmt.Errorf("OUTPUT %s (%s) is a CKD volume image; DUMP writes a dump file there, so give a new file: %w", r.op.Out.Vdev, path, ErrDeviceMismatch)
	}
	return nil
}

func (r runner) restore() error {
	in, out := r.op.In, r.op.Out
	f, err := r.fs.Open(r.files[in.Vdev])
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := ReadHeader(f)
	if err != nil {
		return err
	}
	if err := checkDumpUnit("INPUT", in, h.DevType, h.Volser); err != nil {
		return err
	}
	vol, err := ckd.Open(r.fs, r.files[out.Vdev])
	if err != nil {
		return err
	}
	defer vol.Close()
	if err := checkVolume("OUTPUT", out, vol); err != nil {
		return err
	}
	ext, err := vol.Extent(0, vol.Cylinders())
	if err != nil {
		return err
	}
	from, to := All, All
	if !r.op.All {
		from, to = r.op.From, r.op.To
	}
	fmt.Fprintf(r.out, "RESTORING %s (%s %s) FROM %s (%s, CYLS %d-%d OF %s %s)\n", out.Vdev, vol.Geometry().Type, vol.Volser(),
		in.Vdev, filepath.Base(r.files[in.Vdev]), h.FirstCyl, h.LastCyl, h.DevType, h.Volser)
	s, err := RestoreCylinders(f, from, to, ext, r.op.Reorder)
	if err != nil {
		return err
	}
	if err := vol.Sync(); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "END OF RESTORE: %s TO CYLS %d-%d, %d TRACKS\n", cyls(s.FirstCyl, s.LastCyl, -1), s.TargetFirst, s.TargetLast, s.Tracks)
	return nil
}

func (r runner) copy() error {
	in, out := r.op.In, r.op.Out
	inPath, outPath := r.files[in.Vdev], r.files[out.Vdev]
	dst, err := ckd.Open(r.fs, outPath)
	if err != nil {
		return err
	}
	defer dst.Close()
	src := dst // one handle when both units are the same image
	if filepath.Clean(inPath) != filepath.Clean(outPath) {
		if src, err = ckd.OpenReadOnly(r.fs, inPath); err != nil {
			return err
		}
		defer src.Close()
	}
	if err := checkVolume("INPUT", in, src); err != nil {
		return err
	}
	if err := checkVolume("OUTPUT", out, dst); err != nil {
		return err
	}
	srcExt, err := src.Extent(0, src.Cylinders())
	if err != nil {
		return err
	}
	dstExt, err := dst.Extent(0, dst.Cylinders())
	if err != nil {
		return err
	}
	from, to := r.rangeOf(src)
	fmt.Fprintf(r.out, "COPYING   %s (%s %s) %s TO %s (%s %s)\n", in.Vdev, src.Geometry().Type, src.Volser(), cyls(from, to, r.op.Reorder),
		out.Vdev, dst.Geometry().Type, dst.Volser())
	s, err := Copy(srcExt, from, to, dstExt, r.op.Reorder)
	if err != nil {
		return err
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "END OF COPY: %d TRACKS TO CYLS %d-%d\n", s.Tracks, s.TargetFirst, s.TargetLast)
	return nil
}
