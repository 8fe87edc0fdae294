package ddr_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"
)

var _ = Describe("refusing bad input, target unchanged", func() {
	var (
		fs        afero.Fs
		src, dst  *ckd.Volume
		good      []byte
		biggest   dumpRec // the track record with the most data
		dstBefore [32]byte
	)
	BeforeEach(func() {
		fs = diskFs()
		src = newVol(fs, "/src.ckd", "3390", 10, "SRC", 21)
		dst = newVol(fs, "/dst.ckd", "3390", 10, "DST", 22)
		var d bytes.Buffer
		_, err := ddr.Dump(whole(src), 1, 4, &d)
		Expect(err).NotTo(HaveOccurred())
		good = d.Bytes()
		for _, r := range dumpRecs(good) {
			if r.n > biggest.n {
				biggest = r
			}
		}
		Expect(biggest.n).To(BeNumerically(">", 1000))
		dstBefore = fileSum(fs, dst.Path())
	})
	expectUnchanged := func() {
		GinkgoHelper()
		Expect(fileSum(fs, dst.Path())).To(Equal(dstBefore), "the target image changed")
	}

	DescribeTable("a damaged dump",
		func(damage func(d []byte) []byte, sentinel error, says string) {
			d := damage(bytes.Clone(good))
			_, verr := ddr.Verify(bytes.NewReader(d))
			_, err := ddr.Restore(bytes.NewReader(d), whole(dst), -1)
			Expect(err).To(MatchError(sentinel))
			Expect(verr).To(MatchError(sentinel))
			var e *ddr.Error
			Expect(err).To(BeAssignableToTypeOf(e))
			Expect(err.Error()).To(ContainSubstring(says))
			expectUnchanged()
		},
		Entry("one flipped byte in a track image", func(d []byte) []byte {
			d[biggest.off+ddr.TrackHeaderSize+biggest.n/2] ^= 0x01
			return d
		}, ddr.ErrChecksum, "SHA-256 mismatch; the dump is damaged, make it again"),
		Entry("one flipped byte in a per-track hash", func(d []byte) []byte {
			d[biggest.off+ddr.TrackHeaderSize+biggest.n+5] ^= 0x80
			return d
		}, ddr.ErrChecksum, "SHA-256 mismatch"),
		Entry("one flipped byte in a track position", func(d []byte) []byte {
			d[biggest.off+1] ^= 0x01
			return d
		}, ddr.ErrChecksum, "SHA-256 mismatch"),
		Entry("one flipped byte in the header", func(d []byte) []byte {
			d[21] ^= 0x01
			return d
		}, ddr.ErrChecksum, "offset 0: header SHA-256 mismatch"),
		Entry("one flipped byte in the magic", func(d []byte) []byte {
			d[3] ^= 0x01
			return d
		}, ddr.ErrBadFormat, "not a DDR dump"),
		Entry("one flipped byte in the whole-file hash", func(d []byte) []byte {
			d[len(d)-1] ^= 0x01
			return d
		}, ddr.ErrChecksum, "whole-file SHA-256 mismatch"),
		Entry("truncated inside the header", func(d []byte) []byte { return d[:50] }, ddr.ErrTruncated, "offset 50"),
		Entry("truncated after the header", func(d []byte) []byte { return d[:ddr.HeaderSize] }, ddr.ErrTruncated, "truncated"),
		Entry("truncated inside a track", func(d []byte) []byte { return d[:biggest.off+100] }, ddr.ErrTruncated, "a track image"),
		Entry("truncated before the trailer", func(d []byte) []byte { return d[:len(d)-ddr.TrailerSize] }, ddr.ErrTruncated, "the trailer"),
		Entry("truncated by one byte", func(d []byte) []byte { return d[:len(d)-1] }, ddr.ErrTruncated, "the trailer"),
		Entry("followed by extra bytes", func(d []byte) []byte { return append(d, 0) }, ddr.ErrBadFormat, "1 bytes follow the trailer"),
		Entry("empty", func([]byte) []byte { return nil }, ddr.ErrBadFormat, "not a DDR dump"),
		Entry("random bytes", func([]byte) []byte {
			b := make([]byte, 5000)
			for i := range b {
				b[i] = byte(i*7 + 3)
			}
			return b
		}, ddr.ErrBadFormat, "not a DDR dump"),
		Entry("a track without its end-of-track marker, hashes recomputed", func(d []byte) []byte {
			d[biggest.off+ddr.TrackHeaderSize+biggest.n-1] = 0
			reseal(d)
			return d
		}, ddr.ErrBadFormat, "does not parse"),
		Entry("a track image longer than its end-of-track marker, hashes recomputed", func(d []byte) []byte {
			// Shift: claim 8 more bytes by taking them from the hash area.
			r := dumpRecs(d)[0]
			out := append([]byte(nil), d[:r.off]...)
			binary.BigEndian.PutUint32(d[r.off+4:], uint32(r.n+8))
			out = append(out, d[r.off:r.off+ddr.TrackHeaderSize+r.n]...)
			out = append(out, make([]byte, 8+32)...)
			out = append(out, d[r.off+ddr.TrackHeaderSize+r.n+32:]...)
			reseal(out)
			return out
		}, ddr.ErrBadFormat, "end-of-track marker is at byte"),
		Entry("tracks out of order, hashes recomputed", func(d []byte) []byte {
			d[dumpRecs(d)[3].off+3] = 9
			reseal(d)
			return d
		}, ddr.ErrBadFormat, "out of order"),
		Entry("a home address that is not the recorded position, hashes recomputed", func(d []byte) []byte {
			d[dumpRecs(d)[3].off+ddr.TrackHeaderSize+2] ^= 0x04
			reseal(d)
			return d
		}, ddr.ErrBadFormat, "home address"),
		Entry("a header of another geometry, hashes recomputed", func(d []byte) []byte {
			binary.BigEndian.PutUint16(d[20:], 30)
			reseal(d)
			return d
		}, ddr.ErrBadFormat, "geometry"),
		Entry("a header with a wrong track count, hashes recomputed", func(d []byte) []byte {
			binary.BigEndian.PutUint32(d[52:], 61)
			resealEnds(d)
			return d
		}, ddr.ErrBadFormat, "track count 61"),
		Entry("format version 2, hashes recomputed", func(d []byte) []byte {
			d[9] = 2
			reseal(d)
			return d
		}, ddr.ErrBadFormat, "format version 2"),
		Entry("non-zero reserved bytes, hashes recomputed", func(d []byte) []byte {
			d[60] = 1
			reseal(d)
			return d
		}, ddr.ErrBadFormat, "reserved bytes 56-63"),
	)

	It("says where a damaged track is, by offset and position", func() {
		d := bytes.Clone(good)
		d[biggest.off+ddr.TrackHeaderSize+10] ^= 0xFF
		cyl, head := int(binary.BigEndian.Uint16(d[biggest.off:])), int(binary.BigEndian.Uint16(d[biggest.off+2:]))
		f, err := fs.Create("/nuc.ddr")
		Expect(err).NotTo(HaveOccurred())
		_, err = f.Write(d)
		Expect(err).NotTo(HaveOccurred())
		_, err = ddr.Restore(f, whole(dst), -1)
		Expect(err).To(MatchError(fmt.Sprintf("restore /nuc.ddr: offset %d: track cyl %d head %d: SHA-256 mismatch; the dump is damaged, make it again", biggest.off, cyl, head)))
		var e *ddr.Error
		Expect(err).To(BeAssignableToTypeOf(e))
		e = err.(*ddr.Error)
		Expect(e.Offset).To(Equal(int64(biggest.off)))
		Expect(*e.Track).To(Equal(ddr.Pos{Cyl: cyl, Head: head}))
		expectUnchanged()
	})

	It("reports a read-only target without claiming a partial write", func() {
		ro, err := ckd.OpenReadOnly(fs, dst.Path())
		Expect(err).NotTo(HaveOccurred())
		defer ro.Close()
		_, err = ddr.Restore(bytes.NewReader(good), whole(ro), -1)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(HavePrefix("restore onto /dst.ckd: track cyl 1 head 0: writing the track"))
		Expect(err.Error()).NotTo(ContainSubstring("partly written"))
		expectUnchanged()
	})

	It("refuses a CKD volume image given as a dump", func() {
		img, err := afero.ReadFile(fs, src.Path())
		Expect(err).NotTo(HaveOccurred())
		_, err = ddr.Restore(bytes.NewReader(img), whole(dst), -1)
		Expect(err).To(MatchError(ddr.ErrBadFormat))
		Expect(err.Error()).To(ContainSubstring("CKD volume image, not a DDR dump"))
		expectUnchanged()
	})

	It("refuses a 3390 dump onto a 3380", func() {
		v3380 := newVol(fs, "/v3380.ckd", "3380", 10, "V3380", 0)
		before := fileSum(fs, v3380.Path())
		_, err := ddr.Restore(bytes.NewReader(good), whole(v3380), -1)
		Expect(err).To(MatchError(ddr.ErrDeviceMismatch))
		Expect(err.Error()).To(Equal("restore onto /v3380.ckd: the volume is a 3380 and the dump is of a 3390; restore onto a 3390 volume"))
		Expect(fileSum(fs, v3380.Path())).To(Equal(before))
	})

	It("refuses an extent too small for the range", func() {
		small, err := dst.Extent(0, 4) // cylinders 1-4 need 0-4
		Expect(err).NotTo(HaveOccurred())
		_, err = ddr.Restore(bytes.NewReader(good), small, -1)
		Expect(err).To(MatchError(ddr.ErrTargetTooSmall))
		expectUnchanged()
	})

	It("refuses a REORDER target too high for the extent", func() {
		_, err := ddr.Restore(bytes.NewReader(good), whole(dst), 7)
		Expect(err).To(MatchError(ddr.ErrTargetTooSmall))
		Expect(err.Error()).To(Equal("restore onto /dst.ckd: cylinders 1-4 REORDER TO 7: the extent has cylinders 0-9; choose a lower REORDER cylinder or a larger minidisk"))
		expectUnchanged()
	})

	It("refuses an extent past the end of the volume", func() {
		_, err := ddr.Restore(bytes.NewReader(good), ckd.Extent{Volume: dst, Start: 8, Count: 5}, -1)
		Expect(err).To(MatchError(ddr.ErrBadExtent))
		expectUnchanged()
	})

	It("refuses to restore cylinders the dump does not hold", func() {
		_, err := ddr.RestoreCylinders(bytes.NewReader(good), 0, 2, whole(dst), -1)
		Expect(err).To(MatchError(ddr.ErrRange))
		Expect(err.Error()).To(ContainSubstring("holds cylinders 1-4"))
		expectUnchanged()
	})

	Describe("Copy", func() {
		It("refuses another device type, a small target, a bad range or extent", func() {
			v3380 := newVol(fs, "/v3380.ckd", "3380", 10, "V3380", 0)
			_, err := ddr.Copy(whole(src), 0, 1, whole(v3380), -1)
			Expect(err).To(MatchError(ddr.ErrDeviceMismatch))

			_, err = ddr.Copy(whole(src), 0, 3, whole(dst), 7)
			Expect(err).To(MatchError(ddr.ErrTargetTooSmall))
			_, err = ddr.Copy(whole(src), 5, 10, whole(dst), 0)
			Expect(err).To(MatchError(ddr.ErrRange))
			_, err = ddr.Copy(whole(src), 3, 2, whole(dst), 0)
			Expect(err).To(MatchError(ddr.ErrRange))
			_, err = ddr.Copy(whole(src), 0, 1, ckd.Extent{Volume: dst, Start: 9, Count: 2}, -1)
			Expect(err).To(MatchError(ddr.ErrBadExtent))
			expectUnchanged()
		})

		It("writes nothing when the last source track is damaged", func() {
			f, err := fs.OpenFile(src.Path(), os.O_RDWR, 0)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.WriteAt([]byte{0x77}, ckd.HeaderSize+int64(4*15+14)*56832+4) // HA head of cyl 4 head 14
			Expect(err).NotTo(HaveOccurred())
			_, err = ddr.Copy(whole(src), 1, 4, whole(dst), -1)
			Expect(err).To(MatchError(ddr.ErrBadFormat))
			Expect(err.Error()).To(ContainSubstring("track cyl 4 head 14"))
			expectUnchanged()
		})
	})
})

// A seeded sweep of single-byte damage anywhere in the dump: every one is
// refused and the target stays as it was.
var _ = It("refuses every single flipped byte of a small dump", func() {
	fs := diskFs()
	src := newVol(fs, "/src.ckd", "3390", 2, "SRC", 31)
	dst := newVol(fs, "/dst.ckd", "3390", 2, "DST", 0)
	var d bytes.Buffer
	_, err := ddr.Dump(whole(src), 1, 1, &d)
	Expect(err).NotTo(HaveOccurred())
	before := fileSum(fs, dst.Path())
	rng := rand.New(rand.NewPCG(5, 5))
	for range 200 {
		b := bytes.Clone(d.Bytes())
		i := rng.IntN(len(b))
		b[i] ^= byte(1 + rng.IntN(255))
		_, err := ddr.Restore(bytes.NewReader(b), whole(dst), -1)
		Expect(err).To(HaveOccurred(), "flipped byte at %d", i)
		Expect(sha256.Sum256(must(afero.ReadFile(fs, dst.Path())))).To(Equal(before))
	}
})

func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}
