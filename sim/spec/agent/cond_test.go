package agent_test

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/fixtures"
)

// packageParts lists the "AREA FN FT" of comp's parts in a level's package.
func packageParts(lvl, comp string) []string {
	GinkgoHelper()
	b, ok := princ.pkg[lvl][comp+" SERVLINK"]
	if !ok {
		return nil
	}
	rd, err := servlink.NewReader(bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for {
		p, _, err := rd.Next()
		if err == io.EOF {
			return out
		}
		Expect(err).NotTo(HaveOccurred())
		out = append(out, p.Area+" "+p.File)
	}
}

// baseParts splits comp's BASE parts into those L2's package carries and
// the others.
func baseParts(comp string) (carried, other []fixtures.PartSpec) {
	base, _, _ := fixtures.Sample()
	inPkg := packageParts("L2", comp)
	for _, p := range base.Parts {
		if p.Component != comp {
			continue
		}
		if slices.Contains(inPkg, p.Area+" "+p.File) {
			carried = append(carried, p)
		} else {
			other = append(other, p)
		}
	}
	return carried, other
}

// localCOR applies, under MANAGED OFF, a COR that changes exactly parts.
func (m *managed) localCOR(name, comp string, parts []fixtures.PartSpec) {
	GinkgoHelper()
	base, _, _ := fixtures.Sample()
	base.Parts = parts
	cor := fixtures.COR(vrm, name, 0xC0, base, comp, len(parts))
	Expect(cor.Parts).To(HaveLen(len(parts)))
	var buf bytes.Buffer
	Expect(fixtures.WriteEnvelope(&buf, cor)).To(Succeed())
	writeAll(m.disk(agent.LocalDiskVaddr), cms.MustParseFileID(cor.FileID()), buf.Bytes())
	mustOK(agent.Managed(m.env, false))
	res, err := agent.LocalService(m.env, comp, name)
	Expect(err).NotTo(HaveOccurred())
	Expect(res.RC).To(BeNumerically("<=", 4), "%v", res.Strings()) // CSM3154W for a nucleus part
	Expect(m.tag(comp, agent.TagLocal)).To(Equal(name))
}

// pickComponents finds a component L2's package carries some BASE parts
// of and leaves others of, and one it does not carry at all.
func pickComponents() (partly, untouched string) {
	GinkgoHelper()
	base, _, _ := fixtures.Sample()
	for _, c := range base.Components {
		carried, other := baseParts(c)
		switch {
		case partly == "" && len(carried) > 0 && len(other) > 0:
			partly = c
		case untouched == "" && packageParts("L2", c) == nil:
			untouched = c
		}
	}
	Expect(partly).NotTo(BeEmpty(), "L2's package leaves no component partly as BASE had it")
	Expect(untouched).NotTo(BeEmpty(), "L2's package carries every component")
	return partly, untouched
}

var _ = Describe("LOAD of a system with local service, and COND", func() {
	var m *managed
	BeforeEach(func() {
		m = newManaged()
		m.stage("L1")
		mustOK(agent.Load(m.env, "L1", true, ""))
		m.stage("L2")
	})

	It("without COND replaces local service where the package carries its parts and says so (CSM3126W, RC 4), naming each component", func() {
		partly, untouched := pickComponents()
		carried, other := baseParts(partly)
		m.localCOR("COR0001", partly, append(slices.Clone(carried), other[0]))
		_, rest := baseParts(untouched)
		m.localCOR("COR0002", untouched, rest[:1])

		res, err := agent.Load(m.env, "L2", false, "")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RC).To(Equal(4), "%v", res.Strings())
		var warned []string
		for _, l := range res.Lines {
			if l.ID == "CSM3126W" {
				warned = append(warned, l.String())
			}
		}
		Expect(warned).To(Equal([]string{fmt.Sprintf(
			"CSM3126W Service level L2 replaced local service COR0001 of component %s on system VM01: %d parts replaced, 1 parts of it left as it made them",
			partly, len(carried))}), "only the component whose local parts the package carries")
		Expect(m.tag(partly, agent.TagLevel)).To(Equal("L2"))
		Expect(m.tag(partly, agent.TagLocal)).To(Equal("COR0001"), "a part of it is still there")
		Expect(m.tag(untouched, agent.TagLocal)).To(Equal("COR0002"), "the package did not touch it")
		for _, p := range carried {
			Expect(m.parts()).To(HaveKeyWithValue(partly+" "+p.Area+" "+p.File, princ.parts["L2"][partly+" "+p.Area+" "+p.File]))
		}

		// Local service the package replaces whole leaves no mark.
		mm := newManaged()
		mm.stage("L1")
		mustOK(agent.Load(mm.env, "L1", true, ""))
		mm.stage("L2")
		mm.localCOR("COR0003", partly, carried)
		res, err = agent.Load(mm.env, "L2", false, "")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RC).To(Equal(4))
		Expect(res.Strings()).To(ContainElement(fmt.Sprintf(
			"CSM3126W Service level L2 replaced local service COR0003 of component %s on system VM01: %d parts replaced, 0 parts of it left as it made them",
			partly, len(carried))))
		Expect(mm.tag(partly, agent.TagLocal)).To(BeEmpty())
	})

	It("without local service ends RC 0, with no CSM3126W", func() {
		res := mustOK(agent.Load(m.env, "L2", false, ""))
		Expect(res.Strings()).NotTo(ContainElement(HavePrefix("CSM3126W")))
	})

	It("COND passes a system loaded from a package of this very level based on the same level (a revised TEST level sent again)", func() {
		mustOK(agent.Load(m.env, "L2", false, "L1"))
		for _, c := range m.comps() {
			Expect(m.tag(c, agent.TagLevel)).To(Equal("L2"))
			Expect(m.tag(c, agent.TagBasedOn)).To(Equal("L1"))
		}
		// The package again (revised or not): the system is at L2 from a
		// package based on L1, which COND L1 accepts.
		m.stage("L2")
		res := mustOK(agent.Load(m.env, "L2", false, "L1"))
		Expect(res.Strings()).To(ContainElement("CSM3122I Service level L2 loaded on system VM01, state TEST"))
		Expect(m.parts()).To(Equal(princ.parts["L2"]))
	})

	It("COND refuses a system at this level from a package based on another level, changing nothing", func() {
		mustOK(agent.Load(m.env, "L2", false, "L1"))
		_, err := agent.Sysuf().Apply(table.NewStore(m.disk(agent.SysufVaddr), m.env.Locker), func(t *table.Table) error {
			return t.Modify("CP", func(x *table.Entry) { x.Set(agent.TagBasedOn, "L0") })
		})
		Expect(err).NotTo(HaveOccurred())
		m.stage("L2")
		snap := m.snapshot()
		res, err := agent.Load(m.env, "L2", false, "L1")
		Expect(refused(res, err, "CSM3110E")).To(ContainSubstring("component CP of system VM01 is at service level L2 based on L0, not at the based-on level L1"))
		Expect(m.snapshot()).To(Equal(snap))
	})
})
