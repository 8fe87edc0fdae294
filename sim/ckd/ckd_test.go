package ckd_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/memfs"
)

func fileHash(path string) [32]byte {
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return sha256.Sum256(b)
}

func records(cyl, head uint16, n, size int, fill byte) []ckd.Record {
	out := make([]ckd.Record, n)
	for i := range out {
		out[i] = ckd.Record{Count: ckd.Count{Cyl: cyl, Head: head, Rec: uint8(i + 1)}, Data: bytes.Repeat([]byte{fill + byte(i)}, size)}
	}
	return out
}

var _ = Describe("geometry", func() {
	DescribeTable("image track size and CMS blocks",
		func(dev string, trk, blocksPerCyl int) {
			g, _, err := ckd.ParseDevType(dev)
			Expect(err).NotTo(HaveOccurred())
			Expect(g.ImageTrackSize()).To(Equal(trk))
			Expect(g.BlocksPerCylinder()).To(Equal(blocksPerCyl))
		},
		Entry("3390", "3390", 56832, 180),
		Entry("3380", "3380", 47616, 150),
	)

	DescribeTable("models",
		func(dev string, cyls int) {
			_, n, err := ckd.ParseDevType(dev)
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(Equal(cyls))
		},
		Entry("3390-1", "3390-1", 1113), Entry("3390-2", "3390-2", 2226), Entry("3390-3", "3390-3", 3339),
		Entry("3390-9", "3390-9", 10017), Entry("3390-27", "3390-27", 32760), Entry("3390-54", "3390-54", 65520),
	)

	It("refuses unknown device types and models by name", func() {
		_, _, err := ckd.ParseDevType("3350")
		Expect(err).To(MatchError(ContainSubstring(`unknown device type "3350"`)))
		_, _, err = ckd.ParseDevType("3390-5")
		Expect(err).To(MatchError(ContainSubstring(`unknown model "5"`)))
	})

	// Track capacity follows the device formulas: CMS gets exactly 12 4K
	// blocks on a 3390 track and 10 on a 3380 track.
	DescribeTable("track capacity",
		func(dev string, fits int) {
			g, _, _ := ckd.ParseDevType(dev)
			buf := make([]byte, g.ImageTrackSize())
			ok := &ckd.Track{Cyl: 1, Records: records(1, 0, fits, 4096, 1)}
			Expect(ok.Encode(g, buf)).To(Succeed())
			over := &ckd.Track{Cyl: 1, Records: records(1, 0, fits+1, 4096, 1)}
			Expect(over.Encode(g, buf)).To(MatchError(ContainSubstring("do not fit")))
			full := &ckd.Track{Records: []ckd.Record{{Data: make([]byte, g.TrackBytes)}}}
			Expect(full.Encode(g, buf)).To(Succeed())
			tooBig := &ckd.Track{Records: []ckd.Record{{Data: make([]byte, g.TrackBytes+1)}}}
			Expect(tooBig.Encode(g, buf)).To(HaveOccurred())
		},
		Entry("3390: 12 blocks", "3390", 12),
		Entry("3380: 10 blocks", "3380", 10),
	)
})

