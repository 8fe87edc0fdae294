package main_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/harness"
)

// A passing scenario: one system, and a fault that half the seeds arm and
// only the invariants see (a skewed clock changes no result).
const tinyScenario = `name: tiny
description: one system; a skewed clock on half the seeds
world: {count: 1}
faults:
  - {kind: skew, system: VM01, by: 2h, probability: 0.5}
steps:
  - servmgr: initialize 720
  - servmgr: srvlvl add 720 L1 basedon BASE
`

// A scenario that fails for some seeds: half of them fill VMPSFS as step
// 2 begins, and SRVLVL ADD, expected to succeed, ends RC=8. The skew and
// the third step are there for the shrinker to remove.
const flakyScenario = `name: flaky
description: a full VMPSFS breaks SRVLVL ADD for about half the seeds
world: {count: 2}
faults:
  - {kind: disk_full, disk: VMPSFS, during: "2", probability: 0.5}
  - {kind: skew, system: ALL, by: 2h, probability: 0.5}
steps:
  - servmgr: initialize 720
  - servmgr: srvlvl add 720 L1 basedon BASE
  - servmgr: srvlvl service 720 L1 all rsu0801
`

// sweepReport is the part of csmsim sweep's JSON report the specs read.
type sweepReport struct {
	Files  []string `json:"files"`
	Seeds  string   `json:"seeds"`
	Shard  string   `json:"shard"`
	Passed int      `json:"passed"`
	Failed int      `json:"failed"`
	Runs   []struct {
		File    string `json:"file"`
		Seed    uint64 `json:"seed"`
		Pass    bool   `json:"pass"`
		Failure string `json:"failure"`
		Replay  string `json:"replay"`
	} `json:"runs"`
}

// csmEnv runs the built binary as csm does, with env added.
func csmEnv(dir string, env []string, args ...string) result {
	return runBinary(csmsim, dir, env, args...)
}

func mustAtoi(s string) int {
	GinkgoHelper()
	n, err := strconv.Atoi(s)
	Expect(err).NotTo(HaveOccurred())
	return n
}

// readReport reads a sweep's JSON report: its bytes and what they say.
func readReport(path string) (string, sweepReport) {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var r sweepReport
	Expect(json.Unmarshal(b, &r)).To(Succeed(), string(b))
	return string(b), r
}

