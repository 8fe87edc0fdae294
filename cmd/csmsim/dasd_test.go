package main_test

import (
	"crypto/sha256"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/ckd/herctest"
)

func sum(path string) [32]byte {
	b, err := os.ReadFile(path)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return sha256.Sum256(b)
}

var _ = Describe("csmsim dasd", func() {
	var dir string
	BeforeEach(func() { dir = GinkgoT().TempDir() })

	It("inits a volume Hercules accepts and lists its label track", func() {
		out := ok(csm(dir, "dasd", "init", "v.390", "3390", "--cyls", "3", "--volser", "csm001"))
		Expect(out).To(ContainSubstring("3390 volume CSM001, 3 cylinders, 45 tracks"))
		Expect(herctest.CheckDisk(filepath.Join(dir, "v.390"))).To(Succeed())
		out = ok(csm(dir, "dasd", "list", "v.390", "0", "0"))
		Expect(out).To(ContainSubstring("cyl 0 head 0: 3 records"))
		Expect(out).To(MatchRegexp(`(?m)^3\s+0\s+0\s+4\s+80\s+e5d6d3f1\s`)) // VOL1 label
	})

	It("takes the cylinder count from a model", func() {
		out := ok(csm(dir, "dasd", "init", "m.380", "3380-J", "--volser", "M380"))
		Expect(out).To(ContainSubstring("885 cylinders"))
	})

	It("fills tracks with seeded records, the same for the same seed", func() {
		ok(csm(dir, "dasd", "init", "a.390", "3390", "--cyls", "4", "--volser", "A"))
		ok(csm(dir, "dasd", "init", "b.390", "3390", "--cyls", "4", "--volser", "A"))
		ok(csm(dir, "dasd", "fill", "a.390", "--from", "1", "--to", "2", "--seed", "9"))
		ok(csm(dir, "dasd", "fill", "b.390", "--from", "1", "--to", "2", "--seed", "9"))
		Expect(sum(filepath.Join(dir, "a.390"))).To(Equal(sum(filepath.Join(dir, "b.390"))))
		out := ok(csm(dir, "dasd", "list", "a.390", "2", "14"))
		Expect(out).To(ContainSubstring("12 records"))
		Expect(out).To(MatchRegexp(`(?m)^12\s+2\s+14\s+0\s+4096\s`))
		ok(csm(dir, "dasd", "fill", "b.390", "--from", "1", "--to", "2", "--seed", "10"))
		Expect(sum(filepath.Join(dir, "a.390"))).NotTo(Equal(sum(filepath.Join(dir, "b.390"))))
	})

	Describe("bad input gets one clear line and changes nothing", func() {
		It("refuses an unknown device type and writes no file", func() {
			fails(csm(dir, "dasd", "init", "x.img", "3350", "--cyls", "3", "--volser", "X"), `unknown device type "3350"`)
			_, err := os.Stat(filepath.Join(dir, "x.img"))
			Expect(os.IsNotExist(err)).To(BeTrue())
		})
		It("refuses init over an existing file and leaves it", func() {
			ok(csm(dir, "dasd", "init", "v.390", "3390", "--cyls", "2", "--volser", "V"))
			before := sum(filepath.Join(dir, "v.390"))
			fails(csm(dir, "dasd", "init", "v.390", "3390", "--cyls", "1", "--volser", "W"), "v.390")
			Expect(sum(filepath.Join(dir, "v.390"))).To(Equal(before))
		})
		It("refuses a track past the end of the volume", func() {
			ok(csm(dir, "dasd", "init", "v.390", "3390", "--cyls", "2", "--volser", "V"))
			fails(csm(dir, "dasd", "list", "v.390", "2", "0"), "outside the volume (cylinders 0-1")
			fails(csm(dir, "dasd", "fill", "v.390", "--from", "1", "--to", "5"), "does not fit")
		})
		It("refuses a file that is not a CKD image", func() {
			Expect(os.WriteFile(filepath.Join(dir, "junk"), []byte("hello, this is no volume"), 0o644)).To(Succeed())
			fails(csm(dir, "dasd", "list", "junk", "0", "0"), "image header truncated")
		})
		It("refuses a missing argument with the expected form", func() {
			fails(csm(dir, "dasd", "list", "v.390"), "accepts 3 arg(s)")
		})
	})
})