var _ = Describe("volumes", func() {
	var fs afero.Fs
	BeforeEach(func() { fs = afero.NewMemMapFs() })

	It("creates, writes and reads back tracks and records", func() {
		v, err := ckd.Create(fs, "vol.390", "3390", 5, "csm001")
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Cylinders()).To(Equal(5))
		Expect(v.Volser()).To(Equal("CSM001"))
		recs := records(77, 4, 3, 1000, 'a')
		recs[1].Key = []byte("KEY1")
		Expect(v.WriteTrack(&ckd.Track{Cyl: 2, Head: 4, Records: recs})).To(Succeed())
		Expect(v.Close()).To(Succeed())

		v, err = ckd.Open(fs, "vol.390")
		Expect(err).NotTo(HaveOccurred())
		t, err := v.ReadTrack(2, 4)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Records).To(Equal(recs))
		empty, err := v.ReadTrack(4, 14)
		Expect(err).NotTo(HaveOccurred())
		Expect(empty.Records).To(BeEmpty())
	})

	DescribeTable("formats the same bytes in memory (cylinder by cylinder) as on disk (sized, track by track)",
		func(devType string, cyls int) {
			disk := afero.NewBasePathFs(afero.NewOsFs(), GinkgoT().TempDir())
			for _, f := range []afero.Fs{fs, disk} {
				v, err := ckd.Create(f, "vol.img", devType, cyls, "csm009")
				Expect(err).NotTo(HaveOccurred())
				Expect(v.Close()).To(Succeed())
			}
			inMem, err := afero.ReadFile(fs, "vol.img")
			Expect(err).NotTo(HaveOccurred())
			onDisk, err := afero.ReadFile(disk, "vol.img")
			Expect(err).NotTo(HaveOccurred())
			Expect(len(inMem)).To(Equal(len(onDisk)))
			Expect(sha256.Sum256(inMem)).To(Equal(sha256.Sum256(onDisk)))
		},
		Entry("3390", "3390", 4),
		Entry("3380", "3380", 3),
		Entry("3390 larger than one in-memory write (64 MiB)", "3390", 100),
	)

	It("refuses to overwrite an existing image", func() {
		_, err := ckd.Create(fs, "vol.390", "3390", 1, "A")
		Expect(err).NotTo(HaveOccurred())
		_, err = ckd.Create(fs, "vol.390", "3390", 1, "A")
		Expect(err).To(HaveOccurred())
	})

	It("checks extents and tracks against the volume bounds", func() {
		v, err := ckd.Create(fs, "vol.390", "3390", 10, "A")
		Expect(err).NotTo(HaveOccurred())
		e, err := v.Extent(3, 7)
		Expect(err).NotTo(HaveOccurred())
		Expect(e.End()).To(Equal(9))
		Expect(e.Blocks()).To(Equal(7 * 180))
		_, err = v.Extent(3, 8)
		Expect(errors.Is(err, ckd.ErrOutOfRange)).To(BeTrue())
		Expect(err).To(MatchError(ContainSubstring("extent of 8 cylinders at cylinder 3")))
		_, err = v.ReadTrack(10, 0)
		Expect(errors.Is(err, ckd.ErrOutOfRange)).To(BeTrue())
		_, err = v.ReadTrack(0, 15)
		Expect(errors.Is(err, ckd.ErrOutOfRange)).To(BeTrue())
	})

	It("refuses a raw track image meant for another position", func() {
		v, err := ckd.Create(fs, "vol.390", "3390", 3, "A")
		Expect(err).NotTo(HaveOccurred())
		buf := make([]byte, v.Geometry().ImageTrackSize())
		Expect(v.ReadTrackImage(1, 1, buf)).To(Succeed())
		before := append([]byte(nil), buf...)
		Expect(v.WriteTrackImage(1, 2, buf)).To(MatchError(ContainSubstring("home address says cyl 1 head 1")))
		Expect(v.ReadTrackImage(1, 2, buf)).To(Succeed())
		Expect(buf).NotTo(Equal(before))
	})

	Describe("bad images, each reported and left as it was", func() {
		var dir string
		BeforeEach(func() {
			fs = afero.NewOsFs()
			dir = GinkgoT().TempDir()
		})
		make390 := func() string {
			p := filepath.Join(dir, "v.390")
			v, err := ckd.Create(fs, p, "3390", 2, "BAD001")
			Expect(err).NotTo(HaveOccurred())
			Expect(v.Close()).To(Succeed())
			return p
		}
		patch := func(p string, off int64, b []byte) {
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.WriteAt(b, off)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Close()).To(Succeed())
		}
		DescribeTable("open refuses",
			func(damage func(p string), want string) {
				p := make390()
				damage(p)
				before := fileHash(p)
				_, err := ckd.Open(fs, p)
				Expect(err).To(MatchError(ContainSubstring(want)))
				Expect(err).To(MatchError(ContainSubstring(p)))
				Expect(fileHash(p)).To(Equal(before))
			},
			Entry("truncated header", func(p string) { Expect(os.Truncate(p, 100)).To(Succeed()) }, "offset 100: image header truncated"),
			Entry("wrong magic", func(p string) { patch(p, 0, []byte("NOT_CKD!")) }, "offset 0: header id"),
			Entry("compressed image", func(p string) { patch(p, 0, []byte("CKD_C370")) }, "convert it with cckd2ckd"),
			Entry("unknown device type", func(p string) { patch(p, 16, []byte{0x33}) }, "offset 16: unknown device type byte 0x33"),
			Entry("corrupt heads", func(p string) { patch(p, 8, []byte{16}) }, "offset 8: 16 heads per cylinder"),
			Entry("corrupt track size", func(p string) { patch(p, 12, []byte{0, 0xba}) }, "offset 12: track size 47616"),
			Entry("truncated image", func(p string) {
				st, _ := os.Stat(p)
				Expect(os.Truncate(p, st.Size()-1000)).To(Succeed())
			}, "not a whole number of 3390 cylinders"),
		)

		It("reports a damaged track with its position and offset", func() {
			p := make390()
			patch(p, ckd.HeaderSize+int64(1*15+3)*56832+1, []byte{0, 9})
			v, err := ckd.Open(fs, p)
			Expect(err).NotTo(HaveOccurred())
			_, err = v.ReadTrack(1, 3)
			var te *ckd.TrackError
			Expect(errors.As(err, &te)).To(BeTrue())
			Expect(te.Cyl).To(Equal(1))
			Expect(te.Head).To(Equal(3))
			Expect(te.Offset).To(Equal(1))
		})

		It("refuses bad volume serials and cylinder counts naming the reason", func() {
			_, err := ckd.Create(fs, filepath.Join(dir, "x"), "3390", 1, "TOOLONG1")
			Expect(err).To(MatchError(ContainSubstring("1 to 6 characters")))
			_, err = ckd.Create(fs, filepath.Join(dir, "x"), "3390", 1, "A.B")
			Expect(err).To(MatchError(ContainSubstring("not allowed")))
			_, err = ckd.Create(fs, filepath.Join(dir, "x"), "3390", 70000, "A")
			Expect(err).To(MatchError(ContainSubstring("cylinder count 70000")))
			_, err = os.Stat(filepath.Join(dir, "x"))
			Expect(os.IsNotExist(err)).To(BeTrue())
		})
	})

	It("keeps the header in the layout Hercules documents", func() {
		v, err := ckd.Create(fs, "v.380", "3380", 2, "A")
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Close()).To(Succeed())
		b, err := afero.ReadFile(fs, "v.380")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b[:8])).To(Equal("CKD_P370"))
		Expect(binary.LittleEndian.Uint32(b[8:])).To(BeEquivalentTo(15))
		Expect(binary.LittleEndian.Uint32(b[12:])).To(BeEquivalentTo(47616))
		Expect(b[16]).To(BeEquivalentTo(0x80))
		Expect(len(b)).To(Equal(ckd.HeaderSize + 2*15*47616))
	})
})

