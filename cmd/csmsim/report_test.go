package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// timelineCut splits an HTML report into its timeline sections and the
// rest: the timeline is timed in wall time, so two runs differ there.
func timelineCut(page string) (timeline, rest string) {
	var tl, other []string
	for i, sec := range strings.Split(page, "<h3>Timeline</h3>") {
		if i > 0 {
			j := strings.Index(sec, "<h3>Steps</h3>")
			Expect(j).To(BeNumerically(">=", 0))
			tl, sec = append(tl, sec[:j]), sec[j:]
		}
		other = append(other, sec)
	}
	return strings.Join(tl, "\n"), strings.Join(other, "")
}

// spans are the timeline's bars, as "VM01 transfer step 10", in order.
func spans(timeline string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-phase="[^"]+"[^>]*><title>(\S+ \S+ step \d+):`).FindAllStringSubmatch(timeline, -1) {
		out = append(out, m[1])
	}
	return out
}

var _ = Describe("csmsim report", func() {
	var root, dir string
	BeforeEach(func() {
		root = repoRoot()
		dir = GinkgoT().TempDir()
	})
	read := func(p string) string {
		GinkgoHelper()
		b, err := os.ReadFile(p)
		Expect(err).NotTo(HaveOccurred())
		return string(b)
	}
	files := []string{"scenarios/sample.yaml", "scenarios/refuse-unknown-nickname.yaml"}

	It("renders again, from the same JSON, what csmsim run writes", func() {
		rep := filepath.Join(dir, "out", "r.json") // --out makes out/
		ok(csm(root, append([]string{"run"}, append(files, "--report", "json", "--timeline", "--out", rep, "--quiet")...)...))
		var doc []struct {
			Scenario string `json:"scenario"`
			Timeline []struct {
				System string `json:"system"`
				Phase  string `json:"phase"`
				Start  int64  `json:"start_ns"`
				End    int64  `json:"end_ns"`
			} `json:"timeline"`
		}
		Expect(json.Unmarshal([]byte(read(rep)), &doc)).To(Succeed())
		Expect(doc).To(HaveLen(2))
		Expect(doc[0].Timeline).NotTo(BeEmpty())
		for _, sp := range doc[0].Timeline {
			Expect(sp.End).To(BeNumerically(">=", sp.Start), "%s %s", sp.System, sp.Phase)
		}

		// HTML: the same page as run's own, but for the timeline's times
		// (each run has its own): the same bars, in the same order.
		again := filepath.Join(dir, "again.html")
		ok(csm(root, "report", rep, "--format", "html", "--out", again))
		direct := filepath.Join(dir, "direct.html")
		ok(csm(root, append([]string{"run"}, append(files, "--report", "html", "--out", direct, "--quiet")...)...))
		tlAgain, restAgain := timelineCut(read(again))
		tlDirect, restDirect := timelineCut(read(direct))
		Expect(restAgain).To(Equal(restDirect))
		Expect(spans(tlAgain)).To(HaveLen(len(doc[0].Timeline) + len(doc[1].Timeline)))
		Expect(spans(tlAgain)).To(Equal(spans(tlDirect)))
		Expect(tlAgain).To(ContainSubstring("<svg"))

		// JUnit and the summary: byte for byte
		junit := ok(csm(root, append([]string{"run"}, append(files, "--report", "junit", "--quiet")...)...))
		Expect(ok(csm(root, "report", rep, "--format", "junit"))).To(Equal(junit))
		summary := ok(csm(root, append([]string{"run"}, append(files, "--report", "summary", "--quiet")...)...))
		Expect(ok(csm(root, "report", rep, "--format", "summary"))).To(Equal(summary))
	})

	It("draws a page without a timeline from a JSON report without one, and refuses what it cannot draw", func() {
		rep := filepath.Join(dir, "r.json")
		ok(csm(root, "run", "scenarios/sample.yaml", "--report", "json", "--out", rep, "--quiet"))
		Expect(read(rep)).NotTo(ContainSubstring(`"timeline"`))
		page := ok(csm(root, "report", rep))
		Expect(page).To(ContainSubstring("no managed-system phases in this run"))
		Expect(page).To(ContainSubstring("PASS</span>sample"))

		fails(csm(root, "report", rep, "--format", "pdf"), `--format "pdf": use html, junit or summary`)
		fails(csm(root, "report", filepath.Join(dir, "none.json")), "none.json: no such file or directory; give a JSON report that csmsim run --report json wrote")
		Expect(os.WriteFile(filepath.Join(dir, "x.json"), []byte(`{"tests": 3}`), 0o644)).To(Succeed())
		fails(csm(root, "report", filepath.Join(dir, "x.json")), `x.json is not a csmsim JSON report (json: unknown field "tests")`)
		fails(csm(root, "run", "scenarios/sample.yaml", "--report", "html", "--timeline"), "--timeline goes with --report json")
	})
})