var _ = Describe("csmsim sweep", func() {
	var dir string
	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "tiny.yaml"), []byte(tinyScenario), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "flaky.yaml"), []byte(flakyScenario), 0o644)).To(Succeed())
	})

	It("runs every seed of a passing scenario, two at a time, and writes the same JSON report each time", func() {
		r := csmEnv(dir, nil, "sweep", "tiny.yaml", "--seeds", "1..6", "--jobs", "2", "--report", "json", "--out", "a.json")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(MatchRegexp(`(?m)^sweep: 6 seeds run \(1 file, seeds 1\.\.6\): 6 passed, 0 failed, \d+\.\d seeds/s$`))
		first, rep := readReport(filepath.Join(dir, "a.json"))
		Expect(rep.Runs).To(HaveLen(6))
		for i, run := range rep.Runs {
			Expect(run.Seed).To(Equal(uint64(i + 1)))
			Expect(run.Pass).To(BeTrue())
			Expect(run.Replay).To(Equal(fmt.Sprintf("csmsim run tiny.yaml --seed %d", i+1)))
		}
		Expect(rep.Passed).To(Equal(6))
		Expect(first).NotTo(ContainSubstring("seeds/s"), "wall time stays out of the report")

		// Again, one at a time, running the first 2 seeds twice more: the
		// same bytes, and the check says so.
		r = csmEnv(dir, nil, "sweep", "tiny.yaml", "--seeds", "1..6", "--jobs", "1", "--report", "json", "--out", "b.json", "--check-determinism", "2")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(ContainSubstring("deterministic: 2 seeds, each run twice, gave byte-identical JSON reports"))
		second, _ := readReport(filepath.Join(dir, "b.json"))
		Expect(second).To(Equal(first))
	})

	It("splits the seeds into shards, by --shard, CSMSIM_SHARD or a Kubernetes Indexed Job, that merge into the whole sweep's report", func() {
		whole := csmEnv(dir, nil, "sweep", "flaky.yaml", "--seeds", "1..6", "--report", "json", "--out", "whole.json")
		Expect(whole.code).To(Equal(1), "some seeds of flaky.yaml fail")
		wholeJSON, wholeRep := readReport(filepath.Join(dir, "whole.json"))
		Expect(wholeRep.Passed).To(BeNumerically(">", 0))
		Expect(wholeRep.Failed).To(BeNumerically(">", 0))

		var seeds [3][]uint64
		for i, shard := range []string{"1/2", "2/2"} {
			csmEnv(dir, nil, "sweep", "flaky.yaml", "--seeds", "1..6", "--shard", shard, "--report", "json", "--out", fmt.Sprintf("s%d.json", i+1))
			_, rep := readReport(filepath.Join(dir, fmt.Sprintf("s%d.json", i+1)))
			Expect(rep.Shard).To(Equal(shard))
			for _, run := range rep.Runs {
				seeds[i] = append(seeds[i], run.Seed)
			}
		}
		Expect(seeds[0]).To(Equal([]uint64{1, 3, 5}))
		Expect(seeds[1]).To(Equal([]uint64{2, 4, 6}))

		merged := csmEnv(dir, nil, "sweep", "merge", "s2.json", "s1.json", "--out", "merged.json")
		Expect(merged.code).To(Equal(1), "the merge fails as the sweep does")
		Expect(merged.stdout).To(ContainSubstring(fmt.Sprintf("sweep: 6 seeds run (1 file, seeds 1..6): %d passed, %d failed", wholeRep.Passed, wholeRep.Failed)))
		mergedJSON, _ := readReport(filepath.Join(dir, "merged.json"))
		Expect(mergedJSON).To(Equal(wholeJSON))

		// The Indexed Job's index is 0-based; CSMSIM_SHARD is 1-based.
		csmEnv(dir, []string{"JOB_COMPLETION_INDEX=1", "JOB_COMPLETIONS=2"}, "sweep", "flaky.yaml", "--seeds", "1..6", "--report", "json", "--out", "k8s.json")
		csmEnv(dir, []string{"CSMSIM_SHARD=2/2", "JOB_COMPLETION_INDEX=0", "JOB_COMPLETIONS=2"}, "sweep", "flaky.yaml", "--seeds", "1..6", "--report", "json", "--out", "ci.json")
		csmEnv(dir, []string{"CSMSIM_SHARD=1/2"}, "sweep", "flaky.yaml", "--seeds", "1..6", "--shard", "2/2", "--report", "json", "--out", "flag.json")
		s2, _ := readReport(filepath.Join(dir, "s2.json"))
		for _, f := range []string{"k8s.json", "ci.json", "flag.json"} {
			got, _ := readReport(filepath.Join(dir, f))
			Expect(got).To(Equal(s2), "%s selects shard 2/2", f)
		}

		// A shard alone is a partial report, and says which are missing.
		r := csmEnv(dir, nil, "sweep", "merge", "s1.json", "--report", "summary")
		Expect(r.stdout).To(ContainSubstring("missing shards: 2/2"))
	})

	It("names each failing seed with the command that replays it, in the summary and in JUnit, and the replay fails the same way", func() {
		r := csmEnv(dir, nil, "sweep", "flaky.yaml", "--seeds", "1..8", "--jobs", "2", "--report", "junit", "--out", "r.xml")
		fails(r, "seeds failed; the first: flaky.yaml seed ")
		failing := regexp.MustCompile(`(?m)^FAIL flaky.yaml seed (\d+): (.*) \| replay: (.*)$`).FindAllStringSubmatch(r.stdout, -1)
		Expect(failing).NotTo(BeEmpty(), r.stdout)
		Expect(len(failing)).To(BeNumerically("<", 8), "some seeds pass")
		for _, f := range failing {
			Expect(f[2]).To(Equal("flaky.yaml: step 2 (srvlvl add 720 L1 basedon BASE) failed: RC=8, expected 0"))
			Expect(f[3]).To(Equal("csmsim run flaky.yaml --seed " + f[1]))
		}
		Expect(r.stdout).To(MatchRegexp(`(?m)^sweep: 8 seeds run \(1 file, seeds 1\.\.8\): %d passed, %d failed, `, 8-len(failing), len(failing)))

		b, err := os.ReadFile(filepath.Join(dir, "r.xml"))
		Expect(err).NotTo(HaveOccurred())
		var junit struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Suites   []struct {
				Name  string `xml:"name,attr"`
				Cases []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
						Text    string `xml:",chardata"`
					} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		Expect(xml.Unmarshal(b, &junit)).To(Succeed(), string(b))
		Expect(junit.Tests).To(Equal(8))
		Expect(junit.Failures).To(Equal(len(failing)))
		Expect(junit.Suites).To(HaveLen(1))
		Expect(junit.Suites[0].Name).To(Equal("sweep flaky.yaml"))
		first := junit.Suites[0].Cases[mustAtoi(failing[0][1])-1]
		Expect(first.Name).To(Equal("seed " + failing[0][1]))
		Expect(first.Failure).NotTo(BeNil())
		Expect(first.Failure.Message).To(Equal(failing[0][2]))
		Expect(first.Failure.Text).To(Equal("replay: " + failing[0][3]))

		// The replay, as a user pastes it.
		replay := strings.Fields(failing[0][3])
		Expect(replay[0]).To(Equal("csmsim"))
		fails(csmEnv(dir, nil, append(replay[1:], "--quiet")...), failing[0][2])
	})

	It("refuses to merge what is not a sweep report, or two results for one seed, naming the files", func() {
		ok(csmEnv(dir, nil, "sweep", "tiny.yaml", "--seeds", "1..2", "--report", "json", "--out", "a.json"))
		ok(csmEnv(dir, nil, "run", "tiny.yaml", "--report", "json", "--out", "run.json", "--quiet"))
		fails(csmEnv(dir, nil, "sweep", "merge", "a.json", "run.json"),
			`run.json is not a csmsim sweep report: json: unknown field "scenario" (write shard reports with csmsim sweep --report json --out FILE)`)
		Expect(os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("seed 1 passed\n"), 0o644)).To(Succeed())
		fails(csmEnv(dir, nil, "sweep", "merge", "notes.txt", "a.json"), "notes.txt is not a csmsim sweep report: invalid character")
		fails(csmEnv(dir, nil, "sweep", "merge", "a.json", "gone.json"), "gone.json")

		// The same seed, failed in another report.
		b, err := os.ReadFile(filepath.Join(dir, "a.json"))
		Expect(err).NotTo(HaveOccurred())
		var doc map[string]any
		Expect(json.Unmarshal(b, &doc)).To(Succeed())
		run := doc["runs"].([]any)[0].(map[string]any)
		run["pass"], run["failure"] = false, "tiny.yaml: step 1 (initialize 720) failed: RC=8, expected 0"
		b, err = json.Marshal(doc)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(dir, "b.json"), b, 0o644)).To(Succeed())
		fails(csmEnv(dir, nil, "sweep", "merge", "a.json", "b.json"),
			"tiny.yaml seed 1 has two results: pass in a.json, fail (tiny.yaml: step 1 (initialize 720) failed: RC=8, expected 0) in b.json")
	})

	DescribeTable("refuses bad input with what to do",
		func(env []string, args []string, want string) {
			fails(csmEnv(dir, env, append([]string{"sweep", "tiny.yaml"}, args...)...), want)
		},
		Entry("a range backwards", nil, []string{"--seeds", "5..1"}, "--seeds 5..1: the first seed is above the last; write A..B with A <= B"),
		Entry("not a range", nil, []string{"--seeds", "7"}, `--seeds "7": write the range as A..B`),
		Entry("too many seeds", nil, []string{"--seeds", "0..18446744073709551615"}, "--seeds 0..18446744073709551615: more than 1000000 seeds, the most one sweep runs"),
		Entry("a shard past the last", nil, []string{"--seeds", "1..2", "--shard", "3/2"}, "--shard 3/2: the shard must be 1..2 (1-based: the i-th of n)"),
		Entry("shard 0", nil, []string{"--seeds", "1..2", "--shard", "0/2"}, "--shard 0/2: the shard must be 1..2"),
		Entry("no jobs", nil, []string{"--seeds", "1..2", "--jobs", "0"}, "--jobs 0: run 1 to 256 seeds at once"),
		Entry("too many jobs", nil, []string{"--seeds", "1..2", "--jobs", "257"}, "--jobs 257: run 1 to 256"),
		Entry("a CI shard that is not one", []string{"CSMSIM_SHARD=first"}, []string{"--seeds", "1..2"}, `CSMSIM_SHARD "first": write the shard as i/n`),
		Entry("an Indexed Job index past its completions", []string{"JOB_COMPLETION_INDEX=2", "JOB_COMPLETIONS=2"}, []string{"--seeds", "1..2"},
			"JOB_COMPLETION_INDEX=2 JOB_COMPLETIONS=2: 3/2: the shard must be 1..2"),
		Entry("an Indexed Job without its completions", []string{"JOB_COMPLETION_INDEX=0"}, []string{"--seeds", "1..2"},
			"JOB_COMPLETION_INDEX=0 is set without JOB_COMPLETIONS"),
		Entry("a report it cannot write", nil, []string{"--seeds", "1..2", "--report", "html"}, `--report "html": use summary, json, junit`),
	)
})

