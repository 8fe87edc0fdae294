package cmsfs_test

import (
	"bytes"
	"errors"
	"io"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/cmsfs"
)

var _ = Describe("file areas", func() {
	backends(func(newFs func() afero.Fs) {
		var (
			fs   afero.Fs
			pool *cmsfs.FilePool
			a    cms.FileArea
		)
		BeforeEach(func() {
			fs = newFs()
			w := newWorld(fs)
			var err error
			pool, err = w.DefineFilePool("VMPSFS", 10000, "MAINTCSM")
			Expect(err).NotTo(HaveOccurred())
			Expect(pool.Enroll("MAINTCSM", "CSM720", 1000)).To(Succeed())
			Expect(pool.CreateDir(dir("VMPSFS:CSM720.BASE"), "CSM720")).To(Succeed())
			a, err = pool.Dir(dir("VMPSFS:CSM720.BASE"))
			Expect(err).NotTo(HaveOccurred())
		})

		It("writes, reads, stats and lists files sorted by fn ft", func() {
			Expect(put(a, "zeta exec", pattern(5000, 1))).To(Succeed())
			Expect(put(a, "a$ b", nil)).To(Succeed())
			Expect(put(a, "a x a2", []byte("hello"))).To(Succeed())
			Expect(get(a, "ZETA EXEC")).To(Equal(pattern(5000, 1)))

			fi, err := a.Stat(id("ZETA EXEC"))
			Expect(err).NotTo(HaveOccurred())
			Expect(fi).To(Equal(cms.FileInfo{ID: id("ZETA EXEC"), ModeNumber: 1, Bytes: 5000, Blocks: 2}))

			list, err := a.List()
			Expect(err).NotTo(HaveOccurred())
			Expect(names(list)).To(Equal([]string{"A X", "A$ B", "ZETA EXEC"}))
			Expect(list[0].ModeNumber).To(Equal(2))
			Expect(list[1].Blocks).To(Equal(int64(1)), "an empty file holds a block")
			_, used, _ := pool.Quota("CSM720")
			Expect(used).To(Equal(int64(4)))
			Expect(a.String()).To(Equal("VMPSFS:CSM720.BASE"))
		})

		It("keeps files as <FN>.<FT> under /sfs/<POOL>/<SPACE>/<DIR>", func() {
			Expect(put(a, "profile exec", []byte("x"))).To(Succeed())
			b, err := afero.ReadFile(fs, "/sfs/VMPSFS/CSM720/BASE/PROFILE.EXEC")
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(Equal("x"))
		})

		It("replaces a file on Close and shows the old one until then", func() {
			Expect(put(a, "x y", []byte("old"))).To(Succeed())
			wr, err := a.Create(id("x y"))
			Expect(err).NotTo(HaveOccurred())
			_, err = wr.Write([]byte("new content"))
			Expect(err).NotTo(HaveOccurred())
			Expect(get(a, "X Y")).To(Equal([]byte("old")))
			Expect(wr.Close()).To(Succeed())
			Expect(get(a, "X Y")).To(Equal([]byte("new content")))
			_, err = wr.Write([]byte("more"))
			Expect(err).To(MatchError(ContainSubstring("X Y in VMPSFS:CSM720.BASE")))
			Expect(wr.Abort()).To(Succeed())
			Expect(get(a, "X Y")).To(Equal([]byte("new content")), "Abort after Close changes nothing")
		})

		It("leaves nothing behind on Abort and keeps the old file", func() {
			Expect(put(a, "x y", []byte("old"))).To(Succeed())
			before := snapshot(fs, "/")
			wr, err := a.Create(id("x y"))
			Expect(err).NotTo(HaveOccurred())
			_, err = wr.Write(pattern(20000, 3))
			Expect(err).NotTo(HaveOccurred())
			Expect(wr.Abort()).To(Succeed())
			Expect(snapshot(fs, "/")).To(Equal(before))
			Expect(wr.Close()).To(MatchError(ContainSubstring("write aborted")))
			_, used, _ := pool.Quota("CSM720")
			Expect(used).To(Equal(int64(1)))
		})

		It("erases and renames, keeping or setting mode numbers", func() {
			Expect(put(a, "a b a0", []byte("1"))).To(Succeed())
			Expect(a.Rename(id("a b"), id("c d"))).To(Succeed())
			fi, err := a.Stat(id("c d"))
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.ModeNumber).To(Equal(0), "mode number kept when the new id has no file mode")
			Expect(a.Rename(id("c d"), id("c d a3"))).To(Succeed())
			fi, _ = a.Stat(id("c d"))
			Expect(fi.ModeNumber).To(Equal(3))
			_, err = a.Stat(id("a b"))
			Expect(errors.Is(err, cms.ErrNotFound)).To(BeTrue())

			Expect(put(a, "e f", nil)).To(Succeed())
			err = a.Rename(id("c d"), id("e f"))
			Expect(errors.Is(err, cms.ErrExists)).To(BeTrue())
			Expect(err.Error()).To(HavePrefix("E F in VMPSFS:CSM720.BASE: already exists"))

			Expect(a.Erase(id("c d"))).To(Succeed())
			Expect(a.Erase(id("e f"))).To(Succeed())
			_, used, _ := pool.Quota("CSM720")
			Expect(used).To(BeZero())
			Expect(snapshot(fs, "/sfs/VMPSFS/CSM720/BASE")).To(Equal(map[string]string{"": "<dir>"}),
				"no files and no mode-number metadata left")
		})

		It("names the file and area when a file is missing", func() {
			_, err := a.Open(id("no such"))
			Expect(err).To(MatchError("NO SUCH in VMPSFS:CSM720.BASE: not found"))
			Expect(errors.Is(a.Erase(id("no such")), cms.ErrNotFound)).To(BeTrue())
			Expect(errors.Is(a.Rename(id("no such"), id("x y")), cms.ErrNotFound)).To(BeTrue())
			_, err = a.Create(cms.FileID{})
			var ne *cms.NameError
			Expect(errors.As(err, &ne)).To(BeTrue())
		})

		It("refuses writes into a directory erased meanwhile", func() {
			wr, err := a.Create(id("x y"))
			Expect(err).NotTo(HaveOccurred())
			Expect(pool.EraseTree(dir("VMPSFS:CSM720.BASE"), "CSM720")).To(Succeed())
			_, _ = wr.Write([]byte("data"))
			Expect(errors.Is(wr.Close(), cms.ErrNotFound)).To(BeTrue())
			_, used, _ := pool.Quota("CSM720")
			Expect(used).To(BeZero())
			_, err = a.List()
			Expect(errors.Is(err, cms.ErrNotFound)).To(BeTrue())
		})

		It("streams large files in pieces", func() {
			wr, err := a.Create(id("big file"))
			Expect(err).NotTo(HaveOccurred())
			data := pattern(300_000, 9)
			n, err := io.Copy(wr, struct{ io.Reader }{bytes.NewReader(data)}) // 32K chunks
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(Equal(int64(len(data))))
			Expect(wr.Close()).To(Succeed())
			Expect(get(a, "BIG FILE")).To(Equal(data))
		})
	})
})
