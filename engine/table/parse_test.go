package table_test

import (
	"errors"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/table"
)

var _ = Describe("Parse", func() {
	It("reads a table and writes it back in canonical form, stable on re-reading", func() {
		text := ":TABLE.SYSSTAT   :GEN.17\n" +
			"* managed systems\n" +
			":SYSTEM.VM01 :RELEASE.720 :HOST.127.0.0.1 :PORT.4535 :SRVLVL.VM010802_BLD2 :STATE.TEST\n" +
			"\n" +
			":SYSTEM.VM02   :RELEASE.730 :STATE.STABLE"
		t := mustParse(text)
		Expect(t.Name).To(Equal("SYSSTAT"))
		Expect(t.KeyTag).To(Equal("SYSTEM"))
		Expect(t.Gen).To(Equal(uint64(17)))
		Expect(t.Len()).To(Equal(2))
		Expect(t.List()[1].Key()).To(Equal("VM02"))
		port, ok := t.List()[0].Get("PORT")
		Expect(ok).To(BeTrue())
		Expect(port).To(Equal("4535"))

		canonical := ":TABLE.SYSSTAT :GEN.17 :ENTRIES.2\n" +
			":SYSTEM.VM01 :RELEASE.720 :HOST.127.0.0.1 :PORT.4535 :SRVLVL.VM010802_BLD2 :STATE.TEST\n" +
			":SYSTEM.VM02 :RELEASE.730 :STATE.STABLE\n"
		Expect(format(t)).To(Equal(canonical))
		Expect(format(mustParse(canonical))).To(Equal(canonical))
	})

	It("keeps blanks inside values, trims them around, and keeps ':' that starts no tag", func() {
		t := mustParse(":TABLE.SVCSTAT :GEN.1\n" +
			":SRVLVL.L1 :DESC.August RSU   Install   :LOCK. :NOTE.see http://x :) a:b :: done\n")
		e, _ := t.Get("L1")
		Expect(e.Tags()).To(Equal([]table.Tag{
			{Name: "SRVLVL", Value: "L1"},
			{Name: "DESC", Value: "August RSU   Install"},
			{Name: "LOCK", Value: ""},
			{Name: "NOTE", Value: "see http://x :) a:b :: done"},
		}))
		Expect(format(t)).To(Equal(":TABLE.SVCSTAT :GEN.1 :ENTRIES.1\n:SRVLVL.L1 :DESC.August RSU   Install :LOCK. :NOTE.see http://x :) a:b :: done\n"))
	})

	It("folds tag names to upper case and compares keys without case", func() {
		t := mustParse(":table.sysstat :gen.2\n:system.vm01 :Release.720\n")
		Expect(t.KeyTag).To(Equal("SYSTEM"))
		e, ok := t.Get("VM01")
		Expect(ok).To(BeTrue())
		rel, _ := e.Get("release")
		Expect(rel).To(Equal("720"))
		Expect(format(t)).To(Equal(":TABLE.SYSSTAT :GEN.2 :ENTRIES.1\n:SYSTEM.vm01 :RELEASE.720\n"))
	})

	It("reads a header-only table as empty; its first entry sets the key tag", func() {
		t := mustParse(":TABLE.NAMES :GEN.4\n")
		Expect(t.Len()).To(Equal(0))
		Expect(format(t)).To(Equal(":TABLE.NAMES :GEN.4 :ENTRIES.0\n"))
		Expect(t.Add(entry(":NICK.G1 :LIST.VM01"))).To(Succeed())
		Expect(t.KeyTag).To(Equal("NICK"))
	})

	It("reports the whole message as users see it, and returns no table", func() {
		t, err := table.Parse("CSM SYSSTAT", strings.NewReader(":TABLE.SYSSTAT :GEN.3\n"+
			":SYSTEM.VM1 :PORT.1\n:SYSTEM.VM2\n:SYSTEM.VM4 :A. :PORT 4535\n"))
		Expect(t).To(BeNil())
		Expect(err).To(MatchError(`CSM SYSSTAT: line 4, column 17 (offset 54): tag ":PORT" has no '.'; nothing was changed`))
		Expect(errors.Is(err, table.ErrMalformed)).To(BeTrue())
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonMalformed))
	})

	const hdr = ":TABLE.SYSSTAT :GEN.3\n"
	DescribeTable("refuses malformed tables with the line and column",
		func(keyTag, text string, line, col int, problem string) {
			t, err := table.ParseAs("CSM SYSSTAT", "", keyTag, strings.NewReader(text))
			Expect(t).To(BeNil())
			var pe *table.ParseError
			Expect(errors.As(err, &pe)).To(BeTrue(), "got %v", err)
			Expect(pe.File).To(Equal("CSM SYSSTAT"))
			Expect([]int{pe.Line, pe.Col}).To(Equal([]int{line, col}), pe.Problem)
			Expect(pe.Problem).To(ContainSubstring(problem))
			Expect(pe.Reason()).To(Equal("0901"))
		},
		Entry("empty file", "", "", 1, 1, "the file is empty"),
		Entry("no header", "", ":SYSTEM.VM01\n", 1, 1, "line 1 must be the header"),
		Entry("comment before the header", "", "* hi\n"+hdr, 1, 1, "line 1 must be the header"),
		Entry("header without GEN", "", ":TABLE.SYSSTAT\n", 1, 15, "has no :GEN.n"),
		Entry("GEN not a number", "", ":TABLE.SYSSTAT :GEN.x7\n", 1, 21, `generation "x7"`),
		Entry("GEN zero", "", ":TABLE.SYSSTAT :GEN.0\n", 1, 21, `generation "0"`),
		Entry("GEN too large", "", ":TABLE.SYSSTAT :GEN.18446744073709551616\n", 1, 21, "whole number"),
		Entry("tag between TABLE and GEN", "", ":TABLE.SYSSTAT :KEY.X :GEN.3\n", 1, 16, "expected :GEN.n"),
		Entry("extra header tag", "", ":TABLE.SYSSTAT :GEN.3 :KEY.SYSTEM\n", 1, 23, "unexpected tag :KEY."),
		Entry("tag after the entry count", "", ":TABLE.SYSSTAT :GEN.3 :ENTRIES.0 :KEY.SYSTEM\n", 1, 34, "unexpected tag :KEY."),
		Entry("entry count not a number", "", ":TABLE.SYSSTAT :GEN.3 :ENTRIES.two\n", 1, 32, `entry count "two"`),
		Entry("the last entry cut mid-line", "", ":TABLE.SYSSTAT :GEN.3 :ENTRIES.2\n:SYSTEM.VM01 :PORT.1\n:SYSTEM.VM02 :STA", 3, 18,
			"the file ends in the middle of line 3, without a line end: it was cut short"),
		Entry("cut at a line's end", "", ":TABLE.SYSSTAT :GEN.3 :ENTRIES.2\n:SYSTEM.VM01 :PORT.1\n", 3, 1,
			"the header says 2 entries, the file ends after 1: it was cut short or added to"),
		Entry("added to", "", ":TABLE.SYSSTAT :GEN.3 :ENTRIES.0\n:SYSTEM.VM01 :PORT.1\n", 3, 1, "the header says 0 entries, the file ends after 1"),
		Entry("cut in the header", "", ":TABLE.SYSSTAT :GEN.3", 1, 22, "the file ends in the middle of line 1"),
		Entry("bad table name", "", ":TABLE.SYS/STAT :GEN.3\n", 1, 8, "table name"),
		Entry("tag without '.' at line end", "", hdr+":SYSTEM.VM01 :STATE\n", 2, 14, `tag ":STATE" has no '.'`),
		Entry("line not starting with a tag", "", hdr+"VM01 :SYSTEM.VM01\n", 2, 1, "does not start with a tag"),
		Entry("leading blanks", "", hdr+"  :SYSTEM.VM01\n", 2, 1, "does not start with a tag"),
		Entry("empty tag name", "", hdr+":.VM01\n", 2, 1, "does not start with a tag"),
		Entry("entry without the inferred key tag", "", hdr+":SYSTEM.VM01\n:HOST.x :SYSTEM.VM02\n", 3, 1, "starts with :HOST."),
		Entry("entry without the required key tag", "SYSTEM", hdr+":NICK.G1\n", 2, 1, "starts with its key :SYSTEM."),
		Entry("duplicate key, other case", "", hdr+":SYSTEM.VM01\n* x\n:SYSTEM.vm01 :PORT.2\n", 4, 9, "duplicate key :SYSTEM.vm01 (first on line 2)"),
		Entry("duplicate tag in a line", "", hdr+":SYSTEM.VM01 :PORT.1 :port.2\n", 2, 22, "tag :PORT. appears twice (first at column 14)"),
		Entry("empty key", "", hdr+":SYSTEM. :PORT.1\n", 2, 9, "has no value"),
		Entry("tab", "", hdr+":SYSTEM.VM01 :DESC.a\tb\n", 2, 21, "control character 0x09"),
		Entry("carriage return", "", hdr+":SYSTEM.VM01\r\n", 2, 13, "control character 0x0D"),
		Entry("invalid UTF-8, columns in characters", "", hdr+":SYSTEM.VM01 :DESC.é\xff\n", 2, 21, "invalid UTF-8"),
	)

	It("checks the table name a caller expects", func() {
		t, err := table.ParseAs("MAINTCSM NAMES", "NAMES", "NICK", strings.NewReader(":TABLE.SYSSTAT :GEN.1\n"))
		Expect(t).To(BeNil())
		Expect(err).To(MatchError(ContainSubstring("line 1, column 8 (offset 0): the header names table SYSSTAT, expected NAMES")))
	})
})
