package main_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ckd/herctest"
)

var _ = Describe("csmsim ddr", func() {
	var dir string
	path := func(name string) string { return filepath.Join(dir, name) }
	// trackCount reads the count field of record 1 on a track.
	firstCount := func(image string, cyl, head int) ckd.Count {
		v, err := ckd.OpenReadOnly(afero.NewOsFs(), image)
		Expect(err).NotTo(HaveOccurred())
		defer v.Close()
		t, err := v.ReadTrack(cyl, head)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Records).NotTo(BeEmpty())
		return t.Records[0].Count
	}

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		ok(csm(dir, "dasd", "init", "bldnuc.390", "3390", "--cyls", "10", "--volser", "BLDNUC"))
		ok(csm(dir, "dasd", "fill", "bldnuc.390", "--from", "2", "--to", "4", "--seed", "5"))
		ok(csm(dir, "dasd", "init", "m190.390", "3390", "--cyls", "30", "--volser", "M01RES"))
	})

	It("dumps, then restores with REORDER keeping the source cylinders in the count fields", func() {
		out := ok(csm(dir, "ddr", "dump", "bldnuc.390", "--from", "2", "--to", "4", "--out", "nuc.ddr"))
		Expect(out).To(ContainSubstring("45 tracks"))
		out = ok(csm(dir, "ddr", "restore", "nuc.ddr", "m190.390", "--reorder", "25"))
		Expect(out).To(ContainSubstring("cylinders 2-4 to 25-27"))
		Expect(firstCount(path("m190.390"), 25, 3)).To(Equal(ckd.Count{Cyl: 2, Head: 3, Rec: 1}))
		Expect(firstCount(path("m190.390"), 27, 14)).To(Equal(ckd.Count{Cyl: 4, Head: 14, Rec: 1}))
		Expect(herctest.CheckDisk(path("m190.390"))).To(Succeed())
		list := ok(csm(dir, "dasd", "list", "m190.390", "26", "0"))
		Expect(list).To(MatchRegexp(`(?m)^1\s+3\s+0\s+0\s+4096\s`))
	})

	It("restores without REORDER to the dumped cylinders", func() {
		ok(csm(dir, "ddr", "dump", "bldnuc.390", "--from", "2", "--to", "4", "--out", "nuc.ddr"))
		ok(csm(dir, "ddr", "restore", "nuc.ddr", "m190.390"))
		Expect(firstCount(path("m190.390"), 3, 0)).To(Equal(ckd.Count{Cyl: 3, Head: 0, Rec: 1}))
	})

	It("copies within a volume and to another volume", func() {
		ok(csm(dir, "ddr", "copy", "bldnuc.390", "--from", "2", "--to", "4", "--reorder", "6"))
		Expect(firstCount(path("bldnuc.390"), 6, 0)).To(Equal(ckd.Count{Cyl: 2, Rec: 1}))
		ok(csm(dir, "ddr", "copy", "bldnuc.390", "--from", "2", "--to", "4", "--reorder", "20", "--target", "m190.390"))
		Expect(firstCount(path("m190.390"), 22, 1)).To(Equal(ckd.Count{Cyl: 4, Head: 1, Rec: 1}))
		Expect(herctest.CheckDisk(path("bldnuc.390"))).To(Succeed())
		Expect(herctest.CheckDisk(path("m190.390"))).To(Succeed())
	})

	It("runs a sysprog's DDR deck", func() {
		deck := "* nucleus to the recomp area\n" +
			"SYSPRINT CONS\n" +
			"input 0390 3390 BLDNUC\n" +
			"OUTPUT 0190 3390 M01RES\n" +
			"COPY 2 TO 4 REORDER TO 27\n"
		Expect(os.WriteFile(path("nuc.ddrctl"), []byte(deck), 0o644)).To(Succeed())
		ok(csm(dir, "ddr", "run", "nuc.ddrctl", "--unit", "0390="+path("bldnuc.390"), "--unit", "190="+path("m190.390")))
		Expect(firstCount(path("m190.390"), 29, 14)).To(Equal(ckd.Count{Cyl: 4, Head: 14, Rec: 1}))
		Expect(herctest.CheckDisk(path("m190.390"))).To(Succeed())
	})

	Describe("bad input gets one clear line and changes nothing", func() {
		var target [32]byte
		BeforeEach(func() {
			ok(csm(dir, "ddr", "dump", "bldnuc.390", "--from", "2", "--to", "4", "--out", "nuc.ddr"))
			target = sum(path("m190.390"))
		})
		AfterEach(func() { Expect(sum(path("m190.390"))).To(Equal(target), "the target volume changed") })

		It("refuses a dump with a flipped byte", func() {
			b, err := os.ReadFile(path("nuc.ddr"))
			Expect(err).NotTo(HaveOccurred())
			b[len(b)/2] ^= 0x01
			Expect(os.WriteFile(path("nuc.ddr"), b, 0o644)).To(Succeed())
			fails(csm(dir, "ddr", "restore", "nuc.ddr", "m190.390", "--reorder", "20"), "SHA-256 mismatch")
		})
		It("refuses a truncated dump", func() {
			st, _ := os.Stat(path("nuc.ddr"))
			Expect(os.Truncate(path("nuc.ddr"), st.Size()-100)).To(Succeed())
			fails(csm(dir, "ddr", "restore", "nuc.ddr", "m190.390"), "nuc.ddr")
		})
		It("refuses a REORDER target past the end of the volume", func() {
			fails(csm(dir, "ddr", "restore", "nuc.ddr", "m190.390", "--reorder", "28"), "m190.390")
		})
		It("refuses a restore onto a different device type", func() {
			ok(csm(dir, "dasd", "init", "m.380", "3380", "--cyls", "30", "--volser", "M380"))
			before := sum(path("m.380"))
			fails(csm(dir, "ddr", "restore", "nuc.ddr", "m.380"), "3390")
			Expect(sum(path("m.380"))).To(Equal(before))
		})
		It("refuses an unknown DDR statement by line number and runs nothing", func() {
			Expect(os.WriteFile(path("bad.ddrctl"), []byte("INPUT 0390 3390\nOUTPUT 0190 3390\nCOPY 2 TO 4 REORDER TO 20\nFROB 1\n"), 0o644)).To(Succeed())
			fails(csm(dir, "ddr", "run", "bad.ddrctl", "--unit", "0390="+path("bldnuc.390"), "--unit", "0190="+path("m190.390")), `line 4: unknown statement "FROB"`)
		})
		It("refuses a deck whose unit has no file", func() {
			Expect(os.WriteFile(path("u.ddrctl"), []byte("INPUT 0390 3390\nOUTPUT 0190 3390\nCOPY ALL\n"), 0o644)).To(Succeed())
			fails(csm(dir, "ddr", "run", "u.ddrctl", "--unit", "0390="+path("bldnuc.390")), "--unit 0190=FILE")
		})
		It("refuses a malformed --unit", func() {
			fails(csm(dir, "ddr", "run", "u.ddrctl", "--unit", "0190"), "expected VDEV=FILE")
		})
	})
})
