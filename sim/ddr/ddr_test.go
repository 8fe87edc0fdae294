package ddr_test

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"
)

var _ = Describe("Dump and Restore", func() {
	var (
		fs       afero.Fs
		dir      string
		src, dst *ckd.Volume
	)
	BeforeEach(func() {
		fs, dir = afero.NewOsFs(), GinkgoT().TempDir()
		src = newVol(fs, filepath.Join(dir, "src.ckd"), "3390", 12, "SRC190", 1)
		dst = newVol(fs, filepath.Join(dir, "dst.ckd"), "3390", 12, "DST191", 2)
	})

	It("restores onto the same cylinders byte for byte and touches nothing else", func() {
		var d bytes.Buffer
		s, err := ddr.Dump(whole(src), 2, 6, &d)
		Expect(err).NotTo(HaveOccurred())
		Expect(s).To(Equal(ddr.Summary{DevType: "3390", Tracks: 75, FirstCyl: 2, LastCyl: 6, TargetFirst: 2, TargetLast: 6, Bytes: int64(d.Len())}))

		h, err := ddr.Verify(bytes.NewReader(d.Bytes()))
		Expect(err).NotTo(HaveOccurred())
		Expect(h).To(Equal(ddr.Header{Version: 1, DevType: "3390", DevCode: 0x90, Heads: 15, TrackBytes: 56664,
			ImageTrackSize: 56832, Volser: "SRC190", FirstCyl: 2, LastCyl: 6, FirstAbsCyl: 2, LastAbsCyl: 6, RestoreCyl: 2, Tracks: 75}))

		before := images(dst)
		s, err = ddr.Restore(bytes.NewReader(d.Bytes()), whole(dst), -1)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Tracks).To(Equal(75))
		Expect(s.Bytes).To(Equal(int64(d.Len())))
		for c := range 12 {
			for hd := range 15 {
				if c >= 2 && c <= 6 {
					Expect(image(dst, c, hd)).To(Equal(image(src, c, hd)), "cyl %d head %d", c, hd)
				} else {
					Expect(image(dst, c, hd)).To(Equal(before[c][hd]), "cyl %d head %d", c, hd)
				}
			}
		}
		checkDisk(dst)
	})

	It("restores with REORDER: real HA and R0, source cylinders in the count fields", func() {
		var d bytes.Buffer
		_, err := ddr.Dump(whole(src), 2, 5, &d)
		Expect(err).NotTo(HaveOccurred())
		want, before := images(src), images(dst)

		s, err := ddr.Restore(bytes.NewReader(d.Bytes()), whole(dst), 7)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.TargetFirst).To(Equal(7))
		Expect(s.TargetLast).To(Equal(10))
		for c := range 12 {
			for hd := range 15 {
				if c >= 7 && c <= 10 {
					recs := recordsOf(want[c-5][hd], c-5, hd)
					expectHolds(dst, c, hd, recs)
					for _, r := range recs {
						Expect(int(r.Cyl)).To(Equal(c - 5)) // the source cylinder, kept
					}
				} else {
					Expect(image(dst, c, hd)).To(Equal(before[c][hd]), "cyl %d head %d", c, hd)
				}
			}
		}
		checkDisk(dst)
	})

	It("puts a dump made with REORDER TO where it says, unless RESTORE says otherwise", func() {
		var d bytes.Buffer
		s, err := ddr.DumpReorder(whole(src), 1, 2, 9, &d)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.TargetFirst).To(Equal(9))
		want := images(src)
		_, err = ddr.Restore(bytes.NewReader(d.Bytes()), whole(dst), -1)
		Expect(err).NotTo(HaveOccurred())
		expectHolds(dst, 9, 3, recordsOf(want[1][3], 1, 3))
		expectHolds(dst, 10, 14, recordsOf(want[2][14], 2, 14))

		// RESTORE 2 TO 2 REORDER TO 3 picks one cylinder out of the dump.
		_, err = ddr.RestoreCylinders(bytes.NewReader(d.Bytes()), 2, 2, whole(dst), 3)
		Expect(err).NotTo(HaveOccurred())
		expectHolds(dst, 3, 7, recordsOf(want[2][7], 2, 7))
	})

	It("keeps dumps of sparse (empty) cylinders small", func() {
		empty := newVol(fs, filepath.Join(dir, "empty.ckd"), "3390", 10, "EMPTY", 0)
		var d bytes.Buffer
		s, err := ddr.Dump(whole(empty), 1, 9, &d)
		Expect(err).NotTo(HaveOccurred())
		// 135 tracks of HA+R0+EOT (29 bytes) plus 40 bytes of framing each.
		Expect(s.Bytes).To(Equal(int64(ddr.HeaderSize + 135*(8+29+32) + ddr.TrailerSize)))
	})

	It("refuses to dump a damaged source track", func() {
		f, err := fs.OpenFile(src.Path(), os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.WriteAt([]byte{0x12}, ckd.HeaderSize+int64(3*15+4)*56832+2)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		_, err = ddr.Dump(whole(src), 2, 4, &bytes.Buffer{})
		Expect(err).To(MatchError(ddr.ErrBadFormat))
		Expect(err.Error()).To(ContainSubstring("track cyl 3 head 4"))
	})
})

