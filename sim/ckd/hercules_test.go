package ckd_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ckd/herctest"
)

// These run Hercules' own utilities against csmsim's images and the other
// way round; a missing tool fails the suite (see BeforeSuite).
var _ = Describe("Hercules interop", func() {
	var dir string
	fs := afero.NewOsFs()
	BeforeEach(func() { dir = GinkgoT().TempDir() })

	DescribeTable("an image csmsim writes passes ckd2cckd, cckdcdsk -3 and the cckd2ckd round trip",
		func(dev string) {
			p := filepath.Join(dir, "csm.img")
			v, err := ckd.Create(fs, p, dev, 4, "CSM001")
			Expect(err).NotTo(HaveOccurred())
			// Records whose count fields name another cylinder, as after DDR REORDER.
			Expect(v.WriteTrack(&ckd.Track{Cyl: 2, Head: 7, Records: records(250, 7, 5, 4096, 'x')})).To(Succeed())
			Expect(v.WriteTrack(&ckd.Track{Cyl: 3, Head: 14, Records: []ckd.Record{{Count: ckd.Count{Cyl: 3, Head: 14, Rec: 1}, Key: []byte("K"), Data: []byte("data")}}})).To(Succeed())
			Expect(v.Close()).To(Succeed())
			Expect(herctest.CheckDisk(p)).To(Succeed())
		},
		Entry("3390", "3390"),
		Entry("3380", "3380"),
	)

	It("catches a damaged home address (the check can fail)", func() {
		p := filepath.Join(dir, "bad.390")
		v, err := ckd.Create(fs, p, "3390", 2, "BAD001")
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Close()).To(Succeed())
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.WriteAt([]byte{0, 9}, ckd.HeaderSize+int64(18)*56832+1)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		Expect(herctest.CheckDisk(p)).To(MatchError(ContainSubstring("track 18")))
	})

	It("dasdlist shows the records csmsim wrote", func() {
		p := filepath.Join(dir, "list.390")
		v, err := ckd.Create(fs, p, "3390", 2, "LST001")
		Expect(err).NotTo(HaveOccurred())
		payload := []byte("CSMSIM-RECORD-PAYLOAD")
		Expect(v.WriteTrack(&ckd.Track{Cyl: 1, Head: 2, Records: []ckd.Record{{Count: ckd.Count{Cyl: 1, Head: 2, Rec: 1}, Data: payload}}})).To(Succeed())
		Expect(v.Close()).To(Succeed())
		out, err := herctest.Run(dir, "dasdlist", p, "1", "2")
		Expect(err).NotTo(HaveOccurred())
		// dasdlist prints the track with xxd: "offset: 4 hex groups  text".
		var dump strings.Builder
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 5 && strings.HasSuffix(f[0], ":") {
				dump.WriteString(strings.Join(f[1:5], ""))
			}
		}
		// Count field CCHHR KL DL = 0001 0002 01 00 0015, then the data.
		Expect(dump.String()).To(ContainSubstring(strings.ToUpper("00010002010000" + hex.EncodeToString([]byte{byte(len(payload))}) + hex.EncodeToString(payload[:8]))))
	})

	DescribeTable("an image dasdinit made opens and reads in csmsim",
		func(dev, volser string, cyls int, code byte) {
			p := filepath.Join(dir, "herc.img")
			_, err := herctest.Run(dir, "dasdinit", p, dev, volser, "3")
			Expect(err).NotTo(HaveOccurred())
			v, err := ckd.Open(fs, p)
			Expect(err).NotTo(HaveOccurred())
			Expect(v.Geometry().Code).To(Equal(code))
			Expect(v.Cylinders()).To(Equal(cyls))
			Expect(v.Volser()).To(Equal(volser))
			for c := 0; c < cyls; c++ {
				for h := 0; h < 15; h++ {
					_, err := v.ReadTrack(c, h)
					Expect(err).NotTo(HaveOccurred())
				}
			}
			// Write into dasdinit's image; Hercules still accepts it.
			Expect(v.WriteTrack(&ckd.Track{Cyl: 1, Head: 1, Records: records(1, 1, 2, 800, 'q')})).To(Succeed())
			Expect(v.Close()).To(Succeed())
			Expect(herctest.CheckDisk(p)).To(Succeed())
		},
		Entry("3390", "3390", "HRC390", 3, byte(0x90)),
		Entry("3380", "3380", "HRC380", 3, byte(0x80)),
	)

	It("formats every track as dasdinit does, apart from the label's owner", func() {
		mine := filepath.Join(dir, "mine.390")
		theirs := filepath.Join(dir, "theirs.390")
		v, err := ckd.Create(fs, mine, "3390", 3, "SAME01")
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Close()).To(Succeed())
		_, err = herctest.Run(dir, "dasdinit", theirs, "3390", "SAME01", "3")
		Expect(err).NotTo(HaveOccurred())
		a, _ := os.ReadFile(mine)
		b, _ := os.ReadFile(theirs)
		Expect(len(a)).To(Equal(len(b)))
		Expect(a[:ckd.HeaderSize]).To(Equal(b[:ckd.HeaderSize]))
		trk := ckd.HeaderSize + 56832
		Expect(bytes.Equal(a[trk:], b[trk:])).To(BeTrue(), "tracks after cyl 0 head 0 differ from dasdinit's")
	})
})
