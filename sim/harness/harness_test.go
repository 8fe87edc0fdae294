package harness_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/harness"
)

// scenarioEntries makes one table entry per committed scenario, globbed
// when the tree is built: adding a YAML file adds a regression case.
func scenarioEntries() []TableEntry {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil {
		panic(err)
	}
	var out []TableEntry
	for _, f := range files {
		out = append(out, Entry(filepath.Base(f), f))
	}
	return out
}

var _ = Describe("committed scenarios", func() {
	It("exist", func() {
		Expect(len(scenarioEntries())).To(BeNumerically(">=", 8))
	})

	DescribeTable("each runs and passes every expectation",
		func(file string) {
			sc, err := harness.Load(file)
			Expect(err).NotTo(HaveOccurred())
			rep, err := harness.Run(context.Background(), sc, harness.Options{Out: GinkgoWriter})
			Expect(err).NotTo(HaveOccurred())
			var sum bytes.Buffer
			Expect(rep.WriteSummary(&sum)).To(Succeed())
			Expect(rep.Pass).To(BeTrue(), sum.String())
			var junit bytes.Buffer
			Expect(rep.WriteJUnit(&junit)).To(Succeed())
			Expect(strings.Count(junit.String(), "<testcase ")).To(Equal(len(rep.Steps) + len(rep.Expectations)))
		},
		scenarioEntries(),
	)
})

var _ = Describe("reports", func() {
	It("are byte-identical for two runs of sample.yaml with the same seed", func() {
		sc, err := harness.Load("../../scenarios/sample.yaml")
		Expect(err).NotTo(HaveOccurred())
		seed := uint64(42)
		var out [2]bytes.Buffer
		for i := range out {
			rep, err := harness.Run(context.Background(), sc, harness.Options{Seed: &seed})
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.WriteJSON(&out[i])).To(Succeed())
		}
		Expect(out[0].String()).To(Equal(out[1].String()))
		Expect(out[0].String()).To(ContainSubstring(`"seed": 42`))
		Expect(out[0].String()).NotTo(MatchRegexp(`127\.0\.0\.1:\d`))
	})

	It("fail a wrong expectation with the reason, and stop at it", func() {
		sc, err := harness.Parse("bad.yaml", []byte(`name: wrong
steps:
  - servmgr: initialize 720
    expect: {rc: 8, messages: [CSM2901E]}
  - servmgr: srvlvl add 720 L1 basedon BASE
`))
		Expect(err).NotTo(HaveOccurred())
		rep, err := harness.Run(context.Background(), sc, harness.Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Pass).To(BeFalse())
		Expect(rep.Steps[0].Reason).To(Equal("RC=0, expected 8; message CSM2901E expected, not given"))
		Expect(rep.Steps[1].Status).To(Equal("skipped"))
		Expect(rep.FailureText()).To(ContainSubstring("step 1 (initialize 720) failed"))
	})

	It("run in a disk-backed world under --workdir", func() {
		sc, err := harness.Load("../../scenarios/refuse-send-unpackaged.yaml")
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		rep, err := harness.Run(context.Background(), sc, harness.Options{Workdir: dir})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Pass).To(BeTrue())
		m, _ := filepath.Glob(filepath.Join(dir, "refuse-send-unpackaged-*", "VM01"))
		Expect(m).To(HaveLen(1))
	})
})

var _ = Describe("strict decoding", func() {
	parse := func(src string) harness.Errors {
		GinkgoHelper()
		_, err := harness.Parse("s.yaml", []byte(src))
		Expect(err).To(HaveOccurred())
		var errs harness.Errors
		Expect(errors.As(err, &errs)).To(BeTrue(), err.Error())
		return errs
	}
	DescribeTable("names file, line and column, with a hint",
		func(src, want, hint string) {
			errs := parse(src)
			Expect(errs[0].Error()).To(HavePrefix(want))
			Expect(errs[0].Error()).To(ContainSubstring(hint))
		},
		Entry("unknown key", "name: x\nsteps:\n  - servmgr: initialize 720\n    expct: {rc: 0}\n",
			`s.yaml:4:5: unknown field "expct" in steps item`, `did you mean "expect"?`),
		Entry("wrong type", "name: x\nseed: minus-one\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:2:7: seed must be a non-negative integer, found "minus-one"`, ""),
		Entry("wrong kind", "name: x\nsteps: initialize 720\n",
			`s.yaml:2:8: steps must be a list`, "hint: write a list"),
		Entry("missing required field", "name: x\nworld:\n  systems:\n    - ssi: C1\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:4:7: missing required field "name" in systems item`, "hint: add name:"),
		Entry("missing steps", "name: x\n", `s.yaml:1:1: missing required field "steps" in scenario`, ""),
		Entry("two actions in a step", "name: x\nsteps:\n  - servmgr: initialize 720\n    install: {system: VM01, level: L1}\n",
			`s.yaml:3:5: step 1 has 2 actions`, "exactly one of"),
		Entry("unknown system in a placeholder", "name: x\nsteps:\n  - servmgr: system add 720 vm01 L1 hostname ${HOST:VM01}\n",
			`s.yaml:3:14: step 1 names system VM01, which is not in the world`, ""),
		Entry("faults reserved", "name: x\nfaults:\n  - drop: VM01\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:3:3: faults: is reserved for the fault-injection issue`, "leave it empty"),
		Entry("a wave size that is not one", "name: x\nrollout: {waves: [2, 0]}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:2:22: wave size: "0" is not a count (5) or a percentage (25%) of at least 1`, "hint: a count (5)"),
		Entry("a step deadline that is not a duration", "name: x\nsteps:\n  - servmgr: system put2prod 720 all\n    rollout: {deadline: soon}\n",
			`s.yaml:4:25: deadline "soon" is not a positive duration`, "90s or 10m"),
		Entry("a bandwidth without /s", "name: x\nworld:\n  systems:\n    - {name: VM01, bandwidth: 10MB}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:4:7: system VM01: `, "bandwidth like 10MB/s"),
		Entry("an unknown table", "name: x\nsteps:\n  - servmgr: initialize 720\nexpect:\n  tables:\n    - {table: SYSSTUFF, key: VM01}\n",
			`s.yaml:6:15: unknown table "SYSSTUFF"`, "SYSSTAT, SVCSTAT, ROLLOUT or NAMES"),
		Entry("a wait that is not a duration", "name: x\nsteps:\n  - wait: a while\n",
			`s.yaml:3:11: wait "a while" is not a duration`, "30s"),
		Entry("on_failure value", "name: x\nsteps:\n  - servmgr: initialize 720\n    on_failure: retry\n",
			`s.yaml:4:17: on_failure "retry" is not valid`, "stop or continue"),
		Entry("YAML syntax", "name: x\nsteps:\n  - servmgr: [\n", `s.yaml:`, "fix the YAML syntax"),
	)

	It("accepts empty reserved sections and applies defaults", func() {
		sc, err := harness.Parse("s.yaml", []byte("name: x\nfaults: []\nrollout:\nsteps:\n  - servmgr: initialize 720\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Release).To(Equal("720"))
		Expect(sc.Steps[0].OnFailure).To(Equal("stop"))
	})

	It("reports every problem of a file, each at its place", func() {
		errs := parse("name: x\nbogus: 1\nsteps:\n  - servmgr: initialize 720\n    expect: {rc: eight}\n")
		Expect(errs).To(HaveLen(2))
		Expect(errs[0].Error()).To(HavePrefix("s.yaml:2:1: unknown field"))
		Expect(errs[1].Error()).To(HavePrefix("s.yaml:5:18: rc must be an integer"))
	})
})
