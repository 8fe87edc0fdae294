package cmsfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/cmsfs"
)

var _ = Describe("persistence", func() {
	// populate builds a small world and leaves one write unfinished, as a
	// crash would.
	populate := func(fs afero.Fs) {
		GinkgoHelper()
		w := newWorld(fs)
		pool, err := w.DefineFilePool("VMPSFS", 5000, "MAINTCSM")
		Expect(err).NotTo(HaveOccurred())
		Expect(pool.EnrollAdmin("MAINTCSM", "MAINT720")).To(Succeed())
		Expect(pool.Enroll("MAINT720", "CSM720", 300)).To(Succeed())
		Expect(pool.ModifyUser("MAINTCSM", "CSM720", 400)).To(Succeed())
		Expect(pool.CreateDir(dir("VMPSFS:CSM720.BASE"), "CSM720")).To(Succeed())
		a, err := pool.Dir(dir("VMPSFS:CSM720.BASE"))
		Expect(err).NotTo(HaveOccurred())
		Expect(put(a, "profile exec a0", pattern(5000, 1))).To(Succeed())
		m, err := w.DefineMinidisk(cmsfs.MinidiskDef{Owner: "MAINT720", Vaddr: "190", DevType: "3390",
			Cylinders: 10, RecompCylinders: 2, Volume: "/dasd/M01RES", StartCylinder: 40})
		Expect(err).NotTo(HaveOccurred())
		Expect(put(m, "cmsnuc text", pattern(9000, 2))).To(Succeed())

		unfinished, err := a.Create(id("half done"))
		Expect(err).NotTo(HaveOccurred())
		_, err = unfinished.Write(pattern(8192, 3))
		Expect(err).NotTo(HaveOccurred())
	}

	// verify checks that a reopened world is the one populate built.
	verify := func(fs afero.Fs) {
		GinkgoHelper()
		w := newWorld(fs)
		pool, err := w.FilePool("VMPSFS")
		Expect(err).NotTo(HaveOccurred())
		Expect(pool.IsAdmin("MAINTCSM")).To(BeTrue())
		Expect(pool.IsAdmin("MAINT720")).To(BeTrue())
		limit, used, err := pool.Quota("CSM720")
		Expect(err).NotTo(HaveOccurred())
		Expect([]int64{limit, used}).To(Equal([]int64{400, 2}), "the unfinished write is not counted")
		Expect(pool.FreeBlocks()).To(Equal(int64(5000 - 2)))
		Expect(errors.Is(pool.Enroll("MAINTCSM", "CSM720", 1), cms.ErrExists)).To(BeTrue())
		_, err = w.DefineFilePool("VMPSFS", 1, "X")
		Expect(errors.Is(err, cms.ErrExists)).To(BeTrue())

		a, err := pool.Dir(dir("VMPSFS:CSM720.BASE"))
		Expect(err).NotTo(HaveOccurred())
		Expect(get(a, "PROFILE EXEC")).To(Equal(pattern(5000, 1)))
		list, err := a.List()
		Expect(err).NotTo(HaveOccurred())
		Expect(names(list)).To(Equal([]string{"PROFILE EXEC"}))
		Expect(list[0].ModeNumber).To(Equal(0))

		m, err := w.Minidisk("maint720", "0190")
		Expect(err).NotTo(HaveOccurred())
		Expect(m.DevType()).To(Equal("3390"))
		Expect(m.CapacityBlocks()).To(Equal(int64(8 * 180)))
		Expect(m.UsedBlocks()).To(Equal(int64(3)))
		start, count := m.RecompCylinders()
		Expect([]int{start, count}).To(Equal([]int{8, 2}))
		vol, cyl := m.Extent()
		Expect(vol).To(Equal("/dasd/M01RES"))
		Expect(cyl).To(Equal(40))
		Expect(get(m, "CMSNUC TEXT")).To(Equal(pattern(9000, 2)))

		for path := range snapshot(fs, "/") {
			Expect(filepath.Base(path)).NotTo(HavePrefix(".tmp"), "temporaries are removed on open")
		}
	}

	It("reopens a disk-backed world from a second BasePathFs", func() {
		root := GinkgoT().TempDir()
		populate(afero.NewBasePathFs(afero.NewOsFs(), root))
		verify(afero.NewBasePathFs(afero.NewOsFs(), root))

		for _, p := range []string{"sfs/VMPSFS/.pool.json", "sfs/VMPSFS/CSM720/BASE/PROFILE.EXEC",
			"sfs/VMPSFS/CSM720/BASE/.fm.json", "mdisk/MAINT720.0190/.minidisk.json", "mdisk/MAINT720.0190/CMSNUC.TEXT"} {
			_, err := os.Stat(filepath.Join(root, p))
			Expect(err).NotTo(HaveOccurred(), p)
		}
		b, err := os.ReadFile(filepath.Join(root, "sfs/VMPSFS/.pool.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Fields(string(b))).To(ContainElements(`"MAINT720"`, `"CSM720":`, `400`))
	})

	It("reopens a world kept in a MemMapFs", func() {
		fs := afero.NewMemMapFs()
		populate(fs)
		verify(fs)
	})

	It("refuses damaged metadata, naming the file", func() {
		fs := afero.NewMemMapFs()
		populate(fs)
		Expect(afero.WriteFile(fs, "/sfs/VMPSFS/.pool.json", []byte("{not json"), 0o644)).To(Succeed())
		_, err := cmsfs.New(fs)
		Expect(err).To(MatchError(ContainSubstring("/sfs/VMPSFS/.pool.json")))
	})
})
