package main_test

import (
	"fmt"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/csmsim/csmsim/sim/fault"
	"github.com/csmsim/csmsim/sim/harness"
)

// The proof that sweeps find bugs: a build with a planted defect (the
// csmsim_plant tag makes LOAD skip marking the test build incomplete)
// fails the swarm roll-out within 200 seeds, the real build passes the
// same seed, and shrink reduces the failure to one fault.
var _ = Describe("a planted defect", Ordered, func() {
	var planted, dir string
	swarm, _ := filepath.Abs("../../scenarios/swarm-rollout.yaml")

	BeforeAll(func() {
		bin, err := gexec.Build("github.com/csmsim/csmsim/cmd/csmsim", "-tags", "csmsim_plant")
		Expect(err).NotTo(HaveOccurred())
		planted, dir = bin, GinkgoT().TempDir()
	})

	var seed uint64
	It("is found by a swarm sweep within 200 seeds, as test-build-whole, with the command that replays it", func() {
		r := runBinary(planted, dir, nil, "sweep", swarm, "--seeds", "1..200", "--swarm", "--jobs", "2", "--fail-fast",
			"--report", "json", "--out", "r.json")
		Expect(r.code).To(Equal(1), r.stdout+r.stderr)
		_, rep := readReport(filepath.Join(dir, "r.json"))
		Expect(rep.Failed).To(BeNumerically(">=", 1))
		for _, run := range rep.Runs {
			if !run.Pass {
				seed = run.Seed
				Expect(run.Failure).To(ContainSubstring("invariant " + harness.InvTestBuildWhole + " violated"))
				Expect(run.Replay).To(Equal(fmt.Sprintf("csmsim run %s --seed %d --swarm", swarm, seed)))
				break
			}
		}
		Expect(r.stdout).To(MatchRegexp(`--fail-fast\): \d+ seeds not run`), "--fail-fast stops the sweep")

		// The replay fails the same way; the real build passes the seed.
		replay := runBinary(planted, dir, nil, "run", swarm, "--seed", fmt.Sprint(seed), "--swarm", "--quiet")
		Expect(replay.code).To(Equal(1))
		Expect(replay.stderr).To(ContainSubstring("invariant " + harness.InvTestBuildWhole + " violated"))
		ok(csmEnv(dir, nil, "run", swarm, "--seed", fmt.Sprint(seed), "--swarm", "--quiet"))
	})

	It("is shrunk to one fault, which still breaks the planted build and not the real one", func() {
		Expect(seed).NotTo(BeZero(), "the sweep found a failing seed")
		out := ok(runBinary(planted, dir, nil, "shrink", swarm, "--seed", fmt.Sprint(seed), "--swarm", "--out", "min.yaml"))
		Expect(out).To(MatchRegexp(`wrote min.yaml: \d+ steps \(was 13\), 1 faults \(was 12\)`))
		Expect(out).To(ContainSubstring("failure: invariant " + harness.InvTestBuildWhole))

		min, err := harness.Load(filepath.Join(dir, "min.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(min.Faults).To(HaveLen(1))
		Expect(min.Faults[0].Kind).To(Equal(string(fault.IOError)))
		Expect(min.Swarm).To(BeFalse())
		Expect(min.Faults[0].Probability).To(BeZero())

		// Standalone: its seed and fixed fault are in the file.
		r := runBinary(planted, dir, nil, "run", "min.yaml", "--quiet")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("invariant " + harness.InvTestBuildWhole + " violated"))
		real := csmEnv(dir, nil, "run", "min.yaml", "--quiet")
		Expect(real.stderr).NotTo(ContainSubstring(harness.InvTestBuildWhole))
	})
})