var _ = Describe("WriteBlocks", func() {
	It("writes 4K records track by track and reports the cylinders used", func() {
		fs := afero.NewMemMapFs()
		v, err := ckd.Create(fs, "t.390", "3390", 10, "T")
		Expect(err).NotTo(HaveOccurred())
		e, err := v.Extent(4, 5)
		Expect(err).NotTo(HaveOccurred())
		// 15 tracks x 12 blocks = one cylinder, plus 13 blocks and a half.
		data := bytes.Repeat([]byte("nucleus!"), (180+13)*512+256)
		n, err := ckd.WriteBlocks(e, 1, bytes.NewReader(data))
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(Equal(2))
		t, err := v.ReadTrack(5, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Records).To(HaveLen(12))
		Expect(t.Records[0].Data).To(Equal(data[:4096]))
		t, err = v.ReadTrack(6, 1)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Records).To(HaveLen(2))
		Expect(t.Records[1].Data[:2048]).To(Equal(data[len(data)-2048:]))
		Expect(t.Records[1].Data[2048:]).To(Equal(make([]byte, 2048)))
	})
	It("refuses data that does not fit the extent", func() {
		fs := afero.NewMemMapFs()
		v, err := ckd.Create(fs, "t.390", "3390", 3, "T")
		Expect(err).NotTo(HaveOccurred())
		e, _ := v.Extent(1, 2)
		_, err = ckd.WriteBlocks(e, 1, bytes.NewReader(make([]byte, 181*4096)))
		Expect(err).To(MatchError(ContainSubstring("does not fit")))
	})
})

// countingFs counts the writes into its files.
type countingFs struct {
	afero.Fs
	writes *int
}

func (c countingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := c.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return countingFile{File: f, writes: c.writes}, nil
}