var _ = Describe("Copy", func() {
	var (
		fs  afero.Fs
		dir string
		vol *ckd.Volume
	)
	BeforeEach(func() {
		fs, dir = afero.NewOsFs(), GinkgoT().TempDir()
		vol = newVol(fs, filepath.Join(dir, "vol.ckd"), "3390", 12, "VOL191", 3)
	})

	// expectMoved asserts cylinders from..to of snapshot went to target and
	// every other track is as in snapshot.
	expectMoved := func(v *ckd.Volume, snap, srcSnap [][][]byte, from, to, target int) {
		GinkgoHelper()
		for c := range v.Cylinders() {
			for hd := range 15 {
				if c >= target && c <= target+to-from {
					s := c - target + from
					expectHolds(v, c, hd, recordsOf(srcSnap[s][hd], s, hd))
				} else {
					Expect(image(v, c, hd)).To(Equal(snap[c][hd]), "cyl %d head %d", c, hd)
				}
			}
		}
	}

	It("moves overlapping cylinders up and down on one volume", func() {
		snap := images(vol)
		_, err := ddr.Copy(whole(vol), 2, 7, whole(vol), 4)
		Expect(err).NotTo(HaveOccurred())
		expectMoved(vol, snap, snap, 2, 7, 4)
		checkDisk(vol)

		snap = images(vol)
		_, err = ddr.Copy(whole(vol), 4, 9, whole(vol), 1)
		Expect(err).NotTo(HaveOccurred())
		expectMoved(vol, snap, snap, 4, 9, 1)
		checkDisk(vol)
	})

	It("moves overlapping cylinders when the image is open twice", func() {
		ro, err := ckd.OpenReadOnly(fs, vol.Path())
		Expect(err).NotTo(HaveOccurred())
		defer ro.Close()
		snap := images(vol)
		_, err = ddr.Copy(whole(ro), 1, 6, whole(vol), 3)
		Expect(err).NotTo(HaveOccurred())
		expectMoved(vol, snap, snap, 1, 6, 3)
	})

	It("copies onto another volume with REORDER", func() {
		other := newVol(fs, filepath.Join(dir, "other.ckd"), "3390", 12, "OTHER", 4)
		snap, srcSnap := images(other), images(vol)
		s, err := ddr.Copy(whole(vol), 0, 3, whole(other), 8)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Tracks).To(Equal(60))
		expectMoved(other, snap, srcSnap, 0, 3, 8)
		checkDisk(other)
		Expect(other.Volser()).To(Equal("OTHER")) // cylinder 0 was not a target
	})
})

var _ = Describe("Minidisk extents", func() {
	It("dumps virtual cylinders of one extent and restores into another, nothing outside touched", func() {
		fs := diskFs()
		src := newVol(fs, "/src.ckd", "3390", 30, "SRC", 5)
		dst := newVol(fs, "/dst.ckd", "3390", 30, "DST", 6)
		srcExt, err := src.Extent(5, 10)
		Expect(err).NotTo(HaveOccurred())
		dstExt, err := dst.Extent(12, 10)
		Expect(err).NotTo(HaveOccurred())

		var d bytes.Buffer
		_, err = ddr.Dump(srcExt, 0, 9, &d)
		Expect(err).NotTo(HaveOccurred())
		h, err := ddr.Verify(bytes.NewReader(d.Bytes()))
		Expect(err).NotTo(HaveOccurred())
		Expect([]int{h.FirstCyl, h.LastCyl, h.FirstAbsCyl, h.LastAbsCyl}).To(Equal([]int{0, 9, 5, 14}))

		want, before := images(src), images(dst)
		s, err := ddr.Restore(bytes.NewReader(d.Bytes()), dstExt, -1)
		Expect(err).NotTo(HaveOccurred())
		Expect([]int{s.TargetFirst, s.TargetLast}).To(Equal([]int{0, 9}))
		for c := range 30 {
			for hd := range 15 {
				if c >= 12 && c <= 21 {
					expectHolds(dst, c, hd, recordsOf(want[c-7][hd], c-7, hd))
				} else {
					Expect(image(dst, c, hd)).To(Equal(before[c][hd]), "cyl %d head %d", c, hd)
				}
			}
		}

		// Part of the dump, REORDERed inside the extent: virtual 2-4 to 6-8.
		before = images(dst)
		_, err = ddr.RestoreCylinders(bytes.NewReader(d.Bytes()), 2, 4, dstExt, 6)
		Expect(err).NotTo(HaveOccurred())
		for c := range 30 {
			for hd := range 15 {
				if c >= 18 && c <= 20 {
					expectHolds(dst, c, hd, recordsOf(want[c-11][hd], c-11, hd))
				} else {
					Expect(image(dst, c, hd)).To(Equal(before[c][hd]), "cyl %d head %d", c, hd)
				}
			}
		}
	})
})
