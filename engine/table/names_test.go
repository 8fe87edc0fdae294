package table_test

import (
	"errors"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms/cmstest"
	"github.com/csmsim/csmsim/engine/table"
)

var _ = Describe("NAMES", func() {
	isSystem := func(s string) bool {
		switch strings.ToUpper(s) {
		case "VM01", "VM02", "VM03", "VM04", "VM05":
			return true
		}
		return false
	}
	names := func(lines ...string) *table.Table {
		GinkgoHelper()
		t, err := table.ParseAs("MAINTCSM NAMES", "NAMES", "NICK",
			strings.NewReader(":TABLE.NAMES :GEN.1\n"+strings.Join(lines, "\n")))
		Expect(err).NotTo(HaveOccurred())
		return t
	}
	groups := func() *table.Table {
		return names(
			":NICK.ALL :LIST.EAST WEST VM05",
			":NICK.EAST :LIST.VM01 vm02",
			":NICK.west :LIST.VM03 VM02 EAST",
			":NICK.NONE :LIST.",
		)
	}

	DescribeTable("resolves a word to sorted, de-duplicated systems",
		func(word string, want []string) {
			got, err := table.ResolveNames(groups(), word, isSystem)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		Entry("a system", "vm04", []string{"VM04"}),
		Entry("a nickname", "east", []string{"VM01", "VM02"}),
		Entry("nested, with a system listed twice", "WEST", []string{"VM01", "VM02", "VM03"}),
		Entry("two levels deep", "ALL", []string{"VM01", "VM02", "VM03", "VM05"}),
		Entry("an empty list", "NONE", []string{}),
	)

	It("treats a missing NAMES table as one without nicknames", func() {
		got, err := table.ResolveNames(nil, "vm03", isSystem)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal([]string{"VM03"}))
		_, err = table.ResolveNames(nil, "EAST", isSystem)
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonUnknownName))
	})

	It("lets a system win over a nickname of the same name", func() {
		got, err := table.ResolveNames(names(":NICK.VM01 :LIST.VM02 VM03"), "VM01", isSystem)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal([]string{"VM01"}))
	})

	It("refuses a word that is neither a system nor a nickname", func() {
		_, err := table.ResolveNames(groups(), "VM99", isSystem)
		Expect(err).To(MatchError("VM99 is neither a system in CSM SYSSTAT nor a nickname in MAINTCSM NAMES"))
		Expect(errors.Is(err, table.ErrUnknownName)).To(BeTrue())
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonUnknownName))
	})

	It("refuses an unknown member, naming the nickname that lists it", func() {
		_, err := table.ResolveNames(names(":NICK.G1 :LIST.G2", ":NICK.G2 :LIST.VM01 VM99"), "G1", isSystem)
		Expect(err).To(MatchError("VM99 (listed in nickname G2) is neither a system in CSM SYSSTAT nor a nickname in MAINTCSM NAMES"))
	})

	cyclic := func() *table.Table {
		return names(":NICK.ALL :LIST.VM01 EAST", ":NICK.EAST :LIST.VM01 WEST", ":NICK.WEST :LIST.VM02 EAST")
	}

	It("refuses a cycle when resolving, naming its path", func() {
		_, err := table.ResolveNames(cyclic(), "all", isSystem)
		Expect(err).To(MatchError("MAINTCSM NAMES: nickname cycle: EAST -> WEST -> EAST; a nickname may not contain itself"))
		Expect(errors.Is(err, table.ErrNicknameCycle)).To(BeTrue())
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonNicknameCycle))
	})

	It("finds cycles at write time, self-references included", func() {
		Expect(table.CheckNames(cyclic())).To(MatchError(ContainSubstring("nickname cycle: EAST -> WEST -> EAST;")))
		Expect(table.CheckNames(names(":NICK.SELF :LIST.VM01 self"))).To(MatchError(ContainSubstring("nickname cycle: SELF -> SELF;")))
	})

	It("accepts nicknames shared by several groups", func() {
		Expect(table.CheckNames(groups())).To(Succeed())
		Expect(table.CheckNames(names(":NICK.A :LIST.B C", ":NICK.B :LIST.D", ":NICK.C :LIST.D", ":NICK.D :LIST.VM01"))).To(Succeed())
	})
})

var _ = Describe("ParseNames", func() {
	parse := func(body string) (*table.Table, error) {
		return table.ParseNames("MAINTCSM NAMES", strings.NewReader(body))
	}

	It("reads a CMS NAMES file without a header as generation 1, CRLF and a missing last line end included", func() {
		t, err := parse("* groups\r\n:nick.east :list.vm01\r\n  vm02\r\n:nick.WEST :list.VM03")
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Name).To(Equal("NAMES"))
		Expect(t.Gen).To(Equal(uint64(1)))
		Expect(t.List()).To(Equal([]table.Entry{
			table.NewEntry("NICK", "EAST", "LIST", "vm01 vm02"),
			table.NewEntry("NICK", "WEST", "LIST", "VM03"),
		}))
	})

	It("reads the file csmsim writes and tells one cut short", func() {
		t, err := parse(":TABLE.NAMES :GEN.4 :ENTRIES.1\n:NICK.EAST :LIST.VM01\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Gen).To(Equal(uint64(4)))
		_, err = parse(":TABLE.NAMES :GEN.4 :ENTRIES.2\n:NICK.EAST :LIST.VM01\n")
		Expect(err).To(MatchError(ContainSubstring("the header says 2 entries, the file ends after 1")))
		_, err = parse(":TABLE.NAMES :GEN.4 :ENTRIES.1\n:NICK.EAST :LIST.VM0")
		Expect(err).To(MatchError(ContainSubstring("without a line end: it was cut short")))
		_, err = parse(":TABLE.SYSSTAT :GEN.4\n")
		Expect(err).To(MatchError(ContainSubstring("the header names table SYSSTAT; MAINTCSM NAMES holds NAMES")))
	})

	It("writes an update as a table that reads back, from a sysprog's file", func() {
		area := cmstest.NewMemArea("MAINTCSM 0191", 0)
		w, err := area.Create(table.Names().File)
		Expect(err).NotTo(HaveOccurred())
		_, err = w.Write([]byte(":nick.EAST :node.VM01 :list.VM01\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(w.Close()).To(Succeed())
		store := table.NewStore(area, table.NewMemLocker())
		read, err := table.Names().Read(store)
		Expect(err).NotTo(HaveOccurred())
		written, err := table.Names().Update(store, read, func(t *table.Table) error {
			return t.Add(table.NewEntry("NICK", "WEST", "LIST", "VM02"))
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(written.Gen).To(Equal(uint64(2)))
		t, err := table.Names().Read(store)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Len()).To(Equal(2))
	})
})
