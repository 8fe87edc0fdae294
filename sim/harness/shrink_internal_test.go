package harness

import (
	"bytes"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// These specs hold the shrinker's pieces that need no run: ddmin against
// a known cause, and how a cut keeps the rest of the scenario meaning what
// it meant. (Ginkgo is not dot-imported: its Report would hide the
// harness's.)
var _ = ginkgo.Describe("shrinking internals", func() {
	ginkgo.It("ddmin finds the steps a failure needs, never none", func() {
		tests := 0
		needs := func(keep []int) bool {
			tests++
			has := map[int]bool{}
			for _, k := range keep {
				has[k] = true
			}
			return has[2] && has[7]
		}
		Expect(ddmin(10, needs)).To(Equal([]int{2, 7}))
		Expect(tests).To(BeNumerically("<", 45), "far fewer tests than all pairs")
		Expect(ddmin(5, func(keep []int) bool { return true })).To(HaveLen(1))
		Expect(ddmin(1, func(keep []int) bool { ginkgo.Fail("a single step is not cut"); return true })).To(Equal([]int{0}))
	})

	ginkgo.It("renumbers a fault's step as steps before it are cut, counting each repetition, and drops it with its step", func() {
		sc, err := Parse("r.yaml", []byte(`name: r
world: {count: 2}
faults:
  - {kind: skew, system: VM01, by: 1h, during: "4"}
  - {kind: skew, system: VM02, by: 1h, during: "2"}
  - {kind: refuse, system: VM02, during: load}
steps:
  - servmgr: initialize 720
  - servmgr: srvlvl query 720 ${N}
    repeat: {from: 1, to: 2}
  - wait: 1m
  - wait: 2m
`))
		Expect(err).NotTo(HaveOccurred())
		// Report steps: 1 initialize, 2-3 the repeats, 4 wait 1m, 5 wait 2m.
		c, gone, err := sc.withSteps([]int{0, 2, 3})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Steps).To(HaveLen(3))
		Expect(c.Faults).To(HaveLen(2))
		Expect(c.Faults[0].During).To(Equal("2"), "wait 1m is now report step 2")
		Expect(c.Faults[1].During).To(Equal("load"))
		Expect(gone).To(HaveLen(1))
		Expect(gone[0].System).To(Equal("VM02"))
		Expect(sc.Faults[0].During).To(Equal("4"), "the original is left as it was")
	})

	ginkgo.It("takes a removed system out of nicknames, end checks and unchanged_systems", func() {
		sc, err := Parse("w.yaml", []byte(`name: w
world:
  systems: [{name: VM01}, {name: VM02}]
  names: {solo: [VM02], pair: [VM01, solo]}
steps:
  - servmgr: initialize 720
    unchanged_systems: [VM01, VM02]
expect:
  systems: [{name: VM02, level: L1}, {name: ALL, level: L1}]
  files: [{system: VM01, area: "MAINTCSM 0191", file: "A B", same_as: VM02}]
`))
		Expect(err).NotTo(HaveOccurred())
		c, err := sc.withoutSystems(func(_ int, n string) bool { return n == "VM02" })
		Expect(err).NotTo(HaveOccurred())
		Expect(c.World.Systems).To(HaveLen(1))
		Expect(c.World.Names).To(Equal(map[string][]string{"pair": {"VM01"}}), "SOLO is empty, and goes from PAIR too")
		Expect(c.Steps[0].UnchangedSystems).To(Equal([]string{"VM01"}))
		Expect(c.Expect.Systems).To(HaveLen(1))
		Expect(c.Expect.Files).To(BeEmpty())
		var b bytes.Buffer
		Expect(c.WriteYAML(&b)).To(Succeed())
		_, err = Parse("w.yaml", b.Bytes())
		Expect(err).NotTo(HaveOccurred(), "what is left validates:\n"+b.String())
	})

	ginkgo.It("signs a failure by its invariant, else its step's kind, line, RC and error, else its expectation", func() {
		step := func(status string, ids ...string) StepReport {
			return StepReport{Kind: "servmgr", Line: "srvlvl add 720 L1 basedon BASE", RC: 8, Status: status, Messages: ids}
		}
		Expect((&Report{Steps: []StepReport{step("pass")}}).Signature()).To(BeEmpty())
		Expect((&Report{Steps: []StepReport{step("fail", "CSM0002I", "CSM0031E")}}).Signature()).To(Equal(`step servmgr "srvlvl add 720 L1 basedon BASE" RC=8 CSM0031E`))
		Expect((&Report{Steps: []StepReport{step("fail", "CSM0002I")}}).Signature()).To(Equal(`step servmgr "srvlvl add 720 L1 basedon BASE" RC=8`))
		Expect((&Report{Steps: []StepReport{step("fail", "CSM0031E")}, Violations: []Violation{{Invariant: InvTablesParse, Step: 3}}}).Signature()).
			To(Equal("invariant tables-parse"))
		Expect((&Report{Expectations: []Expectation{{Name: "servcheck", Status: "pass"}, {Name: "system VM01 level", Status: "fail"}}}).Signature()).
			To(Equal("expectation system VM01 level"))
	})
})
