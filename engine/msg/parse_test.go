package msg_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	sm "github.com/csmsim/csmsim/engine/msg"
)

var _ = Describe("ParseLine", func() {
	It("reads back every line Messagef issues", func() {
		for _, l := range []sm.Line{
			sm.Messagef(sm.CSM3110E, "VM01", "L1", "CP", "COR0001"),
			sm.Messagef(sm.CSM2704W, "L1", "720", "locked"),
			sm.Messagef(sm.CSM0000S, "boom"),
			sm.Messagef(sm.CSM3060I, "SRVLVL SEND", 1, 2),
		} {
			got, err := sm.ParseLine(l.String())
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(l))
			Expect(got.RC()).To(Equal(l.RC()))
		}
	})

	It("takes the severity from the id's letter, also for ids outside the catalogue", func() {
		l, err := sm.ParseLine("CSM9999W a real host's own warning")
		Expect(err).NotTo(HaveOccurred())
		Expect(l.Sev).To(Equal(sm.Warning))
		Expect(l.Text).To(Equal("a real host's own warning"))
	})

	DescribeTable("refuses a line without a message id",
		func(s string) {
			_, err := sm.ParseLine(s)
			Expect(err).To(MatchError(ContainSubstring("does not start with a message id")))
		},
		Entry("no id", "job ended"),
		Entry("lower case", "csm3110e text"),
		Entry("bad severity", "CSM3110X text"),
		Entry("short", "CSM311E text"),
		Entry("empty", ""),
	)

	It("reads a job's messages file, skipping blank lines and naming a bad line", func() {
		lines, err := sm.ParseLines("CSM3160I Job LOAD L2 TEST 1 started\n\nCSM3161I Job LOAD L2 TEST ended RC=0, job 1\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(lines).To(HaveLen(2))
		Expect(lines[1].ID).To(Equal("CSM3161I"))
		_, err = sm.ParseLines("CSM3160I ok\ngarbage\n")
		Expect(err).To(MatchError(HavePrefix("line 2: ")))
	})
})
