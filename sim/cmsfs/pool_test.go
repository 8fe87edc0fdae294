package cmsfs_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/cmsfs"
)

var _ = Describe("file pools", func() {
	backends(func(newFs func() afero.Fs) {
		var (
			w    *cmsfs.World
			pool *cmsfs.FilePool
		)
		BeforeEach(func() {
			w = newWorld(newFs())
			var err error
			pool, err = w.DefineFilePool("vmpsfs", 5000, "maintcsm")
			Expect(err).NotTo(HaveOccurred())
		})

		It("lets only administrators enroll users and administrators", func() {
			err := pool.Enroll("MAINT720", "CSM720", 100)
			Expect(errors.Is(err, cms.ErrNotAuthorized)).To(BeTrue())
			Expect(err).To(MatchError("file pool VMPSFS: not authorized: MAINT720 is not a file pool administrator; only administrators may ENROLL USER"))
			_, _, err = pool.Quota("CSM720")
			Expect(errors.Is(err, cms.ErrNotEnrolled)).To(BeTrue(), "the refused enroll left nothing")

			Expect(errors.Is(pool.EnrollAdmin("MAINT720", "MAINT720"), cms.ErrNotAuthorized)).To(BeTrue())
			Expect(pool.IsAdmin("maint720")).To(BeFalse())
			Expect(pool.EnrollAdmin("maintcsm", "maint720")).To(Succeed())
			Expect(pool.IsAdmin("MAINT720")).To(BeTrue())

			Expect(pool.Enroll("maint720", "csm720", 100)).To(Succeed())
			Expect(pool.Quota("csm720")).To(Equal(int64(100)))
			err = pool.Enroll("MAINTCSM", "CSM720", 5)
			Expect(errors.Is(err, cms.ErrExists)).To(BeTrue())
			Expect(err.Error()).To(HavePrefix("VMPSFS:CSM720.: already exists"))
		})

		It("refuses bad pool definitions and names unknown pools", func() {
			_, err := w.DefineFilePool("VMPSFS", 10, "MAINT")
			Expect(errors.Is(err, cms.ErrExists)).To(BeTrue())
			_, err = w.DefineFilePool("OTHER", 10)
			Expect(err).To(MatchError(ContainSubstring("at least one administrator")))
			_, err = w.DefineFilePool("OTHER", 0, "MAINT")
			Expect(err).To(MatchError(ContainSubstring("capacity must be positive")))

			p, err := w.FilePool("vmpsfs")
			Expect(err).NotTo(HaveOccurred())
			Expect(p).To(BeIdenticalTo(pool))
			_, err = w.FilePool("NOPOOL")
			Expect(errors.Is(err, cms.ErrNoFilePool)).To(BeTrue())
			Expect(err).To(MatchError("file pool NOPOOL: no such file pool: defined file pools: VMPSFS"))

			_, err = pool.Dir(dir("OTHER:CSM720."))
			Expect(errors.Is(err, cms.ErrNoFilePool)).To(BeTrue())
		})

		It("names unknown file spaces", func() {
			_, err := pool.Dir(dir("VMPSFS:NOBODY.X"))
			Expect(errors.Is(err, cms.ErrNotEnrolled)).To(BeTrue())
			Expect(err).To(MatchError("VMPSFS:NOBODY.: file space not enrolled: ask a file pool administrator to ENROLL USER NOBODY VMPSFS:"))
			Expect(errors.Is(pool.CreateDir(dir("VMPSFS:NOBODY.X"), "MAINTCSM"), cms.ErrNotEnrolled)).To(BeTrue())
		})

		Context("with an enrolled file space", func() {
			BeforeEach(func() {
				Expect(pool.Enroll("MAINTCSM", "CSM720", 1000)).To(Succeed())
			})

			It("lets the owner and administrators create directories, nobody else", func() {
				Expect(pool.CreateDir(dir("VMPSFS:CSM720.BASE"), "csm720")).To(Succeed())
				Expect(pool.CreateDir(dir("VMPSFS:CSM720.BASE.CP"), "MAINTCSM")).To(Succeed())
				err := pool.CreateDir(dir("VMPSFS:CSM720.BASE.CMS"), "MAINT")
				Expect(errors.Is(err, cms.ErrNotAuthorized)).To(BeTrue())
				Expect(err.Error()).To(HavePrefix("VMPSFS:CSM720.BASE.CMS: not authorized: MAINT may not create directories"))

				Expect(errors.Is(pool.CreateDir(dir("VMPSFS:CSM720.BASE"), "CSM720"), cms.ErrExists)).To(BeTrue())
				Expect(errors.Is(pool.CreateDir(dir("VMPSFS:CSM720."), "CSM720"), cms.ErrExists)).To(BeTrue())
				err = pool.CreateDir(dir("VMPSFS:CSM720.NONE.SUB"), "CSM720")
				Expect(errors.Is(err, cms.ErrNotFound)).To(BeTrue())
				Expect(err.Error()).To(HavePrefix("VMPSFS:CSM720.NONE: not found"))
				_, err = pool.Dir(dir("VMPSFS:CSM720.NONE"))
				Expect(errors.Is(err, cms.ErrNotFound)).To(BeTrue())
			})

			It("lists directories parents first, siblings by name", func() {
				for _, d := range []string{"B", "A", "A.Z", "A.C", "A.C.D", "B.E"} {
					Expect(pool.CreateDir(dir("VMPSFS:CSM720."+d), "CSM720")).To(Succeed())
				}
				list, err := pool.ListDirs(dir("VMPSFS:CSM720."))
				Expect(err).NotTo(HaveOccurred())
				var got []string
				for _, d := range list {
					got = append(got, d.String())
				}
				Expect(got).To(Equal([]string{"VMPSFS:CSM720.A", "VMPSFS:CSM720.A.C", "VMPSFS:CSM720.A.C.D",
					"VMPSFS:CSM720.A.Z", "VMPSFS:CSM720.B", "VMPSFS:CSM720.B.E"}))
				list, err = pool.ListDirs(dir("VMPSFS:CSM720.A.C"))
				Expect(err).NotTo(HaveOccurred())
				Expect(list).To(Equal([]cms.DirID{dir("VMPSFS:CSM720.A.C.D")}))
			})

			It("erases empty directories only, and whole trees on request", func() {
				Expect(pool.CreateDir(dir("VMPSFS:CSM720.L"), "CSM720")).To(Succeed())
				Expect(pool.CreateDir(dir("VMPSFS:CSM720.L.CP"), "CSM720")).To(Succeed())
				a, err := pool.Dir(dir("VMPSFS:CSM720.L.CP"))
				Expect(err).NotTo(HaveOccurred())
				Expect(put(a, "x y a2", pattern(9000, 1))).To(Succeed())
				_, used, _ := pool.Quota("CSM720")
				Expect(used).To(Equal(int64(3)))
				Expect(pool.FreeBlocks()).To(Equal(int64(5000 - 3)))

				err = pool.EraseDir(dir("VMPSFS:CSM720.L.CP"), "CSM720")
				Expect(errors.Is(err, cms.ErrDirNotEmpty)).To(BeTrue())
				Expect(err.Error()).To(ContainSubstring("holds 1 files and 0 directories"))
				Expect(errors.Is(pool.EraseTree(dir("VMPSFS:CSM720.L"), "MAINT"), cms.ErrNotAuthorized)).To(BeTrue())
				Expect(errors.Is(pool.EraseTree(dir("VMPSFS:CSM720."), "CSM720"), cms.ErrNotAuthorized)).To(BeTrue())

				Expect(pool.EraseTree(dir("VMPSFS:CSM720.L"), "CSM720")).To(Succeed())
				_, used, _ = pool.Quota("CSM720")
				Expect(used).To(BeZero())
				Expect(pool.FreeBlocks()).To(Equal(int64(5000)))
				Expect(errors.Is(pool.EraseDir(dir("VMPSFS:CSM720.L"), "CSM720"), cms.ErrNotFound)).To(BeTrue())

				Expect(pool.CreateDir(dir("VMPSFS:CSM720.E"), "CSM720")).To(Succeed())
				Expect(pool.EraseDir(dir("VMPSFS:CSM720.E"), "CSM720")).To(Succeed())
				Expect(pool.ListDirs(dir("VMPSFS:CSM720."))).To(BeEmpty())
			})

			It("refuses writes past the pool's capacity as disk full", func() {
				Expect(pool.Enroll("MAINTCSM", "BIG", 100000)).To(Succeed())
				a, err := pool.Dir(dir("VMPSFS:BIG."))
				Expect(err).NotTo(HaveOccurred())
				Expect(put(a, "fill it", make([]byte, 5000*4096))).To(Succeed())
				Expect(pool.FreeBlocks()).To(BeZero())
				err = put(a, "one more", nil)
				Expect(errors.Is(err, cms.ErrDiskFull)).To(BeTrue())
				Expect(err.Error()).To(ContainSubstring("file pool VMPSFS has 0 of 5000 free"))
			})

			It("applies a raised quota (MODIFY USER)", func() {
				Expect(errors.Is(pool.ModifyUser("CSM720", "CSM720", 2000), cms.ErrNotAuthorized)).To(BeTrue())
				Expect(pool.ModifyUser("MAINTCSM", "CSM720", 2000)).To(Succeed())
				Expect(pool.Quota("CSM720")).To(Equal(int64(2000)))
				Expect(errors.Is(pool.ModifyUser("MAINTCSM", "NOBODY", 1), cms.ErrNotEnrolled)).To(BeTrue())
			})
		})
	})
})
