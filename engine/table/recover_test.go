package table_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
)

var _ = Describe("a torn table", func() {
	svcstat := table.SvcStat().File
	var (
		area  cms.FileArea
		store *table.Store
	)
	addLevel := func(name string) func(*table.Table) error {
		return func(t *table.Table) error { return t.Add(table.NewEntry("SRVLVL", name, "STATE", "TEST")) }
	}
	BeforeEach(func() {
		area = newArea(100_000)
		store = table.NewStore(area, table.NewMemLocker())
		Expect(table.SvcStat().Create(store)).To(Succeed())
		for _, l := range []string{"BASE", "L1", "L2"} {
			_, err := table.SvcStat().Apply(store, addLevel(l))
			Expect(err).NotTo(HaveOccurred())
		}
	})

	It("keeps the previous generation beside the table on every update", func() {
		Expect(table.PreviousID(svcstat).Name()).To(Equal("$CSM SVCSTAT"))
		Expect(table.PreviousID(cms.MustParseFileID("MAINTCSM NAMES")).Name()).To(Equal("$MAINTCS NAMES"))
		Expect(contents(area, table.PreviousID(svcstat))).To(Equal(":TABLE.SVCSTAT :GEN.3 :ENTRIES.2\n:SRVLVL.BASE :STATE.TEST\n:SRVLVL.L1 :STATE.TEST\n"))
		Expect(contents(area, svcstat)).To(HavePrefix(":TABLE.SVCSTAT :GEN.4 :ENTRIES.3\n"))
	})

	DescribeTable("is refused, naming file and offset, and nothing is written; Recover puts the previous generation back",
		func(cut func(string) string, problem string, tornGen uint64) {
			whole := contents(area, svcstat)
			torn := cut(whole)
			put(area, svcstat, torn)

			_, err := table.SvcStat().Read(store)
			var pe *table.ParseError
			Expect(errors.As(err, &pe)).To(BeTrue(), "%v", err)
			Expect(pe.Problem).To(ContainSubstring(problem))
			Expect(pe.Problem).To(ContainSubstring("csmsim table recover"))
			Expect(pe.Error()).To(MatchRegexp(`CSM SVCSTAT: line \d+, column \d+ \(offset \d+\)`))
			_, err = table.SvcStat().Apply(store, addLevel("L9"))
			Expect(errors.As(err, &pe)).To(BeTrue())
			Expect(contents(area, svcstat)).To(Equal(torn), "a refused update writes nothing")

			r, err := store.Recover(svcstat, "SVCSTAT", "SRVLVL")
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(Equal(table.Recovered{From: 3, Torn: tornGen, Gen: 5, Entries: 2}))
			t, err := table.SvcStat().Read(store)
			Expect(err).NotTo(HaveOccurred())
			Expect(t.Gen).To(Equal(uint64(5)))
			Expect(t.Len()).To(Equal(2))
			_, ok := t.Get("L1")
			Expect(ok).To(BeTrue())
			// and the table takes updates again
			_, err = table.SvcStat().Apply(store, addLevel("L2"))
			Expect(err).NotTo(HaveOccurred())
		},
		Entry("cut in the last entry (truncate -s)", func(s string) string { return s[:len(s)-7] },
			"the file ends in the middle of line 4, without a line end: it was cut short", uint64(4)),
		Entry("cut at the end of a line: an entry gone", func(s string) string { return s[:len(s)-len(":SRVLVL.L2 :STATE.TEST\n")] },
			"the header says 3 entries, the file ends after 2", uint64(4)),
		// its generation unreadable: restored above the one it may have been
		Entry("cut in the header", func(s string) string { return s[:20] }, "the file ends in the middle of line 1", uint64(0)),
	)

	It("refuses to recover an intact table, and a torn one whose previous generation is gone", func() {
		_, err := store.Recover(svcstat, "SVCSTAT", "SRVLVL")
		Expect(err).To(MatchError(ContainSubstring("is intact at generation 4; nothing to recover")))
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonIntact))

		put(area, svcstat, ":TABLE.SVCSTAT :GEN.4 :ENTRIES.3\n:SRVLVL.BASE\n")
		Expect(area.Erase(table.PreviousID(svcstat))).To(Succeed())
		_, err = store.Recover(svcstat, "SVCSTAT", "SRVLVL")
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonNoPrevious))
		Expect(err).To(MatchError(ContainSubstring("its previous generation $CSM SVCSTAT cannot be used")))
	})
})
