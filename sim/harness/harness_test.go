package harness_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/msg"
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
	// fleet54's 54 systems are most of the suite's time: its table entry
	// and the roll-out spec share one run, whichever of them comes first.
	var fleet54 *harness.Report
	run := func(file string) *harness.Report {
		GinkgoHelper()
		isFleet54 := filepath.Base(file) == "fleet54.yaml"
		if isFleet54 && fleet54 != nil {
			return fleet54
		}
		sc, err := harness.Load(file)
		Expect(err).NotTo(HaveOccurred())
		// fleet54's roll-out is checked against the wall clock.
		opts := harness.Options{Out: GinkgoWriter}
		if isFleet54 {
			opts.Now = time.Now
		}
		rep, err := harness.Run(context.Background(), sc, opts)
		Expect(err).NotTo(HaveOccurred())
		if isFleet54 {
			fleet54 = rep
		}
		return rep
	}

	It("exist", func() {
		Expect(len(scenarioEntries())).To(BeNumerically(">=", 8))
	})

	DescribeTable("each runs and passes every expectation",
		func(file string) {
			rep := run(file)
			var sum bytes.Buffer
			Expect(rep.WriteSummary(&sum)).To(Succeed())
			Expect(rep.Pass).To(BeTrue(), sum.String())
			var junit bytes.Buffer
			Expect(rep.WriteJUnit(&junit)).To(Succeed())
			Expect(strings.Count(junit.String(), "<testcase ")).To(Equal(len(rep.Steps) + len(rep.Expectations)))

			// The HTML report, as headless chromium renders it, shows every
			// system and every phase the engine reported.
			var page bytes.Buffer
			Expect(rep.WriteHTML(&page)).To(Succeed())
			dom := chromiumDOM(page.String())
			Expect(dom).To(ContainSubstring(">PASS</span>"))
			phases := map[string]bool{}
			for _, sp := range rep.Timeline {
				phases[sp.Phase] = true
				Expect(dom).To(ContainSubstring(">"+sp.System+"</text>"), "system %s in the timeline", sp.System)
			}
			for p := range phases {
				Expect(dom).To(ContainSubstring(`data-phase="`+p+`"`), "phase %s in the timeline", p)
			}
			for _, s := range rep.Systems {
				Expect(dom).To(ContainSubstring(">"+s.Name+"<"), "system %s in the page", s.Name)
			}
		},
		scenarioEntries(),
	)

	Describe("fleet54 roll-out", func() {
		It("reaches all 54 systems through every phase, canary first, and draws them in chromium", func() {
			rep := run("../../scenarios/fleet54.yaml")
			var sum bytes.Buffer
			Expect(rep.WriteSummary(&sum)).To(Succeed())
			Expect(rep.Pass).To(BeTrue(), sum.String())
			Expect(rep.Systems).To(HaveLen(54))
			Expect(rep.Rollouts).NotTo(BeEmpty())
			for _, ro := range rep.Rollouts {
				Expect(ro.Waves[0]).To(Equal([]string{"VM01", "VM02"}), ro.ID)
				Expect(ro.Systems).To(HaveLen(54))
				for _, s := range ro.Systems {
					Expect(s.Status).To(Equal("done"), ro.ID+" "+s.Name)
				}
			}
			// The canary's load ends before any wave-1 system starts.
			var canaryEnd, wave1Start time.Duration = 0, 1 << 62
			phases := map[string]map[string]bool{}
			sendStep := rep.Rollouts[0].Step
			for _, sp := range rep.Timeline {
				if phases[sp.System] == nil {
					phases[sp.System] = map[string]bool{}
				}
				phases[sp.System][sp.Phase] = true
				if sp.Step != sendStep {
					continue
				}
				if sp.System == "VM01" || sp.System == "VM02" {
					canaryEnd = max(canaryEnd, sp.End)
				} else {
					wave1Start = min(wave1Start, sp.Start)
				}
			}
			Expect(canaryEnd).To(BeNumerically("<=", wave1Start))
			Expect(phases).To(HaveLen(54))
			for s, ph := range phases {
				Expect(ph).To(HaveLen(4), s) // transfer, validate, load, put2prod
			}
			var page bytes.Buffer
			Expect(rep.WriteHTML(&page)).To(Succeed())
			dom := chromiumDOM(page.String())
			for i := 1; i <= 54; i++ {
				Expect(dom).To(ContainSubstring(fmt.Sprintf(">VM%02d</text>", i)))
			}
			for _, p := range []string{"transfer", "validate", "load", "put2prod"} {
				Expect(dom).To(ContainSubstring(`data-phase="` + p + `"`))
			}
		})
	})
})

