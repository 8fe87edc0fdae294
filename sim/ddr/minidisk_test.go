package ddr_test

import (
	"bytes"
	"crypto/sha256"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
)

var _ = Describe("MinidiskIO, the engine's view of minidisk cylinders", func() {
	var (
		fs     afero.Fs
		bldnuc cms.CylinderIO
		mdisk  cms.CylinderIO
		target string
		nuc    string
	)
	BeforeEach(func() {
		// Real files: Hercules checks the result.
		fs = afero.NewOsFs()
		dir := GinkgoT().TempDir()
		nuc = filepath.Join(dir, "bldnuc.390")
		target = filepath.Join(dir, "res.390")
		src := newVol(fs, nuc, "3390", 12, "BLDNUC", 11)
		Expect(src.Close()).To(Succeed())
		dst := newVol(fs, target, "3390", 40, "M01RES", 0)
		Expect(dst.Close()).To(Succeed())
		bldnuc = ddr.MinidiskIO{FS: fs, Volume: nuc, Start: 2, Cylinders: 6}
		// MAINT 0190: cylinders 10-29 of the volume; the last 3 are recomp.
		mdisk = ddr.MinidiskIO{FS: fs, Volume: target, Start: 10, Cylinders: 20}
	})
	imageSum := func() [32]byte {
		b, err := afero.ReadFile(fs, target)
		Expect(err).NotTo(HaveOccurred())
		return sha256.Sum256(b)
	}

	It("dumps nucleus cylinders of one minidisk and restores them into another's recomp area", func() {
		var dump bytes.Buffer
		Expect(bldnuc.DumpCylinders(1, 3, &dump)).To(Succeed())
		before, err := afero.ReadFile(fs, target)
		Expect(err).NotTo(HaveOccurred())
		Expect(mdisk.RestoreCylinders(bytes.NewReader(dump.Bytes()), 17)).To(Succeed())

		v, err := ckd.OpenReadOnly(fs, target)
		Expect(err).NotTo(HaveOccurred())
		defer v.Close()
		// Minidisk cylinder 17 is volume cylinder 27; its records still name
		// volume cylinder 3 of BLDNUC's volume (minidisk cylinder 1 there).
		t, err := v.ReadTrack(27, 0)
		Expect(err).NotTo(HaveOccurred())
		src, err := ckd.OpenReadOnly(fs, nuc)
		Expect(err).NotTo(HaveOccurred())
		defer src.Close()
		want, err := src.ReadTrack(3, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Records).To(Equal(want.Records))
		// Every track outside volume cylinders 27-29 is as it was.
		after, err := afero.ReadFile(fs, target)
		Expect(err).NotTo(HaveOccurred())
		trk := int(v.Geometry().ImageTrackSize())
		lo := ckd.HeaderSize + 27*15*trk
		hi := ckd.HeaderSize + 30*15*trk
		Expect(after[:lo]).To(Equal(before[:lo]))
		Expect(after[hi:]).To(Equal(before[hi:]))
		checkDisk(v)
	})

	It("leaves the minidisk unchanged when the dump is damaged or does not fit", func() {
		var dump bytes.Buffer
		Expect(bldnuc.DumpCylinders(0, 2, &dump)).To(Succeed())
		before := imageSum()
		damaged := bytes.Clone(dump.Bytes())
		damaged[len(damaged)/3] ^= 0x80
		Expect(mdisk.RestoreCylinders(bytes.NewReader(damaged), 17)).To(MatchError(ddr.ErrChecksum))
		Expect(mdisk.RestoreCylinders(bytes.NewReader(dump.Bytes()), 18)).To(MatchError(ddr.ErrTargetTooSmall))
		Expect(imageSum()).To(Equal(before))
	})

	It("names the volume when the minidisk lies past its end", func() {
		bad := ddr.MinidiskIO{FS: fs, Volume: target, Start: 30, Cylinders: 20}
		err := bad.DumpCylinders(0, 1, &bytes.Buffer{})
		Expect(err).To(MatchError(ckd.ErrOutOfRange))
		Expect(err.Error()).To(ContainSubstring(filepath.Base(target)))
	})
})
