package agent_test

import (
	"errors"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
)

// dying is a system whose disk stops taking writes once a LOAD has
// written the first component it writes into: as a node killed there
// leaves its files (the agent's job dies with it).
type dying struct {
	cms.System
	mu    sync.Mutex
	first string
}

func (d *dying) FilePool(name string) (cms.FilePool, error) {
	p, err := d.System.FilePool(name)
	if err != nil {
		return nil, err
	}
	return dyingPool{p, d}, nil
}

type dyingPool struct {
	cms.FilePool
	d *dying
}

func (p dyingPool) Dir(dir cms.DirID) (cms.FileArea, error) {
	a, err := p.FilePool.Dir(dir)
	if err != nil || len(dir.Names()) != 2 { // MAINTvrm.<comp>.<area>
		return a, err
	}
	return dyingArea{a, p.d, dir.Names()[0]}, nil
}

type dyingArea struct {
	cms.FileArea
	d    *dying
	comp string
}

func (a dyingArea) Create(id cms.FileID) (cms.FileWriter, error) {
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	if a.d.first == "" {
		a.d.first = a.comp
	}
	if a.comp != a.d.first {
		return nil, errors.New("the node was killed")
	}
	return a.FileArea.Create(id)
}

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
		killed.Sys = &dying{System: m.env.Sys}
		_, err := agent.Load(&killed, "L2", false, "")
		Expect(err).To(MatchError(ContainSubstring("the node was killed")))
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