var _ = Describe("distant systems", func() {
	It("take the time their link allows: a 512 KB/s system needs bytes/bandwidth for its transfer", func() {
		sc, err := harness.Load("../../scenarios/distant-systems.yaml")
		Expect(err).NotTo(HaveOccurred())
		rep, err := harness.Run(context.Background(), sc, harness.Options{Now: time.Now})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Pass).To(BeTrue())
		var sent int64
		for _, st := range rep.Steps {
			for _, l := range st.Output {
				if strings.HasPrefix(l, "CSM3053I VM03:") {
					_, err := fmt.Sscanf(l[strings.Index(l, "files, ")+len("files, "):], "%d bytes", &sent)
					Expect(err).NotTo(HaveOccurred(), l)
				}
			}
		}
		Expect(sent).To(BeNumerically(">", 1_000_000))
		transfer := map[string]time.Duration{}
		for _, sp := range rep.Timeline {
			if sp.Phase == "transfer" {
				transfer[sp.System] += sp.End - sp.Start
			}
		}
		// A floor, not a speed target: the shaped link cannot be beaten.
		floor := time.Duration(float64(sent) / 512_000 * float64(time.Second) * 0.95)
		Expect(transfer["VM03"]).To(BeNumerically(">=", floor))
		Expect(transfer["VM01"]).To(BeNumerically("<", transfer["VM03"]))
		Expect(transfer["VM02"]).To(BeNumerically(">", transfer["VM01"]), "30 ms per reply adds up over FTP's round trips")
	})
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

	It("are byte-identical for a roll-out whose wave misses its deadline on the link's time", func() {
		sc, err := harness.Load("../../scenarios/rollout-deadline.yaml")
		Expect(err).NotTo(HaveOccurred())
		var out [2]bytes.Buffer
		for i := range out {
			rep, err := harness.Run(context.Background(), sc, harness.Options{Now: time.Now})
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Pass).To(BeTrue())
			Expect(rep.WriteJSON(&out[i])).To(Succeed())
		}
		Expect(out[0].String()).To(Equal(out[1].String()))
		Expect(out[0].String()).To(ContainSubstring("CSM3074E VM04: roll-out SEND.TEST.VM010802_BLD2.ALL wave 1 did not finish within its deadline of 1s"))
	})

	It("list every system of a roll-out in the summary: done, failed with message id and reason, or untouched", func() {
		sc, err := harness.Load("../../scenarios/rollout-deadline.yaml")
		Expect(err).NotTo(HaveOccurred())
		rep, err := harness.Run(context.Background(), sc, harness.Options{})
		Expect(err).NotTo(HaveOccurred())
		var sum bytes.Buffer
		Expect(rep.WriteSummary(&sum)).To(Succeed())
		Expect(sum.String()).To(ContainSubstring("ROLL-OUT SEND.TEST.VM010802_BLD2.ALL (step 13) halted: wave 1 did not finish within its deadline of 1s; 3 done, 1 failed, 1 untouched"))
		Expect(sum.String()).To(MatchRegexp(`(?m)^VM01\s+canary\s+done\s+1\s*$`))
		Expect(sum.String()).To(MatchRegexp(`(?m)^VM04\s+1\s+failed\s+1\s+CSM3074E\s+wave 1 did not finish within its deadline of 1s$`))
		Expect(sum.String()).To(MatchRegexp(`(?m)^VM05\s+2\s+untouched\s+-\s*$`))
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

	It("advance the scenario clock by a wait step, and nothing else changes", func() {
		packaged := func(wait string) (time.Time, *harness.Report) {
			src := "name: w\nsteps:\n  - servmgr: initialize 720\n  - servmgr: srvlvl add 720 L1 basedon BASE\n"
			if wait != "" {
				src += "  - wait: " + wait + "\n"
			}
			// The expected value is a placeholder: the check reports what
			// the row holds, which is what this spec compares.
			src += "  - servmgr: srvlvl package 720 L1\n    expect: {rc: 4, messages: [CSM2736W]}\nexpect:\n  tables:\n    - {table: SVCSTAT, key: L1, tags: {package: unknown}}\n"
			sc, err := harness.Parse("w.yaml", []byte(src))
			Expect(err).NotTo(HaveOccurred())
			rep, err := harness.Run(context.Background(), sc, harness.Options{})
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Expectations).To(HaveLen(1))
			Expect(rep.Expectations[0].Name).To(Equal("table SVCSTAT L1 :PACKAGE."))
			t, err := time.Parse(msg.LogTimeFormat, rep.Expectations[0].Got)
			Expect(err).NotTo(HaveOccurred(), rep.Expectations[0].Got)
			return t, rep
		}
		t0, _ := packaged("")
		t1, rep := packaged("2h")
		Expect(t1.Sub(t0)).To(Equal(2 * time.Hour))
		Expect(rep.Steps[2].Kind).To(Equal("wait"))
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
		Entry("a repeat that names one system more than the world has",
			"name: x\nworld: {count: 2}\nsteps:\n  - servmgr: system add 720 vm${NN} L1 hostname ${HOST:VM${NN}}\n    repeat: {from: 1, to: 3}\n",
			`s.yaml:4:14: step 1 names system VM03, which is not in the world`, "define it under world"),
		Entry("a repeat that would run for days", "name: x\nsteps:\n  - servmgr: srvlvl query 720\n    repeat: {from: 1, to: 100000000}\n",
			`s.yaml:3:3: the scenario has 100000000 steps once repeats are counted; at most 1000`, "split the scenario"),
		Entry("a negative file pool", "name: x\nworld:\n  principal: {vmpsfs_blocks: -100}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:3:30: principal vmpsfs_blocks -100`, "4K blocks, 1.."),
		Entry("a nickname cycle", "name: x\nworld:\n  systems: [{name: VM01}]\n  names: {east: [west], west: [east]}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:4:10: names: `, "must not contain itself"),
		Entry("a nickname of nobody", "name: x\nworld:\n  systems: [{name: VM01}]\n  names: {east: [vm01, vm02]}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:4:11: nickname EAST lists VM02, which is neither a system of the world nor a nickname`, "name systems of the world"),
		Entry("a generated envelope of a million parts", "name: x\nfixtures:\n  envelopes: [{name: RSU9, kind: RSU, parts: 1000000}]\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:3:15: envelope RSU9: parts 1000000`, "parts 0..500"),
		Entry("a fault field that does not exist", "name: x\nfaults:\n  - drop: VM01\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:3:5: unknown field "drop" in faults item`, "known fields: after_bytes"),
		Entry("a fault of an unknown kind", "name: x\nfaults:\n  - {kind: flood, system: VM01}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:3:5: fault 1: kind "flood" is not one of drop, refuse, stall, crash`, "docs/faults.md"),
		Entry("a node fault without a system", "name: x\nfaults:\n  - {kind: crash, during: load}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:3:5: fault 1: a crash fault names a system, a nickname or ALL`, ""),
		Entry("a fault during something that does not happen", "name: x\nfaults:\n  - {kind: crash, system: ALL, during: lunch}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:3:5: fault 1: during "lunch" is neither a step number, nor a phase`, ""),
		Entry("a probability above 1", "name: x\nfaults:\n  - {kind: refuse, system: ALL, probability: 1.5}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:3:5: fault 1: probability 1.5 is not between 0 and 1`, ""),
		Entry("a fault that lasts a while", "name: x\nfaults:\n  - {kind: stall, system: ALL, for: ages}\nsteps:\n  - servmgr: initialize 720\n",
			`s.yaml:3:5: fault 1: for "ages" is not a duration`, ""),
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

	It("accepts empty sections and applies defaults", func() {
		sc, err := harness.Parse("s.yaml", []byte("name: x\nfaults: []\nrollout:\nsteps:\n  - servmgr: initialize 720\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Release).To(Equal("720"))
		Expect(sc.Steps[0].OnFailure).To(Equal("stop"))
	})

	It("reports every problem of a file, each at its place", func() {
		errs := parse("name: x\nbogus: 1\nsteps:\n  - servmgr: initialize 720\n    expect: {rc: eight}\n")
		Expect(errs).To(HaveLen(2))
		Expect(errs[0].Error()).To(HavePrefix("s.yaml:2:1: unknown field"))
		Expect(errs[1].Error()).To(HavePrefix(`s.yaml:5:18: rc must be a return code (0, 4, 8, 12) or a list of them, found "eight"`))
	})
})