type countingFile struct {
	afero.File
	writes *int
}

func (c countingFile) WriteAt(b []byte, off int64) (int, error) {
	*c.writes++
	return c.File.WriteAt(b, off)
}

var _ = Describe("runs of track writes", func() {
	var (
		fs     afero.Fs
		writes int
		v      *ckd.Volume
	)
	BeforeEach(func() {
		mem := afero.NewMemMapFs()
		created, err := ckd.Create(mem, "/run.390", "3390", 30, "RUN001")
		Expect(err).NotTo(HaveOccurred())
		Expect(created.Close()).To(Succeed())
		writes = 0
		fs = countingFs{Fs: mem, writes: &writes}
		v, err = ckd.Open(fs, "/run.390")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(v.Close)
	})
	// image is the track image of cyl/head holding one record of fill.
	image := func(cyl, head int, fill byte) []byte {
		GinkgoHelper()
		buf := make([]byte, v.Geometry().ImageTrackSize())
		t := &ckd.Track{Cyl: uint16(cyl), Head: uint16(head), Records: records(uint16(cyl), uint16(head), 1, 4096, fill)}
		Expect(t.Encode(v.Geometry(), buf)).To(Succeed())
		return buf
	}
	read := func(cyl, head int) []byte {
		GinkgoHelper()
		buf := make([]byte, v.Geometry().ImageTrackSize())
		Expect(v.ReadTrackImage(cyl, head, buf)).To(Succeed())
		return buf
	}

	It("writes consecutive tracks across cylinders in one write, the same bytes as track by track", func() {
		other, err := ckd.Create(afero.NewMemMapFs(), "/other.390", "3390", 30, "RUN001")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(other.Close)
		r := v.NewRun(18)
		for i := range 18 { // 18 tracks: what a run holds at most (1 MiB)
			c, h := 2+(10+i)/15, (10+i)%15 // cylinder 2 head 10 to cylinder 3 head 12
			img := image(c, h, byte(i))
			Expect(r.Add(c, h, img)).To(Succeed())
			Expect(other.WriteTrackImage(c, h, img)).To(Succeed())
		}
		Expect(writes).To(BeZero())
		Expect(r.Flush()).To(Succeed())
		Expect(writes).To(Equal(1))
		Expect(r.Written()).To(Equal(18))
		for c := 2; c <= 4; c++ {
			for h := range 15 {
				want := make([]byte, len(read(c, h)))
				Expect(other.ReadTrackImage(c, h, want)).To(Succeed())
				Expect(read(c, h)).To(Equal(want), "cyl %d head %d", c, h)
			}
		}
	})

	It("starts a new write where the tracks stop following each other, and at 1 MiB", func() {
		r := v.NewRun(0)
		Expect(r.Add(1, 0, image(1, 0, 'a'))).To(Succeed())
		Expect(r.Add(1, 1, image(1, 1, 'b'))).To(Succeed())
		Expect(r.Add(1, 3, image(1, 3, 'c'))).To(Succeed()) // skips head 2
		Expect(writes).To(Equal(1))
		Expect(r.Flush()).To(Succeed())
		Expect(writes).To(Equal(2))
		Expect(read(1, 1)).To(Equal(image(1, 1, 'b')))
		Expect(read(1, 3)).To(Equal(image(1, 3, 'c')))

		writes = 0
		perRun := (1 << 20) / v.Geometry().ImageTrackSize()
		for i := range perRun + 1 {
			c, h := 5+i/15, i%15
			Expect(r.AddTrack(&ckd.Track{Cyl: uint16(c), Head: uint16(h), Records: records(uint16(c), uint16(h), 2, 4096, 'x')})).To(Succeed())
		}
		Expect(writes).To(Equal(1))
		Expect(r.Flush()).To(Succeed())
		Expect(writes).To(Equal(2))
		Expect(r.Written()).To(Equal(3 + perRun + 1))
		t, err := v.ReadTrack(5+perRun/15, perRun%15)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Records).To(Equal(records(uint16(5+perRun/15), uint16(perRun%15), 2, 4096, 'x')))
	})

	It("writes what it held before reporting a track meant for another position, and adds nothing", func() {
		r := v.NewRun(3)
		Expect(r.Add(1, 0, image(1, 0, 'a'))).To(Succeed())
		Expect(r.Add(1, 1, image(1, 1, 'b'))).To(Succeed())
		empty := read(1, 2)
		Expect(r.Add(1, 2, image(1, 3, 'c'))).To(MatchError(ContainSubstring("refusing to write: track cyl 1 head 2: offset 1: home address says cyl 1 head 3")))
		Expect(r.Written()).To(Equal(2))
		Expect(read(1, 0)).To(Equal(image(1, 0, 'a')))
		Expect(read(1, 1)).To(Equal(image(1, 1, 'b')))
		Expect(r.Flush()).To(Succeed())
		Expect(read(1, 2)).To(Equal(empty))
		Expect(r.AddTrack(&ckd.Track{Cyl: 30, Head: 0})).To(MatchError(ckd.ErrOutOfRange))
	})

	It("names the first track of a run whose write fails", func() {
		ro, err := ckd.OpenReadOnly(fs, "/run.390")
		Expect(err).NotTo(HaveOccurred())
		defer ro.Close()
		before, err := afero.ReadFile(fs, "/run.390")
		Expect(err).NotTo(HaveOccurred())
		r := ro.NewRun(2)
		Expect(r.Add(7, 14, image(7, 14, 'a'))).To(Succeed())
		Expect(r.Add(8, 0, image(8, 0, 'b'))).To(Succeed())
		err = r.Flush()
		var re *ckd.RunError
		Expect(errors.As(err, &re)).To(BeTrue(), "%v", err)
		Expect([]int{re.Cyl, re.Head}).To(Equal([]int{7, 14}))
		Expect(err).To(MatchError(ContainSubstring(fmt.Sprintf("/run.390: write: offset %d", ckd.HeaderSize+(7*15+14)*56832))))
		Expect(r.Written()).To(BeZero())
		after, err := afero.ReadFile(fs, "/run.390")
		Expect(err).NotTo(HaveOccurred())
		Expect(after).To(Equal(before))
	})
})

