package cmsfs_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/cmsfs"
)

var _ = Describe("Minidisk.RawFs", func() {
	backends(func(newFs func() afero.Fs) {
		var (
			store afero.Fs
			disk  *cmsfs.Minidisk
			raw   afero.Fs
		)
		BeforeEach(func() {
			store = newFs()
			var err error
			// one 3390 cylinder: 180 blocks
			disk, err = newWorld(store).DefineMinidisk(cmsfs.MinidiskDef{Owner: "CSMSERVE", Vaddr: "0191", DevType: "3390", Cylinders: 1})
			Expect(err).NotTo(HaveOccurred())
			raw = disk.RawFs()
		})
		blocks := func(n int) []byte { return bytes.Repeat([]byte("b"), n*cms.BlockSize) }
		full := func(err error) {
			GinkgoHelper()
			Expect(errors.Is(err, cms.ErrDiskFull)).To(BeTrue(), "%v", err)
			var ce *cms.Error
			Expect(errors.As(err, &ce)).To(BeTrue())
			Expect(ce.Object).To(Equal("CSMSERVE 0191"))
		}
		// recounted is the disk's usage as a fresh world counts it.
		recounted := func() int64 {
			GinkgoHelper()
			w, err := cmsfs.New(store)
			Expect(err).NotTo(HaveOccurred())
			m, err := w.Minidisk("CSMSERVE", "0191")
			Expect(err).NotTo(HaveOccurred())
			return m.UsedBlocks()
		}

		It("charges writes as they arrive and refuses the one that passes the capacity", func() {
			f, err := raw.Create("/A.B")
			Expect(err).NotTo(HaveOccurred())
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(1)) // an empty file holds a block
			_, err = f.Write(blocks(100))
			Expect(err).NotTo(HaveOccurred())
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(100))
			_, err = f.Write(blocks(81))
			full(err)
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(100))
			_, err = f.Write(blocks(80))
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Close()).To(Succeed())
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(180))
			Expect(raw.Stat("/A.B")).To(HaveField("Size()", BeEquivalentTo(180*cms.BlockSize)))

			_, err = raw.Create("/C.D")
			full(err)
			Expect(raw.Stat("/C.D")).Error().To(MatchError(fs.ErrNotExist))
			Expect(recounted()).To(Equal(disk.UsedBlocks()))
		})

		It("releases what truncation, removal and replacement free", func() {
			Expect(afero.WriteFile(raw, "/A.B", blocks(50), 0o644)).To(Succeed())
			Expect(afero.WriteFile(raw, "/C.D", blocks(30), 0o644)).To(Succeed())
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(80))

			f, err := raw.OpenFile("/A.B", os.O_WRONLY|os.O_APPEND, 0o644)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.Write(blocks(10))
			Expect(err).NotTo(HaveOccurred())
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(90))
			Expect(f.Truncate(20 * cms.BlockSize)).To(Succeed())
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(50))
			Expect(f.Close()).To(Succeed())
			f, err = raw.OpenFile("/A.B", os.O_WRONLY, 0o644)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.WriteAt(blocks(1), 39*cms.BlockSize)
			Expect(err).NotTo(HaveOccurred())
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(70))
			Expect(f.Close()).To(Succeed())

			Expect(raw.Rename("/C.D", "/A.B")).To(Succeed()) // A.B's 40 blocks are free
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(30))
			Expect(afero.WriteFile(raw, "/A.B", []byte("small"), 0o644)).To(Succeed()) // truncated, then 1 block
			Expect(disk.UsedBlocks()).To(BeEquivalentTo(1))
			Expect(raw.Remove("/A.B")).To(Succeed())
			Expect(disk.UsedBlocks()).To(BeZero())
			Expect(recounted()).To(BeZero())
		})

		It("keeps the world's metadata out of reach and has no directories", func() {
			_, err := raw.Create("/.minidisk.json")
			Expect(err).To(MatchError(fs.ErrPermission))
			Expect(raw.Remove("/.minidisk.json")).To(MatchError(fs.ErrPermission))
			Expect(raw.Rename("/.fm.json", "/X.Y")).To(MatchError(fs.ErrPermission))
			Expect(raw.Mkdir("/SUB", 0o755)).To(HaveOccurred())
			Expect(raw.MkdirAll("/SUB/X", 0o755)).To(HaveOccurred())
			Expect(raw.(interface{ FreeBlocks() int64 }).FreeBlocks()).To(BeEquivalentTo(180))
			_, err = cmsfs.New(store) // the disk still opens
			Expect(err).NotTo(HaveOccurred())
		})
	})
})
