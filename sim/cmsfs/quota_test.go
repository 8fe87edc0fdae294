package cmsfs_test

import (
	"errors"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/cmsfs"
)

var _ = Describe("file space quotas", func() {
	backends(func(newFs func() afero.Fs) {
		var (
			fs   afero.Fs
			pool *cmsfs.FilePool
			a    cms.FileArea
		)
		BeforeEach(func() {
			fs = newFs()
			var err error
			pool, err = newWorld(fs).DefineFilePool("VMPSFS", 100000, "MAINTCSM")
			Expect(err).NotTo(HaveOccurred())
			Expect(pool.Enroll("MAINTCSM", "CSM720", 10)).To(Succeed())
			Expect(pool.CreateDir(dir("VMPSFS:CSM720.BASE"), "CSM720")).To(Succeed())
			a, err = pool.Dir(dir("VMPSFS:CSM720.BASE"))
			Expect(err).NotTo(HaveOccurred())
		})

		// writeBlocks writes n 4K blocks one Write at a time and returns how
		// many Writes succeeded and the first error.
		writeBlocks := func(wr cms.FileWriter, n int) (int, error) {
			for i := range n {
				if _, err := wr.Write(pattern(4096, byte(i))); err != nil {
					return i, err
				}
			}
			return n, nil
		}

		It("fails mid-stream, leaving no partial file", func() {
			before := snapshot(fs, "/")
			wr, err := a.Create(id("new file"))
			Expect(err).NotTo(HaveOccurred())
			n, err := writeBlocks(wr, 11)
			Expect(n).To(Equal(10), "ten blocks fit, the eleventh does not")
			Expect(errors.Is(err, cms.ErrQuotaExceeded)).To(BeTrue())
			Expect(err).To(MatchError("VMPSFS:CSM720.BASE: file space limit exceeded: write of NEW FILE needs 1 block more; " +
				"file space CSM720 has 0 of 10 free; ask the file pool administrator to raise the quota (MODIFY USER)"))

			Expect(snapshot(fs, "/")).To(Equal(before), "the temporary is gone at once")
			_, err2 := wr.Write([]byte("x"))
			Expect(err2).To(Equal(err))
			Expect(wr.Close()).To(Equal(err))
			Expect(snapshot(fs, "/")).To(Equal(before))
			_, used, _ := pool.Quota("CSM720")
			Expect(used).To(BeZero())
		})

		It("leaves a file being replaced byte-identical when the quota runs out", func() {
			old := pattern(3*4096, 42)
			Expect(put(a, "keep me", old)).To(Succeed())
			before := snapshot(fs, "/")
			wr, err := a.Create(id("keep me"))
			Expect(err).NotTo(HaveOccurred())
			n, err := writeBlocks(wr, 11)
			Expect(n).To(Equal(10), "net change: the 3 blocks of the old file count as free")
			Expect(errors.Is(err, cms.ErrQuotaExceeded)).To(BeTrue())
			Expect(snapshot(fs, "/")).To(Equal(before))
			Expect(get(a, "KEEP ME")).To(Equal(old))
			_, used, _ := pool.Quota("CSM720")
			Expect(used).To(Equal(int64(3)))
		})

		It("counts only the net change when a file is replaced", func() {
			Expect(put(a, "x y", make([]byte, 8*4096))).To(Succeed())
			Expect(put(a, "x y", make([]byte, 10*4096))).To(Succeed(), "8 blocks held, 2 free, 10 needed in all")
			Expect(put(a, "x y", nil)).To(Succeed())
			_, used, _ := pool.Quota("CSM720")
			Expect(used).To(Equal(int64(1)))
			Expect(put(a, "a b", make([]byte, 9*4096))).To(Succeed())
			Expect(errors.Is(put(a, "c d", nil), cms.ErrQuotaExceeded)).To(BeTrue(), "full: even an empty file needs a block")
		})

		It("never lets concurrent writers overrun the quota", func() {
			Expect(pool.ModifyUser("MAINTCSM", "CSM720", 100)).To(Succeed())
			var wg sync.WaitGroup
			results := make([]error, 50)
			for i := range results {
				wg.Go(func() {
					wr, err := a.Create(id(fmt.Sprintf("f%d data", i)))
					if err == nil {
						// 3 blocks in 1K pieces so the writers interleave
						for j := 0; j < 12 && err == nil; j++ {
							_, err = wr.Write(pattern(1024, byte(j)))
						}
						if cerr := wr.Close(); err == nil {
							err = cerr
						}
					}
					results[i] = err
				})
			}
			wg.Wait()
			ok := 0
			for _, err := range results {
				if err == nil {
					ok++
				} else {
					Expect(errors.Is(err, cms.ErrQuotaExceeded)).To(BeTrue(), err.Error())
				}
			}
			Expect(ok).To(BeNumerically(">=", 1))
			Expect(ok).To(BeNumerically("<=", 33), "33 files of 3 blocks fit in 100")
			list, err := a.List()
			Expect(err).NotTo(HaveOccurred())
			Expect(list).To(HaveLen(ok))
			_, used, _ := pool.Quota("CSM720")
			Expect(used).To(Equal(int64(3 * ok)))
		})

		It("keeps accounting exact when concurrent writers replace the same file", func() {
			Expect(pool.ModifyUser("MAINTCSM", "CSM720", 1000)).To(Succeed())
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Go(func() {
					defer GinkgoRecover()
					Expect(put(a, "same file", make([]byte, (i%7+1)*4096))).To(Succeed())
				})
			}
			wg.Wait()
			fi, err := a.Stat(id("same file"))
			Expect(err).NotTo(HaveOccurred())
			_, used, _ := pool.Quota("CSM720")
			Expect(used).To(Equal(fi.Blocks))
			Expect(pool.FreeBlocks()).To(Equal(100000 - fi.Blocks))
		})
	})
})