var _ = Describe("device types", func() {
	It("hands each caller a geometry of its own", func() {
		g, _, err := ckd.ParseDevType("3390")
		Expect(err).NotTo(HaveOccurred())
		g.Heads, g.Models["3"] = 1, 1
		again, cyls, err := ckd.ParseDevType("3390-3")
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Heads).To(Equal(15))
		Expect(cyls).To(Equal(3339))
	})
})

var _ = Describe("a volume on a sparse file system (sim/memfs)", func() {
	It("holds only the tracks written, and reads every other track as the empty track a formatted image has", func() {
		sparse := memfs.New(memfs.Options{})
		full := afero.NewMemMapFs()
		const cyls = 100 // a 3390 of 100 cylinders: 85 MB formatted
		sv, err := ckd.Create(sparse, "/vol.img", "3390", cyls, "CSM001")
		Expect(err).NotTo(HaveOccurred())
		fv, err := ckd.Create(full, "/vol.img", "3390", cyls, "CSM001")
		Expect(err).NotTo(HaveOccurred())
		t := &ckd.Track{Cyl: 42, Head: 7, Records: records(42, 7, 3, 4096, 0x5a)}
		for _, v := range []*ckd.Volume{sv, fv} {
			Expect(v.WriteTrack(t)).To(Succeed())
			Expect(v.Sync()).To(Succeed())
		}
		u := sparse.Usage()
		Expect(u.Logical).To(Equal(ckd.HeaderSize + int64(cyls)*sv.Geometry().CylinderBytes()))
		Expect(u.Private+u.Sealed).To(BeNumerically("<", 4*memfs.PageSize), "the header, the label track and track 42/7")

		a := make([]byte, sv.Geometry().ImageTrackSize())
		b := make([]byte, len(a))
		for _, at := range [][2]int{{0, 0}, {0, 1}, {42, 6}, {42, 7}, {42, 8}, {99, 14}} {
			Expect(sv.ReadTrackImage(at[0], at[1], a)).To(Succeed())
			Expect(fv.ReadTrackImage(at[0], at[1], b)).To(Succeed())
			Expect(bytes.Equal(a, b)).To(BeTrue(), "track %d/%d", at[0], at[1])
		}
		got, err := sv.ReadTrack(42, 7)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Records).To(HaveLen(3))
		Expect(sv.Volser()).To(Equal("CSM001"))
	})
})
