package table_test

import (
	"errors"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
)

var _ = Describe("Entry", func() {
	It("keeps tag order, replaces values in place and appends new tags", func() {
		e := table.NewEntry("system", "VM01", "port", "4535", "state")
		e.Set("PORT", "  4536 ")
		e.Set("host", "h")
		Expect(e.String()).To(Equal(":SYSTEM.VM01 :PORT.4536 :STATE. :HOST.h"))
		Expect(e.Remove("state")).To(BeTrue())
		Expect(e.Remove("state")).To(BeFalse())
		Expect(e.String()).To(Equal(":SYSTEM.VM01 :PORT.4536 :HOST.h"))
		tags := e.Tags()
		tags[0].Value = "changed"
		Expect(e.Key()).To(Equal("VM01"), "Tags is a copy")
	})

	It("ParseEntry refuses what Parse would refuse, with the column", func() {
		_, err := table.ParseEntry(":SYSTEM.VM01 :PORT 1")
		Expect(err).To(MatchError(`entry ":SYSTEM.VM01 :PORT 1": column 14: tag ":PORT" has no '.'`))
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonInvalid))
	})
})

var _ = Describe("Table", func() {
	var t *table.Table
	BeforeEach(func() {
		var err error
		t, err = table.New("sysstat", "system")
		Expect(err).NotTo(HaveOccurred())
		t.File = "CSM SYSSTAT"
		Expect(t.Add(entry(":SYSTEM.VM01 :RELEASE.720"))).To(Succeed())
		Expect(t.Add(entry(":SYSTEM.VM02 :RELEASE.730"))).To(Succeed())
	})

	It("gets by key without case and hands out copies", func() {
		e, ok := t.Get("vm02")
		Expect(ok).To(BeTrue())
		Expect(e.String()).To(Equal(":SYSTEM.VM02 :RELEASE.730"))
		e.Set("RELEASE", "999")
		again, _ := t.Get("VM02")
		Expect(again.String()).To(Equal(":SYSTEM.VM02 :RELEASE.730"))
		_, ok = t.Get("VM03")
		Expect(ok).To(BeFalse())
	})

	It("adds in order and refuses a duplicate key naming table and key", func() {
		Expect(t.Add(entry(":SYSTEM.VM03"))).To(Succeed())
		err := t.Add(entry(":SYSTEM.vm01 :RELEASE.740"))
		Expect(err).To(MatchError("CSM SYSSTAT already has :SYSTEM.vm01; modify it or delete it first"))
		Expect(errors.Is(err, table.ErrDuplicateKey)).To(BeTrue())
		Expect(errors.Is(err, cms.ErrExists)).To(BeTrue())
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonDuplicateKey))
		var keys []string
		for _, e := range t.List() {
			keys = append(keys, e.Key())
		}
		Expect(keys).To(Equal([]string{"VM01", "VM02", "VM03"}))
		Expect(t.Len()).To(Equal(3))
	})

	It("does not keep a reference to an added entry", func() {
		e := entry(":SYSTEM.VM05 :STATE.TEST")
		Expect(t.Add(e)).To(Succeed())
		e.Set("STATE", "STABLE")
		got, _ := t.Get("VM05")
		Expect(got.String()).To(Equal(":SYSTEM.VM05 :STATE.TEST"))
	})

	DescribeTable("refuses entries that would not read back as themselves",
		func(e table.Entry, problem string) {
			before := format(t)
			err := t.Add(e)
			Expect(err).To(MatchError(ContainSubstring(problem)))
			Expect(errors.Is(err, table.ErrInvalid)).To(BeTrue())
			Expect(table.ReasonOf(err)).To(Equal("0907"))
			Expect(format(t)).To(Equal(before))
		},
		Entry("a value holding a tag", table.NewEntry("SYSTEM", "VM07", "DESC", "new :PORT.9"), `contains " :P", which would read back as the start of a tag`),
		Entry("a value holding a tag-like word", table.NewEntry("SYSTEM", "VM07", "DESC", "ratio 1 :2"), `contains " :2"`),
		Entry("a newline", table.NewEntry("SYSTEM", "VM07", "DESC", "a\nb"), "control character 0x0A"),
		Entry("a bad tag name", table.NewEntry("SYSTEM", "VM07", "DE SC", "x"), "not allowed in a tag name"),
		Entry("an empty key", table.NewEntry("SYSTEM", ""), "the key :SYSTEM. has no value"),
		Entry("another key tag", table.NewEntry("NICK", "G1"), "starts with its key :SYSTEM."),
		Entry("no tags", table.Entry{}, "the entry has no tags"),
	)

	It("modifies through a copy, keeping the key", func() {
		Expect(t.Modify("vm01", func(e *table.Entry) { e.Set("STATE", "TEST") })).To(Succeed())
		Expect(t.Set("VM01", map[string]string{"release": "730", "port": "1", "host": "h"})).To(Succeed())
		e, _ := t.Get("VM01")
		Expect(e.String()).To(Equal(":SYSTEM.VM01 :RELEASE.730 :STATE.TEST :HOST.h :PORT.1"))
	})

	It("leaves the entry as it was when a modification is refused", func() {
		before := format(t)
		err := t.Modify("VM01", func(e *table.Entry) { e.Set("RELEASE", "x :Y.z") })
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonInvalid))
		err = t.Modify("VM01", func(e *table.Entry) { e.Set("SYSTEM", "VM09") })
		Expect(err).To(MatchError(ContainSubstring("the key :SYSTEM.VM01 cannot change")))
		err = t.Modify("VM01", func(e *table.Entry) { e.Remove("SYSTEM") })
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonInvalid))
		Expect(format(t)).To(Equal(before))
	})

	It("refuses to modify or delete an unknown key", func() {
		called := false
		err := t.Modify("VM09", func(*table.Entry) { called = true })
		Expect(err).To(MatchError("CSM SYSSTAT has no :SYSTEM.VM09"))
		Expect(called).To(BeFalse())
		Expect(errors.Is(err, table.ErrNoSuchKey)).To(BeTrue())
		Expect(errors.Is(err, cms.ErrNotFound)).To(BeTrue())
		Expect(table.ReasonOf(t.Delete("VM09"))).To(Equal(table.ReasonNoSuchKey))
	})

	It("deletes by key without case", func() {
		Expect(t.Delete("vm01")).To(Succeed())
		Expect(t.Len()).To(Equal(1))
		_, ok := t.Get("VM01")
		Expect(ok).To(BeFalse())
		Expect(format(t)).To(Equal(":TABLE.SYSSTAT :GEN.1 :ENTRIES.1\n:SYSTEM.VM02 :RELEASE.730\n"))
	})

	It("refuses to write a header broken by hand", func() {
		var b strings.Builder
		for _, broken := range []func(*table.Table){
			func(t *table.Table) { t.Name = "" },
			func(t *table.Table) { t.Gen = 0 },
			func(t *table.Table) { t.KeyTag = "HOST" },
		} {
			c := t.Clone()
			broken(c)
			_, err := c.WriteTo(&b)
			Expect(table.ReasonOf(err)).To(Equal(table.ReasonInvalid))
		}
		Expect(b.String()).To(BeEmpty())
	})

	It("refuses invalid table and key names", func() {
		_, err := table.New("SYS STAT", "SYSTEM")
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonInvalid))
		_, err = table.New("SYSSTAT", "")
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonInvalid))
	})
})
