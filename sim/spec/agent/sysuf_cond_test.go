package agent_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/table/tabletest"
)

var _ = Describe("VM SYSSUF changed while a job runs", func() {
	It("refuses LOAD (COND when local service was recorded between its check and its write, and keeps that record", func() {
		m := newManaged()
		m.stage("L1")
		before := m.snapshot()
		// VMSES/E on the system (not CSMAGENT, so without CSMAGENT's lock)
		// records emergency service on CP after the LOAD read VM SYSSUF and
		// checked COND against it, before the LOAD writes.
		inner := m.env.Locker
		lk := &tabletest.BetweenLocker{Locker: inner, File: agent.SysufID.Name(), Second: func() {
			_, err := agent.Sysuf().Apply(table.NewStore(m.disk(agent.SysufVaddr), inner), func(t *table.Table) error {
				return t.Set("CP", map[string]string{agent.TagLocal: "COR0001"})
			})
			Expect(err).NotTo(HaveOccurred())
		}}
		m.env.Locker = lk
		_, err := agent.Load(m.env, "L1", false, "BASE")
		m.env.Locker = inner
		Expect(lk.Fired()).To(BeTrue())
		Expect(err).To(HaveOccurred(), "COND passed on a read the local service had made stale")
		Expect(table.ReasonOf(err)).To(Equal(table.ReasonGenerationMoved))
		lines := agent.Lines(err)
		Expect(lines).To(HaveLen(1))
		Expect(lines[0].String()).To(HavePrefix("CSM3001E Table VM SYSSUF changed since it was read"))
		Expect(lines[0].String()).To(ContainSubstring("reason code 0902"))

		Expect(m.tag("CP", agent.TagLocal)).To(Equal("COR0001"), "the local service record is not lost")
		Expect(m.tag("CP", agent.TagLevel)).To(Equal("BASE"))
		after := m.snapshot()
		for _, snap := range []map[string]string{before, after} {
			for k := range snap {
				if strings.Contains(k, "SYSSUF") { // compared by its tags above
					delete(snap, k)
				}
			}
		}
		Expect(after).To(Equal(before), "nothing of the level was written")

		// Entered again, LOAD (COND reads the local service and refuses it.
		res, err := agent.Load(m.env, "L1", false, "BASE")
		Expect(refused(res, err, "CSM3110E")).To(ContainSubstring("with local service COR0001"))
	})
})