var _ = Describe("csmsim shrink", func() {
	var dir string
	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "flaky.yaml"), []byte(flakyScenario), 0o644)).To(Succeed())
	})

	// firstSeed is the first seed of flaky.yaml that passes, or fails, in
	// a sweep.
	firstSeed := func(pass bool) string {
		GinkgoHelper()
		csmEnv(dir, nil, "sweep", "flaky.yaml", "--seeds", "1..8", "--report", "json", "--out", "r.json")
		_, rep := readReport(filepath.Join(dir, "r.json"))
		for _, run := range rep.Runs {
			if run.Pass == pass {
				return fmt.Sprint(run.Seed)
			}
		}
		Fail(fmt.Sprintf("no seed of 1..8 has pass %v", pass))
		return ""
	}

	It("writes a smaller scenario that fails by itself with the same failure signature", func() {
		seed := firstSeed(false)
		out := ok(csmEnv(dir, nil, "shrink", "flaky.yaml", "--seed", seed, "--out", "min.yaml"))
		Expect(out).To(ContainSubstring("removed steps 3 (srvlvl service 720 L1 all rsu0801)"))
		Expect(out).To(MatchRegexp(`(?m)^wrote min.yaml: 2 steps \(was 3\), 1 faults \(was 2\)`))

		// csmsim run MIN.yaml, with no seed: the file carries it.
		fails(csmEnv(dir, nil, "run", "min.yaml", "--quiet"), "min.yaml: step 2 (srvlvl add 720 L1 basedon BASE) failed: RC=8, expected 0")

		orig, err := harness.Load(filepath.Join(dir, "flaky.yaml"))
		Expect(err).NotTo(HaveOccurred())
		min, err := harness.Load(filepath.Join(dir, "min.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(len(min.Steps)).To(BeNumerically("<", len(orig.Steps)))
		Expect(len(min.Faults)).To(BeNumerically("<", len(orig.Faults)))
		Expect(min.Swarm).To(BeFalse())
		for _, f := range min.Faults {
			Expect(f.Probability).To(BeZero(), "a fixed fault is always armed")
		}
		Expect(min.Description).To(ContainSubstring("from flaky.yaml seed " + seed))

		var n uint64
		_, err = fmt.Sscan(seed, &n)
		Expect(err).NotTo(HaveOccurred())
		want, err := harness.Run(context.Background(), orig, harness.Options{Seed: &n})
		Expect(err).NotTo(HaveOccurred())
		got, err := harness.Run(context.Background(), min, harness.Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Signature()).To(Equal(want.Signature()))
		Expect(got.Signature()).To(Equal(`step servmgr "srvlvl add 720 L1 basedon BASE" RC=8 CSM0031E`), "the full disk, not a missing INITIALIZE")
	})

	It("refuses a seed that passes, and writes nothing", func() {
		seed := firstSeed(true)
		fails(csmEnv(dir, nil, "shrink", "flaky.yaml", "--seed", seed, "--out", "min.yaml"),
			"flaky.yaml passes with seed "+seed+": there is no failure to shrink (pick a failing seed from csmsim sweep)")
		Expect(filepath.Join(dir, "min.yaml")).NotTo(BeAnExistingFile())
	})
})
