package main_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"gopkg.in/yaml.v3"
)

// fenced are the fenced code blocks of a Markdown page, without their
// fences, each with its info string (sh, yaml).
func fenced(page string) (blocks, langs []string) {
	lines := strings.Split(page, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "```") || l == "```" {
			continue
		}
		indent := lines[i][:strings.Index(lines[i], "`")]
		var b []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			b = append(b, strings.TrimPrefix(lines[i], indent))
		}
		blocks, langs = append(blocks, strings.Join(b, "\n")+"\n"), append(langs, strings.TrimPrefix(l, "```"))
	}
	return blocks, langs
}

// csmsimLines are the bin/csmsim commands of a block, as a shell or a
// CI runner would run them: a YAML `run:` or list item's value, or a
// line of a shell block, comments cut.
func csmsimLines(block string) []string {
	var out []string
	for _, l := range strings.Split(block, "\n") {
		l = strings.TrimSpace(l)
		for _, p := range []string{"- run:", "run:", "- "} {
			l = strings.TrimSpace(strings.TrimPrefix(l, p))
		}
		if !strings.HasPrefix(l, "bin/csmsim ") {
			continue
		}
		if i := strings.Index(l, " #"); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		out = append(out, l)
	}
	return out
}

var _ = Describe("docs/ci.md", func() {
	var root, page string
	BeforeEach(func() {
		root = repoRoot()
		b, err := os.ReadFile(filepath.Join(root, "docs", "ci.md"))
		Expect(err).NotTo(HaveOccurred())
		page = string(b)
	})

	It("shows each CI file of docs/ci as it is, and each publishes the JUnit report the commands write", func() {
		blocks, langs := fenced(page)
		shown := map[string]bool{}
		for i, b := range blocks {
			if langs[i] == "yaml" {
				shown[b] = true
			}
		}
		for _, f := range []string{"scenarios-github.yml", "scenarios-gitlab.yml"} {
			b, err := os.ReadFile(filepath.Join(root, "docs", "ci", f))
			Expect(err).NotTo(HaveOccurred())
			Expect(shown).To(HaveKey(string(b)), "docs/ci.md shows docs/ci/%s as it is", f)
			Expect(page).To(ContainSubstring("(ci/" + f + ")"))
		}

		var gh struct {
			Permissions map[string]string
			Jobs        map[string]struct {
				Steps []struct {
					Uses, Run, If string
					With          map[string]any
				}
			}
		}
		b, err := os.ReadFile(filepath.Join(root, "docs", "ci", "scenarios-github.yml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(yaml.Unmarshal(b, &gh)).To(Succeed())
		Expect(gh.Permissions).To(HaveKeyWithValue("checks", "write"))
		var runs []string
		published := ""
		for _, st := range gh.Jobs["scenarios"].Steps {
			runs = append(runs, st.Run)
			if strings.HasPrefix(st.Uses, "mikepenz/action-junit-report@") {
				published, _ = st.With["report_paths"].(string)
				Expect(st.If).To(ContainSubstring("!cancelled()"), "published when a scenario failed too")
			}
		}
		Expect(runs).To(ContainElement("make build"))
		Expect(published).To(Equal("reports/junit.xml"))
		Expect(strings.Join(runs, "\n")).To(ContainSubstring("--out " + published))

		var gl map[string]struct {
			Image       string
			Script      []string
			AfterScript []string `yaml:"after_script"`
			Artifacts   struct {
				When    string
				Reports struct{ Junit string }
			}
		}
		b, err = os.ReadFile(filepath.Join(root, "docs", "ci", "scenarios-gitlab.yml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(yaml.Unmarshal(b, &gl)).To(Succeed())
		job := gl["scenarios"]
		Expect(job.Script).To(ContainElement("make build"))
		Expect(job.Artifacts.When).To(Equal("always"))
		Expect(job.Artifacts.Reports.Junit).To(Equal("reports/junit.xml"))
		Expect(strings.Join(job.AfterScript, "\n")).To(ContainSubstring("--out " + job.Artifacts.Reports.Junit))
		gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
		Expect(err).NotTo(HaveOccurred())
		goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod))
		Expect(job.Image).To(Equal("golang:"+goVersion[1]), "the image has the Go go.mod asks for")
	})

	It("gives commands that run: every bin/csmsim line, in order, on a directory of scenarios", func() {
		blocks, _ := fenced(page)
		var cmds []string
		for _, b := range blocks {
			cmds = append(cmds, csmsimLines(b)...)
		}
		Expect(len(cmds)).To(BeNumerically(">=", 4))
		// A checkout in miniature: the built binary where make build puts
		// it, and two quick scenarios of the committed ones.
		work := GinkgoT().TempDir()
		Expect(os.MkdirAll(filepath.Join(work, "bin"), 0o755)).To(Succeed())
		Expect(os.Symlink(csmsim, filepath.Join(work, "bin", "csmsim"))).To(Succeed())
		Expect(os.MkdirAll(filepath.Join(work, "scenarios"), 0o755)).To(Succeed())
		for _, f := range []string{"sample.yaml", "refuse-unknown-nickname.yaml"} {
			b, err := os.ReadFile(filepath.Join(root, "scenarios", f))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(filepath.Join(work, "scenarios", f), b, 0o644)).To(Succeed())
		}
		for _, c := range cmds {
			sh := exec.Command("bash", "-ec", c)
			sh.Dir = work
			out, err := sh.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "%s\n%s", c, out)
		}
		read := func(p string) []byte {
			GinkgoHelper()
			b, err := os.ReadFile(filepath.Join(work, p))
			Expect(err).NotTo(HaveOccurred())
			return b
		}
		var reports []map[string]any
		Expect(json.Unmarshal(read("reports/csmsim.json"), &reports)).To(Succeed())
		Expect(reports).To(HaveLen(2))
		Expect(reports[1]).To(HaveKeyWithValue("scenario", "sample"))
		Expect(reports[1]).To(HaveKey("timeline"))
		var junit struct {
			Suites []struct {
				Name  string `xml:"name,attr"`
				Cases []struct {
					Name string `xml:"name,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		Expect(xml.Unmarshal(read("reports/junit.xml"), &junit)).To(Succeed())
		Expect(junit.Suites).To(HaveLen(2))
		for i, s := range junit.Suites {
			Expect(s.Name).To(Equal(reports[i]["scenario"]))
			steps, exps := reports[i]["steps"].([]any), reports[i]["expectations"].([]any)
			Expect(s.Cases).To(HaveLen(len(steps) + len(exps)))
		}
		Expect(string(read("reports/csmsim.html"))).To(ContainSubstring("<svg"))
	})
})
