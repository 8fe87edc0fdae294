package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	"golang.org/x/net/html"

	"github.com/csmsim/csmsim/sim/harness/htmltest"
)

// A world where VM02 drifts from its level: local service under MANAGED
// OFF changes its parts behind the principal's back.
const driftScenario = `name: drift
world:
  systems: [{name: VM01}, {name: VM02}]
steps:
  - servmgr: initialize 720
  - servmgr: srvlvl add 720 L1 basedon BASE
  - servmgr: srvlvl service 720 L1 all rsu0801
  - install: {system: ALL, level: L1}
  - servmgr: system add 720 vm01 L1 hostname ${HOST:VM01} (port ${PORT:VM01} norequire
  - servmgr: system add 720 vm02 L1 hostname ${HOST:VM02} (port ${PORT:VM02} norequire
  - managed: {system: VM02, on: false}
  - local_service: {system: VM02, component: CP, cor: {name: COR0001}}
expect:
  servcheck: SERVCHECK
`

// Issue 15: what a newcomer trips over in the first hour.
var _ = Describe("a newcomer's first hour", func() {
	var root, dir string
	BeforeEach(func() {
		root = repoRoot()
		dir = GinkgoT().TempDir()
	})
	write := func(name, text string) string {
		GinkgoHelper()
		p := filepath.Join(dir, name)
		Expect(os.WriteFile(p, []byte(text), 0o644)).To(Succeed())
		return p
	}
	scenario := func(name, servcheck string, steps int) string {
		GinkgoHelper()
		text := strings.Replace(driftScenario, "SERVCHECK", servcheck, 1)
		if steps > 0 { // the first steps only: no drift
			lines := strings.SplitAfter(text, "\n")
			at := slices.Index(lines, "steps:\n")
			text = strings.Join(lines[:at+1+steps], "") + "expect:\n  servcheck: " + servcheck + "\n"
		}
		return write(name, text)
	}

	Describe("servcheck in a scenario's expect (item 1)", func() {
		It("takes clean: false as drift on at least one system: it passes when VM02 drifts, and fails naming the clean systems when none does", func() {
			ok(csm(dir, "run", scenario("drift.yaml", "{clean: false}", 0), "--quiet"))
			ok(csm(dir, "run", scenario("exact.yaml", "{clean: false, drift: [VM02]}", 0), "--quiet"))
			fails(csm(dir, "run", scenario("exact-wrong.yaml", "{drift: [VM01]}", 0), "--quiet"),
				"expectation servcheck failed: got drift VM02, expected drift VM01")

			r := csm(dir, "run", scenario("clean.yaml", "{clean: false}", 6), "--quiet", "--report", "json")
			fails(r, "expectation servcheck failed: got clean, expected drift on at least one system")
			Expect(r.stdout).To(ContainSubstring(`"want": "drift"`))
			ok(csm(dir, "run", scenario("clean-true.yaml", "{clean: true}", 6), "--quiet"))
		})

		It("is refused by validate, at its line, when it says clean: true and lists drift, or says neither", func() {
			both := scenario("both.yaml", "{clean: true, drift: [VM02]}", 0)
			r := csm(dir, "validate", both)
			fails(r, both+":14:14: servcheck: clean: true wants no drift, and drift: lists VM02")
			Expect(r.stderr).To(ContainSubstring("clean: false"), "the fix: write clean: false, or leave clean out")

			neither := scenario("neither.yaml", "{}", 0)
			fails(csm(dir, "validate", neither), neither+":14:14: servcheck says neither clean nor drift")
			Expect(ok(csm(dir, "validate", scenario("fine.yaml", "{clean: false}", 0)))).To(ContainSubstring("fine.yaml: ok"))
		})
	})

	Describe("the version (item 2)", func() {
		// goVersion is what the Go toolchain reads from a binary's build
		// info: the main module's version, and the VCS settings.
		goVersion := func(bin string) map[string]string {
			GinkgoHelper()
			out, err := exec.Command("go", "version", "-m", bin).Output()
			Expect(err).NotTo(HaveOccurred())
			info := map[string]string{}
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				f := strings.Split(strings.TrimSpace(sc.Text()), "\t")
				switch {
				case len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/csmsim/csmsim":
					info["version"] = f[2]
				case len(f) == 2 && f[0] == "build":
					k, v, _ := strings.Cut(f[1], "=")
					info[k] = v
				}
			}
			Expect(info).To(HaveKey("version"), string(out))
			return info
		}

		// vcsBuild builds csmsim from a git repository of this tree's
		// sources, so that the build records a revision whatever this
		// checkout is (a worktree, whose .git the go command does not
		// follow) and whatever GOFLAGS says; edit then changes the tree.
		vcsBuild := func(edit bool) (bin, head string) {
			GinkgoHelper()
			src := filepath.Join(dir, "src")
			if _, err := os.Stat(src); err != nil {
				list := exec.Command("go", "list", "-deps", "-f",
					`{{if and .Module .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}`, "./cmd/csmsim")
				list.Dir = root
				out, err := list.Output()
				Expect(err).NotTo(HaveOccurred())
				files := []string{"go.mod", "go.sum"}
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					f := strings.Fields(l)
					rel, err := filepath.Rel(root, f[0])
					Expect(err).NotTo(HaveOccurred())
					for _, name := range f[1:] {
						files = append(files, filepath.Join(rel, name))
					}
				}
				for _, f := range files {
					b, err := os.ReadFile(filepath.Join(root, f))
					Expect(err).NotTo(HaveOccurred())
					Expect(os.MkdirAll(filepath.Join(src, filepath.Dir(f)), 0o755)).To(Succeed())
					Expect(os.WriteFile(filepath.Join(src, f), b, 0o644)).To(Succeed())
				}
				for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=csmsim", "-c", "user.email=csmsim@example.com", "commit", "-q", "-m", "the sources"}} {
					out, err := exec.Command("git", append([]string{"-C", src}, args...)...).CombinedOutput()
					Expect(err).NotTo(HaveOccurred(), string(out))
				}
			}
			if edit {
				Expect(os.WriteFile(filepath.Join(src, "NOTES"), []byte("not committed\n"), 0o644)).To(Succeed())
			}
			out, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output()
			Expect(err).NotTo(HaveOccurred())
			bin = filepath.Join(dir, fmt.Sprintf("csmsim-%v", edit))
			build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/csmsim")
			build.Dir = src
			b, err := build.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(b))
			return bin, strings.TrimSpace(string(out))
		}

		It("is printed by csmsim version and csmsim --version: module version, VCS revision and whether the tree was modified, as go version -m reads them", func() {
			for _, edit := range []bool{false, true} {
				bin, head := vcsBuild(edit)
				out := ok(runBinary(bin, dir, nil, "version"))
				Expect(ok(runBinary(bin, dir, nil, "--version"))).To(Equal(out))
				info := goVersion(bin)
				Expect(info["vcs.revision"]).To(Equal(head))
				Expect(info["vcs.modified"]).To(Equal(strconv.FormatBool(edit)))

				modified, mark := "no", ")"
				if edit {
					modified, mark = "yes", ", modified)"
				}
				Expect(out).To(HavePrefix(fmt.Sprintf("csmsim %s (revision %s%s\n", info["version"], head[:12], mark)))
				Expect(out).To(ContainSubstring("\nmodule    github.com/csmsim/csmsim " + info["version"] + "\n"))
				Expect(out).To(ContainSubstring("\nrevision  " + head + " " + info["vcs.time"] + "\n"))
				Expect(out).To(ContainSubstring("\nmodified  " + modified + "\n"))
				Expect(out).To(MatchRegexp(`\ngo        go1\.\d+`))
			}
		})

		It("says so when the binary carries no VCS information", func() {
			bin, err := gexec.Build("github.com/csmsim/csmsim/cmd/csmsim", "-buildvcs=false")
			Expect(err).NotTo(HaveOccurred())
			Expect(goVersion(bin)).NotTo(HaveKey("vcs.revision"))
			out := ok(runBinary(bin, dir, nil, "version"))
			Expect(out).To(HavePrefix("csmsim (devel) (no VCS information)\n"))
			Expect(out).To(ContainSubstring("\nrevision  unknown: built without VCS information (go test, go build -buildvcs=false, or outside a git checkout)\n"))
			Expect(out).To(ContainSubstring("\nmodified  unknown\n"))
			r := runBinary(bin, root, nil, "run", "scenarios/refuse-unknown-nickname.yaml", "--quiet", "--report", "json")
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(r.stdout).To(ContainSubstring(`"csmsim": "(devel) (no VCS information)"`))
		})

		It("is in every report: JSON, JUnit properties, the HTML header, and the sweep's JSON and JUnit", func() {
			// What the suite's binary says it is, revision or not.
			v := strings.TrimPrefix(strings.SplitN(ok(csm(dir, "version")), "\n", 2)[0], "csmsim ")
			Expect(v).NotTo(BeEmpty())
			quoted, err := json.Marshal(v)
			Expect(err).NotTo(HaveOccurred())
			file := filepath.Join(root, "scenarios/refuse-unknown-nickname.yaml")

			out := ok(csm(dir, "run", file, "--quiet", "--report", "json"))
			Expect(out).To(HavePrefix("{\n  \"csmsim\": " + string(quoted) + ",\n  \"scenario\": "))
			Expect(ok(csm(dir, "run", file, "--quiet", "--report", "json"))).To(Equal(out), "the same binary writes the same bytes")
			two := ok(csm(dir, "run", file, file, "--quiet", "--report", "json"))
			Expect(strings.Count(two, `"csmsim": `+string(quoted))).To(Equal(2))

			property := fmt.Sprintf(`<properties>
      <property name="csmsim.version" value="%s"></property>
    </properties>`, html.EscapeString(v))
			junit := ok(csm(dir, "run", file, "--quiet", "--report", "junit"))
			Expect(junit).To(ContainSubstring(`<testsuite name="refuse-unknown-nickname"`))
			Expect(junit).To(ContainSubstring(property))

			page := ok(csm(dir, "run", file, "--quiet", "--report", "html"))
			doc, err := html.Parse(strings.NewReader(page))
			Expect(err).NotTo(HaveOccurred())
			var header, generator string
			htmltest.Walk(doc, func(n *html.Node) {
				if n.Data == "header" {
					header = htmltest.Text(n)
				}
				if n.Data == "meta" && htmltest.Attr(n, "name") == "generator" {
					generator = htmltest.Attr(n, "content")
				}
			})
			Expect(header).To(ContainSubstring("written by csmsim " + v))
			Expect(generator).To(Equal("csmsim " + v))

			tiny := write("tiny.yaml", tinyScenario)
			ok(csm(dir, "sweep", tiny, "--seeds", "1..2", "--report", "json", "--out", "s.json"))
			b, err := os.ReadFile(filepath.Join(dir, "s.json"))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(ContainSubstring(`"csmsim": ` + string(quoted)))
			ok(csm(dir, "sweep", tiny, "--seeds", "1..2", "--report", "junit", "--out", "s.xml"))
			b, err = os.ReadFile(filepath.Join(dir, "s.xml"))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(ContainSubstring(property))
		})

		It("keeps sweep merge to the shards of one csmsim", func() {
			tiny := write("tiny.yaml", tinyScenario)
			for i := 1; i <= 2; i++ {
				ok(csm(dir, "sweep", tiny, "--seeds", "1..4", "--shard", fmt.Sprintf("%d/2", i), "--report", "json", "--out", fmt.Sprintf("s%d.json", i)))
			}
			ok(csm(dir, "sweep", "merge", "s1.json", "s2.json", "--out", "m.json"))
			b, err := os.ReadFile(filepath.Join(dir, "s2.json"))
			Expect(err).NotTo(HaveOccurred())
			other := regexp.MustCompile(`"csmsim": "[^"]*"`).ReplaceAll(b, []byte(`"csmsim": "v9.9.9 (revision 0123456789ab)"`))
			Expect(other).NotTo(Equal(b))
			Expect(os.WriteFile(filepath.Join(dir, "s2.json"), other, 0o644)).To(Succeed())
			fails(csm(dir, "sweep", "merge", "s1.json", "s2.json"), "s2.json was written by csmsim v9.9.9 (revision 0123456789ab), s1.json by csmsim ")
		})
	})

	It("README says which make targets install the referees, as the Makefile does (item 3)", func() {
		readme, err := os.ReadFile(filepath.Join(root, "README.md"))
		Expect(err).NotTo(HaveOccurred())
		claim := regexp.MustCompile("((?:`make [a-z-]+`(?:,\\s+|\\s+and\\s+)?)+) first runs? `make deps`").FindSubmatch(readme)
		Expect(claim).NotTo(BeNil(), "README says which targets run make deps")
		var claimed []string
		for _, m := range regexp.MustCompile("`make ([a-z-]+)`").FindAllSubmatch(claim[1], -1) {
			claimed = append(claimed, string(m[1]))
		}
		// make -p prints the rules it read; the goal, which no rule makes,
		// keeps it from running any recipe (make -n would still run the
		// lines that call $(MAKE)).
		cmd := exec.Command("make", "-p", "no-such-goal")
		cmd.Dir = root
		db, _ := cmd.Output()
		prereqs := map[string][]string{}
		for _, m := range regexp.MustCompile(`(?m)^([a-z-]+):(.*)$`).FindAllSubmatch(db, -1) {
			prereqs[string(m[1])] = strings.Fields(string(m[2]))
		}
		Expect(prereqs).To(HaveKey("run"), string(db))
		var runsDeps func(string) bool
		runsDeps = func(t string) bool {
			return slices.ContainsFunc(prereqs[t], func(p string) bool { return p == "deps" || runsDeps(p) })
		}
		var installs []string
		for t := range prereqs {
			// Only the targets README speaks of.
			if runsDeps(t) && strings.Contains(string(readme), "`make "+t+"`") {
				installs = append(installs, t)
			}
		}
		slices.Sort(installs)
		slices.Sort(claimed)
		Expect(claimed).To(Equal(installs))
		Expect(installs).NotTo(ContainElement("run"), "make run needs no referee")
		Expect(string(readme)).To(MatchRegexp("`make run` needs none\\s+of\\s+them"))
	})

	It("draws the HTML timeline from the scenario's start, labels the steps along it, and names system, phase, bytes and duration on each bar (item 4)", func() {
		page := filepath.Join(dir, "r.html")
		ok(csm(root, "run", "scenarios/rollout-budget-resume.yaml", "--quiet", "--report", "html", "--out", page))
		b, err := os.ReadFile(page)
		Expect(err).NotTo(HaveOccurred())
		// Chromium's DOM is the page as a reader's browser builds it.
		dom, err := htmltest.ChromiumDOM(dir, string(b))
		Expect(err).NotTo(HaveOccurred())
		doc, err := html.Parse(strings.NewReader(dom))
		Expect(err).NotTo(HaveOccurred())

		var svg, steps *html.Node
		htmltest.Walk(doc, func(n *html.Node) {
			if n.Data == "svg" && svg == nil {
				svg = n
			}
			if n.Data == "table" && htmltest.Attr(n, "class") == "steps" {
				steps = n
			}
		})
		Expect(svg).NotTo(BeNil())
		Expect(steps).NotTo(BeNil())
		var axisX float64
		var ticks []*html.Node
		var bars, stepMarks, stepLabels []string
		htmltest.Walk(svg, func(n *html.Node) {
			switch cls := htmltest.Attr(n, "class"); {
			case n.Data == "path" && cls == "axis":
				_, err := fmt.Sscanf(htmltest.Attr(n, "d"), "M%g", &axisX)
				Expect(err).NotTo(HaveOccurred())
			case n.Data == "text" && cls == "tick":
				ticks = append(ticks, n)
			case n.Data == "g" && cls == "step":
				htmltest.Walk(n, func(c *html.Node) {
					switch c.Data {
					case "title":
						stepMarks = append(stepMarks, htmltest.Text(c))
					case "text":
						stepLabels = append(stepLabels, htmltest.Text(c))
					}
				})
			case n.Data == "rect":
				bars = append(bars, htmltest.Text(n))
				x, err := strconv.ParseFloat(htmltest.Attr(n, "x"), 64)
				Expect(err).NotTo(HaveOccurred())
				Expect(x).To(BeNumerically(">", axisX+1), "the principal's steps took time before the first phase")
			}
		})
		Expect(ticks).NotTo(BeEmpty())
		Expect(htmltest.Text(ticks[0])).To(MatchRegexp(`^0m?s$`), "the axis starts at the scenario's start")
		Expect(htmltest.Attr(ticks[0], "x")).To(Equal(strconv.Itoa(int(axisX))))

		// Every step that ran has a mark titled with its line, at 0 for the
		// first; every step with phases is numbered.
		ran := 0
		htmltest.Walk(steps, func(n *html.Node) {
			if n.Data == "tr" && !strings.Contains(htmltest.Text(n), "skipped") && htmltest.Text(n) != "" && n.Parent.Data == "tbody" {
				ran++
			}
		})
		Expect(ran).To(BeNumerically(">", 20))
		Expect(stepMarks).To(HaveLen(ran))
		Expect(stepMarks[0]).To(MatchRegexp(`^step 1 \(servmgr\) at 0\.00\ds: initialize 720$`))
		Expect(stepMarks).To(ContainElement(MatchRegexp(`^step 23 \(servmgr\) at \d+\.\d{3}s: srvlvl send 720 vm010802_BLD2 all \(test CANARY CANARY WAVES 2,50% BUDGET 2$`)))
		for _, b := range bars {
			step := regexp.MustCompile(`, step (\d+): `).FindStringSubmatch(b)
			Expect(step).NotTo(BeNil(), b)
			Expect(stepLabels).To(ContainElement(step[1]), "the step of %s is numbered", b)
		}

		// Hover: system, phase, step, duration with start and end, bytes of
		// a transfer, and the outcome.
		hover := regexp.MustCompile(`^(VM\d\d) (transfer|validate|load|put2prod), step (\d+): (\d+\.\d{3})s, from (\d+\.\d{3})s to (\d+\.\d{3})s(, (\d+) bytes)?, (ok|failed)`)
		transfers := 0
		for _, t := range bars {
			m := hover.FindStringSubmatch(t)
			Expect(m).NotTo(BeNil(), t)
			d, _ := strconv.ParseFloat(m[4], 64)
			from, _ := strconv.ParseFloat(m[5], 64)
			to, _ := strconv.ParseFloat(m[6], 64)
			Expect(d).To(BeNumerically("~", to-from, 0.0015), t)
			Expect(m[7] != "").To(Equal(m[2] == "transfer"), "bytes on transfers: "+t)
			if m[2] == "transfer" && m[9] == "ok" {
				transfers++
				Expect(strconv.Atoi(m[8])).To(BeNumerically(">", 0), t)
			}
		}
		Expect(transfers).To(BeNumerically(">=", 12))
		Expect(bars).To(ContainElement(MatchRegexp(`^VM08 transfer, step 23: .*, 0 bytes, failed — `)), "an unreachable system sent nothing")
	})

	Describe("errors that say what to do (item 5)", func() {
		It("says what a state directory is, and the command that makes one, when --state is missing", func() {
			want := "--state DIR is required: the state directory holds a principal on disk (its VMPSFS file pool, MAINTCSM and the CSM tables); create one with csmsim principal init --state DIR"
			fails(csm(dir, "servmgr", "srvlvl query 720"), want)
			fails(csm(dir, "servmgr", "--", "srvlvl", "query", "720"), want)
			fails(csm(dir, "cms", "QUERY", "FILEPOOL", "VMPSFS:"), want)
			fails(csm(dir, "table", "check"), want)
			fails(csm(dir, "fixtures", "sample"), want)
			fails(csm(dir, "principal", "init"), "--state DIR is required: the directory to create the principal in, e.g. csmsim principal init --state out/principal")
		})

		It("lists the scenarios that exist when run, validate, sweep or shrink is given one that does not", func() {
			files, err := filepath.Glob(filepath.Join(root, "scenarios", "*.yaml"))
			Expect(err).NotTo(HaveOccurred())
			Expect(len(files)).To(BeNumerically(">", 10))
			for _, args := range [][]string{{"run", "nosuch.yaml"}, {"validate", "nosuch.yaml"}, {"sweep", "nosuch.yaml", "--seeds", "1..2"},
				{"shrink", "nosuch.yaml", "--seed", "1", "--out", filepath.Join(dir, "m.yaml")}} {
				r := csm(root, args...)
				fails(r, "nosuch.yaml: no such scenario file; the scenarios in scenarios (csmsim list shows what each does): ")
				for _, f := range files {
					Expect(r.stderr).To(ContainSubstring("scenarios/"+filepath.Base(f)), args)
				}
			}
			// Beside the file named, if there are any there.
			write("mine.yaml", tinyScenario)
			fails(csm(root, "run", filepath.Join(dir, "nosuch.yaml")), "nosuch.yaml: no such scenario file; the scenarios in "+dir+" (csmsim list "+dir+" shows what each does): "+filepath.Join(dir, "mine.yaml"))
		})
	})

	It("has make vet run staticcheck, pinned in go.mod as a go tool (item 6)", func() {
		cmd := exec.Command("make", "-n", "vet")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(string(out)).To(MatchRegexp(`(?m)^go tool staticcheck \./\.\.\.$`))

		mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(mod)).To(MatchRegexp(`(?m)^\s*honnef\.co/go/tools/cmd/staticcheck$`), "a tool directive")
		pinned := regexp.MustCompile(`(?m)^\s*honnef\.co/go/tools (v\S+)`).FindStringSubmatch(string(mod))
		Expect(pinned).NotTo(BeNil())
		cmd = exec.Command("go", "tool", "staticcheck", "-version")
		cmd.Dir = root
		out, err = cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(string(out)).To(ContainSubstring("(" + strings.TrimPrefix(pinned[1], "v") + ")"))
	})
})
