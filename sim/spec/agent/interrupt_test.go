package agent_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms/cmstest"
)

var _ = Describe("a LOAD that does not finish", func() {
	var m *managed
	BeforeEach(func() {
		m = newManaged()
		m.stage("L1")
		mustOK(agent.Load(m.env, "L1", true, ""))
		mustOK(agent.Put2Prod(m.env, "L1"))
		m.stage("L2")
	})

	It("leaves the test build marked incomplete: PUT2PROD and a LOAD of another level are refused until that level is loaded whole", func() {
		killed := *m.env
		killed.Sys = (&cmstest.Killer{After: 6}).System(m.env.Sys) // the mark and a few parts written, then the node dies
		_, err := agent.Load(&killed, "L2", false, "")
		Expect(err).To(MatchError(cmstest.ErrKilled))
		Expect(m.tag("CMS", agent.TagLevel)).To(Equal("L1"), "VM SYSSUF still names the level in production")
		loading, _ := mustGet(m.sysuf(), agent.SystemKey).Get(agent.TagLoading)
		Expect(loading).To(Equal("L2"))

		m.stage("L1")
		snap := m.snapshot()
		res, err := agent.Put2Prod(m.env, "L1")
		Expect(refused(res, err, "CSM3124E")).To(Equal("CSM3124E The test build of system VM01 is incomplete: a LOAD of service level L2 did not finish; " +
			"send level L2 to the system again (SERVMGR SRVLVL SEND) before PUT2PROD"))
		res, err = agent.Load(m.env, "L1", true, "")
		Expect(refused(res, err, "CSM3124E")).To(HaveSuffix("before loading level L1"))
		Expect(m.snapshot()).To(Equal(snap), "refusals change nothing")

		m.stage("L2")
		mustOK(agent.Load(m.env, "L2", true, ""))
		_, marked := mustGet(m.sysuf(), agent.SystemKey).Get(agent.TagLoading)
		Expect(marked).To(BeFalse())
		Expect(m.parts()).To(Equal(princ.parts["L2"]))
		mustOK(agent.Put2Prod(m.env, "L2"))
		Expect(m.tag("CMS", agent.TagProd)).To(Equal("L2"))
	})
})

var _ = Describe("a TEST load of a level the system has STABLE", func() {
	It("changes nothing and says so: a resumed roll-out sending TEST again does not demote a stable level", func() {
		m := newManaged()
		m.stage("L1")
		mustOK(agent.Load(m.env, "L1", true, ""))
		m.stage("L1")
		snap := m.snapshot()
		res, err := agent.Load(m.env, "L1", false, "")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RC).To(Equal(0))
		Expect(res.Lines).To(ConsistOf(HaveField("Text", "Service level L1 is loaded STABLE on system VM01 already; a TEST load would not make it TEST again")))
		Expect(m.tag("CMS", agent.TagState)).To(Equal(agent.StateStable))
		Expect(m.snapshot()).To(Equal(snap))
	})
})
