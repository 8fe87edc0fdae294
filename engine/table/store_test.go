package table_test

import (
	"errors"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
)

var _ = Describe("Store", func() {
	sysstat := table.SysStat().File
	var (
		area  cms.FileArea
		store *table.Store
	)
	BeforeEach(func() {
		area = newArea(100_000)
		store = table.NewStore(area, table.NewMemLocker())
		Expect(table.SysStat().Create(store)).To(Succeed())
	})

	addSystem := func(name string) func(*table.Table) error {
		return func(t *table.Table) error { return t.Add(table.NewEntry("SYSTEM", name, "RELEASE", "720")) }
	}

	It("creates an empty table at generation 1 and refuses to create it again", func() {
		Expect(contents(area, sysstat)).To(Equal(":TABLE.SYSSTAT :GEN.1 :ENTRIES.0\n"))
		err := store.Create(sysstat, "SYSSTAT", "SYSTEM")
		Expect(err).To(MatchError("table CSM SYSSTAT already exists in VMPSFS:MAINTCSM.; update it instead"))
		Expect(errors.Is(err, table.ErrExists)).To(BeTrue())
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonExists))
		Expect(contents(area, sysstat)).To(Equal(":TABLE.SYSSTAT :GEN.1 :ENTRIES.0\n"))
	})

	It("reports a missing table as ErrNotFound, which is also cms.ErrNotFound", func() {
		_, err := store.Read(table.SvcStat().File, "SRVLVL")
		Expect(errors.Is(err, table.ErrNotFound)).To(BeTrue())
		Expect(errors.Is(err, cms.ErrNotFound)).To(BeTrue())
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonNotFound))
		_, err = table.SvcStat().Apply(store, func(*table.Table) error { return nil })
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonNotFound))
	})

	It("bumps the generation on every update and reads back what it wrote", func() {
		g, err := table.SysStat().Apply(store, addSystem("VM01"))
		Expect(err).NotTo(HaveOccurred())
		Expect(g.Gen).To(Equal(uint64(2)))
		Expect(g.List()).To(HaveLen(1))
		t, err := table.SysStat().Read(store)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Gen).To(Equal(uint64(2)))
		Expect(contents(area, sysstat)).To(Equal(":TABLE.SYSSTAT :GEN.2 :ENTRIES.1\n:SYSTEM.VM01 :RELEASE.720\n"))
	})

	It("keeps the header its own, whatever fn does to it", func() {
		_, err := table.SysStat().Apply(store, func(t *table.Table) error {
			t.Gen, t.Name = 99, "OTHER"
			return nil
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(contents(area, sysstat)).To(Equal(":TABLE.SYSSTAT :GEN.2 :ENTRIES.0\n"))
	})

	Describe("COND", func() {
		It("succeeds when the table is still at the generation read, and returns the table written", func() {
			t, err := table.SysStat().Read(store)
			Expect(err).NotTo(HaveOccurred())
			g, err := table.SysStat().Update(store, t, addSystem("VM01"))
			Expect(err).NotTo(HaveOccurred())
			Expect(g.Gen).To(Equal(t.Gen + 1))
			_, ok := g.Get("VM01")
			Expect(ok).To(BeTrue())
			// The table written is the read of the command's next update.
			g2, err := table.SysStat().Update(store, g, addSystem("VM02"))
			Expect(err).NotTo(HaveOccurred())
			Expect(g2.Gen).To(Equal(t.Gen + 2))
		})

		It("fails with ErrGenerationMoved when it moved, and changes nothing", func() {
			read, err := table.SysStat().Read(store)
			Expect(err).NotTo(HaveOccurred())
			_, err = table.SysStat().Update(store, read, addSystem("VM01"))
			Expect(err).NotTo(HaveOccurred())
			before := contents(area, sysstat)
			called := false
			_, err = table.SysStat().Update(store, read, func(t *table.Table) error {
				called = true
				return t.Add(table.NewEntry("SYSTEM", "VM02"))
			})
			Expect(err).To(MatchError("table CSM SYSSTAT is at generation 2, the command read generation 1; nothing was changed; read the table again and retry"))
			Expect(errors.Is(err, table.ErrGenerationMoved)).To(BeTrue())
			var ce *table.CondError
			Expect(errors.As(err, &ce)).To(BeTrue())
			Expect([]uint64{ce.Want, ce.Have}).To(Equal([]uint64{1, 2}))
			Expect(ce.Reason()).To(Equal("0902"))
			Expect(called).To(BeFalse())
			Expect(contents(area, sysstat)).To(Equal(before))
		})

		It("refuses an update that names no read", func() {
			before := contents(area, sysstat)
			_, err := table.SysStat().Update(store, nil, addSystem("VM01"))
			Expect(err).To(MatchError(ContainSubstring("an update must name the generation it read")))
			Expect(contents(area, sysstat)).To(Equal(before))
		})

		// Two writers interleaved: the second writes between the first's
		// read and its write (the hook runs as the first takes the lock).
		interleaved := func(first func(*table.Store) (*table.Table, error)) error {
			hooked := &hookLocker{Locker: table.NewMemLocker()}
			plain := table.NewStore(area, hooked.Locker)
			hooked.hook = func() {
				_, err := table.SysStat().Apply(plain, addSystem("SECOND"))
				Expect(err).NotTo(HaveOccurred())
			}
			_, err := first(table.NewStore(area, hooked))
			Expect(hooked.fired).To(BeTrue())
			return err
		}

		It("refuses the first writer's update when a second wrote between its read and its write", func() {
			err := interleaved(func(st *table.Store) (*table.Table, error) {
				read, err := table.SysStat().Read(st)
				Expect(err).NotTo(HaveOccurred())
				return table.SysStat().Update(st, read, addSystem("FIRST"))
			})
			Expect(table.ReasonOf(err)).To(Equal(table.ReasonGenerationMoved))
			t, err := table.SysStat().Read(store)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.Gen).To(Equal(uint64(2)))
			Expect(t.List()).To(ConsistOf(entry(":SYSTEM.SECOND :RELEASE.720")), "the second writer's update is kept")
		})

		It("lets Apply read again and apply its change to what the second writer wrote", func() {
			err := interleaved(func(st *table.Store) (*table.Table, error) { return table.SysStat().Apply(st, addSystem("FIRST")) })
			Expect(err).NotTo(HaveOccurred())
			t, err := table.SysStat().Read(store)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.Gen).To(Equal(uint64(3)))
			Expect(t.List()).To(ConsistOf(entry(":SYSTEM.SECOND :RELEASE.720"), entry(":SYSTEM.FIRST :RELEASE.720")))
		})
	})

	It("writes nothing when fn fails, and returns fn's error as it is", func() {
		_, err := table.SysStat().Apply(store, addSystem("VM01"))
		Expect(err).NotTo(HaveOccurred())
		before := contents(area, sysstat)
		boom := errors.New("boom")
		_, err = table.SysStat().Apply(store, func(t *table.Table) error {
			Expect(t.Add(table.NewEntry("SYSTEM", "VM02"))).To(Succeed())
			return boom
		})
		Expect(err).To(BeIdenticalTo(boom))
		Expect(contents(area, sysstat)).To(Equal(before))
	})

	It("writes nothing when a value holds a tag", func() {
		before := contents(area, sysstat)
		_, err := table.SysStat().Apply(store, func(t *table.Table) error {
			return t.Add(table.NewEntry("SYSTEM", "VM01", "DESC", "test :STATE.STABLE"))
		})
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonInvalid))
		Expect(contents(area, sysstat)).To(Equal(before))
	})

	It("writes nothing when the file space is full", func() {
		area = newArea(1) // one block: the empty table fits, 5000 bytes do not
		store = table.NewStore(area, table.NewMemLocker())
		Expect(table.SysStat().Create(store)).To(Succeed())
		before := contents(area, sysstat)
		_, err := table.SysStat().Apply(store, func(t *table.Table) error {
			for i := range 200 {
				if err := t.Add(table.NewEntry("SYSTEM", fmt.Sprintf("VM%03d", i), "DESC", "twenty-five bytes")); err != nil {
					return err
				}
			}
			return nil
		})
		Expect(errors.Is(err, cms.ErrQuotaExceeded)).To(BeTrue(), "got %v", err)
		Expect(errors.Is(err, table.ErrIO)).To(BeTrue())
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonIOFailed))
		Expect(contents(area, sysstat)).To(Equal(before))
	})

	It("refuses to update a malformed table and leaves it for repair", func() {
		bad := ":TABLE.SYSSTAT :GEN.4\n:SYSTEM.VM01\n:SYSTEM.VM01\n"
		put(area, sysstat, bad)
		_, err := table.SysStat().Apply(store, addSystem("VM02"))
		Expect(err).To(MatchError("CSM SYSSTAT: line 3, column 9 (offset 35): duplicate key :SYSTEM.VM01 (first on line 2); nothing was changed"))
		Expect(contents(area, sysstat)).To(Equal(bad))
	})

	It("checks that a CSM table's file holds that table", func() {
		put(area, sysstat, ":TABLE.SVCSTAT :GEN.4\n")
		_, err := table.SysStat().Read(store)
		Expect(err).To(MatchError(ContainSubstring("the header names table SVCSTAT, expected SYSSTAT")))
		_, err = store.Read(sysstat, "SYSTEM") // the generic read does not know the name
		Expect(err).NotTo(HaveOccurred())
	})

	It("checks NAMES for cycles before writing it", func() {
		Expect(table.Names().Create(store)).To(Succeed())
		_, err := table.Names().Apply(store, func(t *table.Table) error {
			return t.Add(entry(":NICK.EAST :LIST.VM01 WEST"))
		})
		Expect(err).NotTo(HaveOccurred())
		before := contents(area, table.Names().File)
		_, err = table.Names().Apply(store, func(t *table.Table) error {
			return t.Add(entry(":NICK.WEST :LIST.VM02 EAST"))
		})
		Expect(err).To(MatchError("MAINTCSM NAMES: nickname cycle: EAST -> WEST -> EAST; a nickname may not contain itself"))
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonNicknameCycle))
		Expect(contents(area, table.Names().File)).To(Equal(before))
	})

	It("loses no update when 50 goroutines update one table", func() {
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Go(func() {
				_, err := table.SysStat().Apply(store, addSystem(fmt.Sprintf("VM%02d", i)))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			Expect(err).NotTo(HaveOccurred())
		}
		t, err := table.SysStat().Read(store)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Len()).To(Equal(50))
		Expect(t.Gen).To(Equal(uint64(1 + 50)))
		for i := range 50 {
			_, ok := t.Get(fmt.Sprintf("VM%02d", i))
			Expect(ok).To(BeTrue())
		}
	})
})

var _ = Describe("MemLocker", func() {
	It("excludes per resource, lets other resources through, and tolerates a second unlock", func() {
		lk := table.NewMemLocker()
		unlock, err := lk.Lock("A")
		Expect(err).NotTo(HaveOccurred())
		other, err := lk.Lock("B")
		Expect(err).NotTo(HaveOccurred())
		other()
		got := make(chan struct{})
		go func() {
			u, _ := lk.Lock("A")
			close(got)
			u()
		}()
		Consistently(got, "50ms").ShouldNot(BeClosed())
		unlock()
		unlock()
		Eventually(got).Should(BeClosed())
	})
})
