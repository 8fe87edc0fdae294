package ddr_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"
)

// runDeck parses a deck and, only if it parses, runs it.
func runDeck(fs afero.Fs, deck string, units map[string]string) (string, error) {
	p, err := ddr.ParseControl(strings.NewReader(deck))
	if err != nil {
		Expect(p).To(BeNil())
		return "", err
	}
	var out bytes.Buffer
	err = p.Run(fs, units, &out)
	return out.String(), err
}

var _ = Describe("control statements", func() {
	var (
		fs       afero.Fs
		dir      string
		src, dst *ckd.Volume
		dump     string
		units    map[string]string
		sums     func() [2][32]byte
	)
	BeforeEach(func() {
		fs, dir = afero.NewOsFs(), GinkgoT().TempDir()
		src = newVol(fs, filepath.Join(dir, "src.ckd"), "3390", 12, "SRC190", 41)
		dst = newVol(fs, filepath.Join(dir, "dst.ckd"), "3390", 12, "DST191", 42)
		dump = filepath.Join(dir, "nuc.ddr")
		units = map[string]string{"0190": src.Path(), "0181": dump, "0191": dst.Path()}
		sums = func() [2][32]byte { return [2][32]byte{fileSum(fs, src.Path()), fileSum(fs, dst.Path())} }
	})
	expectNoDump := func() {
		GinkgoHelper()
		_, err := fs.Stat(dump)
		Expect(err).To(HaveOccurred(), "a dump file was written")
	}

	It("dumps, then restores with REORDER TO, end to end", func() {
		out, err := runDeck(fs, `
* dump the nucleus cylinders
SYSPRINT CONS
  input   0190 3390 src190
OUTPUT 181 TAPE
dump 2 to 5
`, units)
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("DUMPING   0190 (3390 SRC190) CYLS 2-5 TO 0181 (nuc.ddr)"))
		Expect(out).To(ContainSubstring("END OF DUMP: 60 TRACKS"))
		f, err := fs.Open(dump)
		Expect(err).NotTo(HaveOccurred())
		h, err := ddr.Verify(f)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		Expect([]any{h.Volser, h.FirstCyl, h.LastCyl, h.Tracks}).To(Equal([]any{"SRC190", 2, 5, 60}))

		want, before := images(src), images(dst)
		out, err = runDeck(fs, "INPUT 0181\nOUTPUT 0191 3390-3 DST191\nRESTORE 2 TO 5 REORDER TO 7\n", units)
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("END OF RESTORE: CYLS 2-5 TO CYLS 7-10, 60 TRACKS"))
		for c := range 12 {
			for hd := range 15 {
				if c >= 7 && c <= 10 {
					expectHolds(dst, c, hd, recordsOf(want[c-5][hd], c-5, hd))
				} else {
					Expect(image(dst, c, hd)).To(Equal(before[c][hd]))
				}
			}
		}
		checkDisk(dst)
	})

	It("restores a DUMP ... REORDER TO where it says, and COPYs within one volume", func() {
		_, err := runDeck(fs, "INPUT 0190\nOUTPUT 0181\nDUMP 1 REORDER TO 9\n", units)
		Expect(err).NotTo(HaveOccurred())
		want := images(src)
		_, err = runDeck(fs, "INPUT 0181\nOUTPUT 0191\nRESTORE ALL\n", units)
		Expect(err).NotTo(HaveOccurred())
		expectHolds(dst, 9, 6, recordsOf(want[1][6], 1, 6))

		snap := images(dst)
		out, err := runDeck(fs, "INPUT 0191\nOUTPUT 0191\nCOPY 0 TO 3 REORDER TO 2\n", units)
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("END OF COPY: 60 TRACKS TO CYLS 2-5"))
		expectHolds(dst, 5, 14, recordsOf(snap[3][14], 3, 14))
		expectHolds(dst, 2, 0, recordsOf(snap[0][0], 0, 0)) // the label records, moved
		Expect(image(dst, 0, 0)).To(Equal(snap[0][0]))
		checkDisk(dst)
	})

	It("refuses an unknown statement by line number and runs nothing", func() {
		before := sums()
		_, err := runDeck(fs, "INPUT 0190\nOUTPUT 0181\nDUMP ALL\nFROB 1 2\n", units)
		Expect(err).To(MatchError(`line 4: unknown statement "FROB"; expected SYSPRINT, INPUT, OUTPUT, DUMP, RESTORE, COPY or a * comment`))
		var le *ddr.LineError
		Expect(errors.As(err, &le)).To(BeTrue())
		Expect(le.Line).To(Equal(4))
		Expect(sums()).To(Equal(before))
		expectNoDump()
	})

	DescribeTable("refuses malformed decks with line numbers",
		func(deck, says string) {
			p, err := ddr.ParseControl(strings.NewReader(deck))
			Expect(p).To(BeNil())
			Expect(err).To(MatchError(ContainSubstring(says)))
		},
		Entry("DUMP before INPUT", "OUTPUT 0181\nDUMP 1 TO 2\n", "line 2: DUMP before INPUT and OUTPUT"),
		Entry("COPY before OUTPUT", "* c\nINPUT 0190\n\nCOPY ALL\n", "line 4: COPY before INPUT and OUTPUT"),
		Entry("cyl1 > cyl2", "INPUT 190\nOUTPUT 181\nDUMP 5 TO 2\n", "line 3: first cylinder 5 is after last cylinder 2"),
		Entry("non-numeric cylinder", "INPUT 190\nOUTPUT 181\nRESTORE 1 TO X\n", `line 3: cylinder "X" is not a number 0-65535; expected RESTORE cyl1 [TO cyl2] [REORDER TO cyl3] or RESTORE ALL`),
		Entry("negative cylinder", "INPUT 190\nOUTPUT 181\nDUMP -1\n", `cylinder "-1" is not a number`),
		Entry("REORDER without a cylinder", "INPUT 190\nOUTPUT 181\nCOPY 1 TO 2 REORDER TO\n", "line 3: a cylinder number is missing"),
		Entry("trailing words", "INPUT 190\nOUTPUT 181\nDUMP 1 TO 2 PLEASE\n", `line 3: "PLEASE" not understood`),
		Entry("ALL with more", "INPUT 190\nOUTPUT 181\nDUMP ALL 3\n", `line 3: cylinder "ALL" is not a number`),
		Entry("bad device number", "INPUT 19G\n", `line 1: device number "19G" is not 1-4 hex digits`),
		Entry("bad volser", "INPUT 190 3390 TOOLONGX\n", `line 1: volume serial "TOOLONGX" is not 1-6 of A-Z 0-9 @ # $`),
		Entry("unknown device type", "INPUT 190 3391 MNT190\n", `line 1: device type "3391" is not one of 3380, 3390`),
		Entry("neither type nor volser", "OUTPUT 181 3390-X\n", `line 1: "3390-X" is neither a device type nor a volume serial`),
		Entry("DUMP onto its own input", "INPUT 190\nOUTPUT 190\nDUMP ALL\n", "line 3: DUMP with INPUT and OUTPUT both 0190"),
		Entry("no operation", "* nothing\nSYSPRINT CONS\n", "no DUMP, RESTORE or COPY statement"),
		Entry("every error, not just the first", "FROB\nINPUT 190\nOUTPUT 181\nDUMP X\n", "line 4:"),
	)

	It("refuses a volser that is not the volume's, writing nothing", func() {
		before := sums()
		_, err := runDeck(fs, "INPUT 0190 3390 MNT190\nOUTPUT 0181\nDUMP ALL\n", units)
		Expect(err).To(MatchError(ddr.ErrVolser))
		Expect(err.Error()).To(ContainSubstring(`line 3: DUMP ALL: INPUT 0190 (` + src.Path() + `) has volume serial "SRC190", the INPUT statement says MNT190`))
		expectNoDump()

		_, err = runDeck(fs, "INPUT 0190\nOUTPUT 0191 WRONG\nCOPY 1\n", units)
		Expect(err).To(MatchError(ddr.ErrVolser))
		Expect(sums()).To(Equal(before))
	})

	It("refuses a device type that is not the volume's", func() {
		before := sums()
		_, err := runDeck(fs, "INPUT 0190\nOUTPUT 0191 3380\nCOPY 1 TO 2\n", units)
		Expect(err).To(MatchError(ddr.ErrDeviceMismatch))
		Expect(err.Error()).To(ContainSubstring("is a 3390, the OUTPUT statement says 3380"))
		Expect(sums()).To(Equal(before))
	})

	It("names a unit without a file and runs none of the deck", func() {
		delete(units, "0191")
		before := sums()
		_, err := runDeck(fs, "INPUT 0190\nOUTPUT 0181\nDUMP ALL\nINPUT 0181\nOUTPUT 0191\nRESTORE ALL\n", units)
		Expect(err).To(MatchError(ddr.ErrNoUnit))
		Expect(err.Error()).To(ContainSubstring("unit 0191 (OUTPUT on line 5) has no file; give it with --unit 0191=FILE"))
		Expect(sums()).To(Equal(before))
		expectNoDump()
	})

	It("will not DUMP over a volume image", func() {
		before := sums()
		units["0181"] = dst.Path()
		_, err := runDeck(fs, "INPUT 0190\nOUTPUT 0181\nDUMP ALL\n", units)
		Expect(err).To(MatchError(ContainSubstring("is a CKD volume image; DUMP writes a dump file there")))
		Expect(sums()).To(Equal(before))
	})

	It("stops at a damaged dump by line, the target unchanged", func() {
		_, err := runDeck(fs, "INPUT 0190\nOUTPUT 0181\nDUMP 3 TO 4\n", units)
		Expect(err).NotTo(HaveOccurred())
		d, err := afero.ReadFile(fs, dump)
		Expect(err).NotTo(HaveOccurred())
		d[len(d)/2] ^= 0x10
		Expect(afero.WriteFile(fs, dump, d, 0o644)).To(Succeed())
		before := sums()
		_, err = runDeck(fs, "INPUT 0181 3390 SRC190\nOUTPUT 0191\nRESTORE ALL\n", units)
		Expect(err).To(MatchError(ddr.ErrChecksum))
		Expect(err.Error()).To(HavePrefix("line 3: RESTORE ALL: restore " + dump + ": offset "))
		Expect(sums()).To(Equal(before))
	})

	It("runs on MemMapFs too", func() {
		mfs := afero.NewMemMapFs()
		a := newVol(mfs, "/a.ckd", "3390", 3, "AAA", 43)
		b := newVol(mfs, "/b.ckd", "3390", 3, "BBB", 0)
		u := map[string]string{"0100": a.Path(), "0200": "/d.ddr", "0300": b.Path()}
		_, err := runDeck(mfs, "INPUT 100\nOUTPUT 200\nDUMP 1 TO 2\nINPUT 200 3390 AAA\nOUTPUT 300 3390 BBB\nRESTORE 2 REORDER TO 0\n", u)
		Expect(err).NotTo(HaveOccurred())
		want := images(a)
		expectHolds(b, 0, 5, recordsOf(want[2][5], 2, 5))
		Expect(b.Volser()).To(BeEmpty()) // cylinder 0 was restored over, label and all
	})
})
