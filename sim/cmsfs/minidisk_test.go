package cmsfs_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/cmsfs"
)

var _ = Describe("minidisks", func() {
	backends(func(newFs func() afero.Fs) {
		var w *cmsfs.World
		BeforeEach(func() { w = newWorld(newFs()) })

		def := func(devtype string, cyls, recomp int) cmsfs.MinidiskDef {
			return cmsfs.MinidiskDef{Owner: "maint720", Vaddr: "190", DevType: devtype, Cylinders: cyls,
				RecompCylinders: recomp, Volume: "/dasd/M01RES.3390", StartCylinder: 107}
		}

		It("describes itself and leaves the recomp cylinders out of the file area", func() {
			md, err := w.DefineMinidisk(def("3390", 10, 2))
			Expect(err).NotTo(HaveOccurred())
			var m cms.Minidisk = md
			Expect(m.Owner()).To(Equal("MAINT720"))
			Expect(m.Vaddr()).To(Equal("0190"))
			Expect(m.DevType()).To(Equal("3390"))
			Expect(m.Cylinders()).To(Equal(10))
			start, count := m.RecompCylinders()
			Expect([]int{start, count}).To(Equal([]int{8, 2}))
			Expect(m.CapacityBlocks()).To(Equal(int64(8 * 180)))
			Expect(m.String()).To(Equal("MAINT720 0190"))
			vol, cyl := md.Extent()
			Expect(vol).To(Equal("/dasd/M01RES.3390"))
			Expect(cyl).To(Equal(107))
		})

		DescribeTable("sizes the file area by device type",
			func(devtype string, want int64) {
				m, err := w.DefineMinidisk(def(devtype, 10, 3))
				Expect(err).NotTo(HaveOccurred())
				Expect(m.CapacityBlocks()).To(Equal(want))
			},
			Entry("3390: 15 tracks x 12 blocks", "3390", int64(7*180)),
			Entry("3380: 15 tracks x 10 blocks", "3380", int64(7*150)),
		)

		It("fills exactly to capacity and refuses one block more", func() {
			m, err := w.DefineMinidisk(def("3380", 3, 1))
			Expect(err).NotTo(HaveOccurred())
			Expect(m.CapacityBlocks()).To(Equal(int64(300)))
			Expect(put(m, "nucleus fill", pattern(299*4096, 5))).To(Succeed())
			Expect(put(m, "last one", pattern(4096, 6))).To(Succeed())
			Expect(m.UsedBlocks()).To(Equal(int64(300)))

			err = put(m, "one more", nil)
			Expect(errors.Is(err, cms.ErrDiskFull)).To(BeTrue())
			Expect(err).To(MatchError(HavePrefix("MAINT720 0190: disk full: write of ONE MORE needs 1 block more; minidisk MAINT720 0190 has 0 of 300 free")))
			err = put(m, "last one", pattern(4097, 6))
			Expect(errors.Is(err, cms.ErrDiskFull)).To(BeTrue(), "growing a file by a block fails too")
			Expect(get(m, "LAST ONE")).To(Equal(pattern(4096, 6)))
			Expect(m.UsedBlocks()).To(Equal(int64(300)))

			Expect(m.Erase(id("last one"))).To(Succeed())
			Expect(put(m, "one more", pattern(100, 1))).To(Succeed())
		})

		It("is found by owner and address, however written", func() {
			m, err := w.DefineMinidisk(def("3390", 5, 0))
			Expect(err).NotTo(HaveOccurred())
			Expect(w.Minidisk("MAINT720", "0190")).To(BeIdenticalTo(m))
			start, count := m.RecompCylinders()
			Expect([]int{start, count}).To(Equal([]int{5, 0}))
			_, err = w.Minidisk("MAINT720", "191")
			Expect(errors.Is(err, cms.ErrNotFound)).To(BeTrue())
			Expect(err).To(MatchError("MAINT720 0191: not found: no such minidisk is defined"))
			_, err = w.DefineMinidisk(def("3390", 5, 0))
			Expect(errors.Is(err, cms.ErrExists)).To(BeTrue())
		})

		DescribeTable("refuses bad definitions, saying why",
			func(change func(*cmsfs.MinidiskDef), msg string) {
				d := def("3390", 10, 2)
				change(&d)
				_, err := w.DefineMinidisk(d)
				Expect(err).To(MatchError(ContainSubstring(msg)))
			},
			Entry("device type", func(d *cmsfs.MinidiskDef) { d.DevType = "9336" }, `invalid device type "9336"`),
			Entry("vaddr", func(d *cmsfs.MinidiskDef) { d.Vaddr = "XYZ" }, `invalid vaddr "XYZ"`),
			Entry("owner", func(d *cmsfs.MinidiskDef) { d.Owner = "TOOLONGUSER" }, `invalid userid "TOOLONGUSER"`),
			Entry("no cylinders", func(d *cmsfs.MinidiskDef) { d.Cylinders = 0; d.RecompCylinders = 0 }, "need at least 1"),
			Entry("recomp takes it all", func(d *cmsfs.MinidiskDef) { d.RecompCylinders = 10 }, "10 recomp cylinders leave no file area in 10 cylinders"),
			Entry("negative start", func(d *cmsfs.MinidiskDef) { d.StartCylinder = -1 }, "start cylinder -1 is negative"),
		)
	})
})
