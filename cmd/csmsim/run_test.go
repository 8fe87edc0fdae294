package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("csmsim run, validate and list", func() {
	var root string
	BeforeEach(func() {
		root = repoRoot()
	})

	It("runs the sample scenario and writes its JSON report", func() {
		out := ok(csm(root, "run", "scenarios/sample.yaml", "--report", "json", "--quiet"))
		var rep struct {
			Scenario string `json:"scenario"`
			Pass     bool   `json:"pass"`
			Steps    []struct {
				RC     int    `json:"rc"`
				Status string `json:"status"`
			} `json:"steps"`
			Systems []struct {
				Name, Level, State, Prod string
			} `json:"systems"`
		}
		Expect(json.Unmarshal([]byte(out), &rep)).To(Succeed(), out)
		Expect(rep.Scenario).To(Equal("sample"))
		Expect(rep.Pass).To(BeTrue())
		Expect(rep.Steps).To(HaveLen(13))
		Expect(rep.Systems).To(HaveLen(1))
		Expect(rep.Systems[0].Prod).To(Equal("VM010802_BLD2"))
		again := ok(csm(root, "run", "scenarios/sample.yaml", "--report", "json", "--quiet"))
		Expect(again).To(Equal(out))
	})

	It("prints the summary and writes JUnit to --out", func() {
		dir := GinkgoT().TempDir()
		junit := filepath.Join(dir, "r.xml")
		out := ok(csm(root, "run", "scenarios/refuse-unknown-nickname.yaml", "--report", "junit", "--out", junit))
		Expect(out).To(MatchRegexp(`PASS refuse-unknown-nickname`))
		Expect(out).To(MatchRegexp(`SYSTEM\s+TEST LEVEL\s+STATE\s+PROD LEVEL`))
		b, err := os.ReadFile(junit)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(ContainSubstring(`<testsuite name="refuse-unknown-nickname"`))
	})

	It("writes a self-contained HTML report with the timeline, and plain progress lines when not on a terminal", func() {
		dir := GinkgoT().TempDir()
		page := filepath.Join(dir, "r.html")
		r := csm(root, "run", "scenarios/sample.yaml", "--report", "html", "--out", page)
		Expect(r.code).To(Equal(0), r.stderr)
		b, err := os.ReadFile(page)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(ContainSubstring("<svg"))
		for _, phase := range []string{"transfer", "validate", "load", "put2prod"} {
			Expect(string(b)).To(ContainSubstring(`data-phase="` + phase + `"`))
		}
		Expect(string(b)).To(ContainSubstring(">VM01</text>"))
		Expect(string(b)).NotTo(MatchRegexp(`https?://`))
		Expect(r.stderr).To(MatchRegexp(`(?m)^step 10 VM01: transfer \d+\.\d{3}s, validate \d+\.\d{3}s, load \d+\.\d{3}s ok$`))
		Expect(r.stderr).To(MatchRegexp(`(?m)^step 12 VM01: put2prod \d+\.\d{3}s ok$`))
		Expect(r.stdout+r.stderr).NotTo(ContainSubstring("\x1b["), "no cursor movement off a terminal")
	})

	It("draws one progress bar per system when stdout is a terminal", func() {
		// script(1) gives the command a pseudo-terminal, as a sysprog's
		// session would.
		script, err := exec.LookPath("script")
		Expect(err).NotTo(HaveOccurred(), "script(1) from bsdutils is needed")
		// A pty made by script(1) has no size until stty gives it one.
		cmd := exec.Command(script, "-qec", "stty cols 120 rows 50; "+csmsim+" run scenarios/rollout-deadline.yaml", "/dev/null")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "TERM=xterm")
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		text := string(out)
		Expect(text).To(ContainSubstring("\x1b["), "mpb redraws with escape sequences")
		for _, s := range []string{"VM01", "VM02", "VM03", "VM04"} {
			// The name, its phase and state (VM04's may be "transfer FAILED"), the bar.
			Expect(text).To(MatchRegexp(s+` [^\n\[]*\[`), "a bar for %s", s)
		}
		Expect(text).To(ContainSubstring("PASS rollout-deadline"))
	})

	It("exits 1 with a one-line error when an expectation fails", func() {
		dir := GinkgoT().TempDir()
		f := filepath.Join(dir, "wrong.yaml")
		Expect(os.WriteFile(f, []byte("name: wrong\nsteps:\n  - servmgr: initialize 710\n"), 0o644)).To(Succeed())
		r := csm(dir, "run", f, "--quiet")
		Expect(r.code).To(Equal(1))
		fails(r, "step 1 (initialize 710) failed: RC=8, expected 0")
	})

	It("validates files, naming line and column of each problem", func() {
		dir := GinkgoT().TempDir()
		f := filepath.Join(dir, "broken.yaml")
		Expect(os.WriteFile(f, []byte("name: broken\nsteps:\n  - servmgr: initialize 720\n    expext: {rc: 0}\n"), 0o644)).To(Succeed())
		r := csm(dir, "validate", f)
		fails(r, f+`:4:5: unknown field "expext" in steps item (hint: did you mean "expect"?`)
		Expect(ok(csm(root, "validate", "scenarios/sample.yaml"))).To(ContainSubstring("scenarios/sample.yaml: ok"))
	})

	It("lists the committed scenarios", func() {
		out := ok(csm(root, "list"))
		Expect(out).To(MatchRegexp(`(?m)^sample\s+The seed's sample scenario`))
		Expect(out).To(MatchRegexp(`(?m)^refuse-55th-system\s+`))
	})
})
