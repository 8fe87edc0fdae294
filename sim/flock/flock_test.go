package flock_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/cmsfs"
	"github.com/csmsim/csmsim/sim/flock"
)

var _ = Describe("flock", func() {
	var lockDir string
	BeforeEach(func() { lockDir = filepath.Join(GinkgoT().TempDir(), "locks") })

	// lockedBy reports on the returned channel when lk got resource.
	lockedBy := func(lk table.Locker, resource string) <-chan func() {
		got := make(chan func(), 1)
		go func() {
			defer GinkgoRecover()
			unlock, err := lk.Lock(resource)
			Expect(err).NotTo(HaveOccurred())
			got <- unlock
		}()
		return got
	}

	It("names lock files by a hash, safe for any resource", func() {
		for _, r := range []string{"VMPSFS:MAINTCSM. CSM SYSSTAT", "../../etc/passwd", "a/b\x00c", ""} {
			Expect(flock.FileName(r)).To(MatchRegexp(`^[0-9a-f]{32}\.lock$`))
		}
		Expect(flock.FileName("A")).NotTo(Equal(flock.FileName("a")))
		unlock, err := flock.New(lockDir).Lock("../../x y")
		Expect(err).NotTo(HaveOccurred())
		defer unlock()
		Expect(filepath.Join(lockDir, flock.FileName("../../x y"))).To(BeARegularFile())
	})

	It("excludes goroutines, through one locker or two, until unlocked", func() {
		a, b := flock.New(lockDir), flock.New(lockDir)
		unlock, err := a.Lock("T")
		Expect(err).NotTo(HaveOccurred())
		viaA, viaB := lockedBy(a, "T"), lockedBy(b, "T")
		Consistently(viaA, "100ms").ShouldNot(Receive())
		Consistently(viaB, "10ms").ShouldNot(Receive())
		unlock()
		unlock() // a second call does nothing: the next holder keeps the lock
		var next func()
		Eventually(func() bool {
			select {
			case next = <-viaA:
				return true
			case next = <-viaB:
				return true
			default:
				return false
			}
		}).Should(BeTrue())
		Consistently(func() int { return len(viaA) + len(viaB) }, "100ms").Should(Equal(0), "one holder at a time")
		next()
		Eventually(func() int { return len(viaA) + len(viaB) }).Should(Equal(1))
	})

	It("lets other resources through", func() {
		lk := flock.New(lockDir)
		unlock, err := lk.Lock("T1")
		Expect(err).NotTo(HaveOccurred())
		defer unlock()
		var other func()
		Eventually(lockedBy(lk, "T2")).Should(Receive(&other))
		other()
	})

	It("excludes another process until unlocked", func(ctx SpecContext) {
		unlock, err := flock.New(lockDir).Lock("T")
		Expect(err).NotTo(HaveOccurred())
		cmd := child(ctx, "probe T", "", lockDir)
		out, err := cmd.StdoutPipe()
		Expect(err).NotTo(HaveOccurred())
		Expect(cmd.Start()).To(Succeed())
		lines := make(chan string, 1)
		go func() {
			s := bufio.NewScanner(out)
			for s.Scan() {
				lines <- s.Text()
			}
			close(lines)
		}()
		Consistently(lines, "500ms").ShouldNot(Receive())
		unlock()
		Eventually(lines, "10s").Should(Receive(Equal("locked")))
		Expect(cmd.Wait()).To(Succeed())
	}, SpecTimeout(20*time.Second))

	It("says why when the lock directory cannot be made", func() {
		file := filepath.Join(GinkgoT().TempDir(), "file")
		Expect(os.WriteFile(file, nil, 0o644)).To(Succeed())
		_, err := flock.New(filepath.Join(file, "locks")).Lock("T")
		Expect(err).To(MatchError(ContainSubstring("lock directory")))
	})

	It("loses no update when 50 goroutines update one table", func() {
		w, err := cmsfs.New(afero.NewMemMapFs())
		Expect(err).NotTo(HaveOccurred())
		area := newTableArea(w)
		store := table.NewStore(area, flock.New(lockDir))
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Go(func() {
				_, err := table.SysStat().Apply(store, func(t *table.Table) error {
					return t.Add(table.NewEntry("SYSTEM", fmt.Sprintf("VM%02d", i)))
				})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			Expect(err).NotTo(HaveOccurred())
		}
		expectSystems(store, 50)
	})

	It("loses no update when 50 processes update one table on disk", func(ctx context.Context) {
		dir := GinkgoT().TempDir()
		w, err := cmsfs.New(afero.NewBasePathFs(afero.NewOsFs(), dir))
		Expect(err).NotTo(HaveOccurred())
		newTableArea(w)

		var wg sync.WaitGroup
		failures := make(chan string, 50)
		for i := range 50 {
			wg.Go(func() {
				out, err := child(ctx, fmt.Sprintf("add %02d", i), dir, lockDir).CombinedOutput()
				if err != nil {
					failures <- fmt.Sprintf("child %d: %v: %s", i, err, out)
				}
			})
		}
		wg.Wait()
		close(failures)
		var failed []string
		for f := range failures {
			failed = append(failed, f)
		}
		Expect(failed).To(BeEmpty())

		w, err = cmsfs.New(afero.NewBasePathFs(afero.NewOsFs(), dir)) // read it as a fresh process would
		Expect(err).NotTo(HaveOccurred())
		pool, err := w.FilePool("VMPSFS")
		Expect(err).NotTo(HaveOccurred())
		area, err := pool.Dir(tableDir)
		Expect(err).NotTo(HaveOccurred())
		expectSystems(table.NewStore(area, flock.New(lockDir)), 50)
	}, NodeTimeout(60*time.Second))
})

// newTableArea makes MAINTCSM's top directory with an empty CSM SYSSTAT.
func newTableArea(w *cmsfs.World) cms.FileArea {
	GinkgoHelper()
	pool, err := w.DefineFilePool("VMPSFS", 1_000_000, "MAINTCSM")
	Expect(err).NotTo(HaveOccurred())
	Expect(pool.Enroll("MAINTCSM", "MAINTCSM", 100_000)).To(Succeed())
	area, err := pool.Dir(tableDir)
	Expect(err).NotTo(HaveOccurred())
	Expect(table.SysStat().Create(table.NewStore(area, table.NewMemLocker()))).To(Succeed())
	return area
}

// expectSystems checks that SYSSTAT holds VM00..VM<n-1> and was updated
// once per system.
func expectSystems(store *table.Store, n int) {
	GinkgoHelper()
	t, err := table.SysStat().Read(store)
	Expect(err).NotTo(HaveOccurred())
	Expect(t.Len()).To(Equal(n))
	Expect(t.Gen).To(Equal(uint64(1 + n)))
	for i := range n {
		_, ok := t.Get(fmt.Sprintf("VM%02d", i))
		Expect(ok).To(BeTrue(), "VM%02d missing", i)
	}
}
