package harness_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/net/html"

	"github.com/csmsim/csmsim/sim/fault"
	"github.com/csmsim/csmsim/sim/harness"
	"github.com/csmsim/csmsim/sim/harness/htmltest"
)

var htmlPhases = []string{"transfer", "validate", "load", "put2prod"}

// htmlSampleReport is a failed run by hand: three systems, every phase,
// one failed validate, a halted roll-out and a failing step whose
// command line needs escaping.
func htmlSampleReport() *harness.Report {
	ms := time.Millisecond
	return &harness.Report{
		Scenario: "rollout-canary-fails",
		File:     "scenarios/rollout-canary-fails.yaml",
		Seed:     42,
		Release:  "VM0802",
		Pass:     false,
		Failures: 2,
		Steps: []harness.StepReport{
			{Index: 1, Kind: "cms", Line: "BUILD VM010802_BLD2", RC: 0, Status: "pass",
				Messages: []string{"CSM1001I"}, Output: []string{"CSM1001I build done"}},
			{Index: 2, Kind: "cms", Line: `SEND TEST <b>&"x"</b>`, RC: 8, Status: "fail",
				Reason: "rc 8, want 0", Messages: []string{"CSM2040E", "CSM2041I"},
				Output: []string{"CSM2040E VM02 validate failed: <checksum>", "CSM2041I halted"}},
			{Index: 3, Kind: "expect", Line: "QUERY VM03", RC: 0, Status: "skipped", Reason: "after a failure"},
		},
		Systems: []harness.SystemReport{
			{Name: "VM01", Level: "VM010802_BLD2", State: "ACTIVE", Prod: "VM010802_BLD2", Managed: true},
			{Name: "VM02", Level: "VM010802_BLD1", State: "FAILED", Prod: "VM010802_BLD1", Managed: true, Error: "validate failed"},
			{Name: "VM03", Level: "VM010802_BLD1", State: "ACTIVE", Prod: "VM010802_BLD1", Managed: true},
		},
		Expectations: []harness.Expectation{
			{Name: "VM01 prod level", Want: "VM010802_BLD2", Got: "VM010802_BLD2", Status: "pass"},
			{Name: "VM02 prod level", Want: "VM010802_BLD2", Got: "VM010802_BLD1", Status: "fail", Reason: "not rolled out"},
		},
		Rollouts: []harness.RolloutReport{{
			Step: 2, ID: "SEND.TEST.VM010802_BLD2.ALL", Halted: true, Reason: "wave 1 failed",
			Waves: [][]string{{"VM01"}, {"VM02", "VM03"}},
			Systems: []harness.RolloutSystem{
				{Name: "VM01", Wave: 0, Status: "done", Run: 1, Message: "CSM2030I"},
				{Name: "VM02", Wave: 1, Status: "failed", Run: 1, Message: "CSM2040E", Reason: "validate failed"},
				{Name: "VM03", Wave: 1, Status: "untouched"},
			},
		}},
		Timeline: []harness.Span{
			{Step: 2, System: "VM01", Phase: "transfer", Start: 0, End: 120 * ms, OK: true, Detail: "3 files, 1.2 MB", Bytes: 1_200_000},
			{Step: 2, System: "VM01", Phase: "validate", Start: 120 * ms, End: 480 * ms, OK: true},
			{Step: 2, System: "VM01", Phase: "load", Start: 480 * ms, End: 900 * ms, OK: true},
			{Step: 2, System: "VM01", Phase: "put2prod", Start: 900 * ms, End: 900 * ms, OK: true, Detail: "instant"},
			{Step: 2, System: "VM02", Phase: "transfer", Start: 950 * ms, End: 1200 * ms, OK: true},
			{Step: 2, System: "VM02", Phase: "validate", Start: 1200 * ms, End: 1300 * ms, OK: false, Detail: `checksum mismatch <a&b>`},
			{Step: 3, System: "VM09", Phase: "transfer", Start: 1400 * ms, End: 1500 * ms, OK: true},
		},
	}
}

func renderHTML(r *harness.Report) string {
	var b bytes.Buffer
	Expect(r.WriteHTML(&b)).To(Succeed())
	return b.String()
}

func parseHTML(page string) *html.Node {
	doc, err := html.Parse(strings.NewReader(page))
	Expect(err).NotTo(HaveOccurred())
	return doc
}

// svgFragment is the page's first <svg>...</svg>, checked to be
// well-formed XML.
func svgFragment(page string) string {
	i := strings.Index(page, "<svg")
	Expect(i).To(BeNumerically(">=", 0), "no <svg> in the page")
	j := strings.Index(page[i:], "</svg>")
	Expect(j).To(BeNumerically(">", 0), "no </svg> in the page")
	frag := page[i : i+j+len("</svg>")]
	dec := xml.NewDecoder(strings.NewReader(frag))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		Expect(err).NotTo(HaveOccurred(), "SVG is not well-formed XML")
	}
	return frag
}

var _ = Describe("HTML report", func() {
	var (
		rep  *harness.Report
		page string
		doc  *html.Node
	)
	BeforeEach(func() {
		rep = htmlSampleReport()
		page = renderHTML(rep)
		doc = parseHTML(page)
	})

	It("is one self-contained page that parses, with a well-formed SVG", func() {
		Expect(page).To(HavePrefix("<!DOCTYPE html>"))
		Expect(htmltest.FindAll(doc, "html")).To(HaveLen(1))
		Expect(htmltest.FindAll(doc, "body")).To(HaveLen(1))
		Expect(htmltest.FindAll(doc, "svg")).To(HaveLen(1))
		svgFragment(page)

		lower := strings.ToLower(page)
		Expect(lower).NotTo(ContainSubstring("http://"))
		Expect(lower).NotTo(ContainSubstring("https://"))
		Expect(lower).NotTo(ContainSubstring("<script"))
		Expect(lower).NotTo(ContainSubstring("<link"))
		for _, tag := range []string{"script", "link", "img", "iframe", "object", "embed"} {
			Expect(htmltest.FindAll(doc, tag)).To(BeEmpty(), tag)
		}
		Expect(lower).NotTo(ContainSubstring(" src="))
		Expect(lower).NotTo(ContainSubstring("@import"))
		Expect(htmltest.FindAll(doc, "style")).To(HaveLen(1))
	})

	It("shows the verdict, scenario, file, seed, release and failures", func() {
		h2 := htmltest.FindAll(doc, "h2")
		Expect(h2).To(HaveLen(1))
		Expect(htmltest.Text(h2[0])).To(Equal("FAIL" + rep.Scenario))
		txt := htmltest.Text(doc)
		for _, s := range []string{rep.File, "42", "VM0802", "failures2"} {
			Expect(txt).To(ContainSubstring(s))
		}
		pass := htmlSampleReport()
		pass.Pass, pass.Failures = true, 0
		Expect(htmltest.Text(htmltest.FindAll(parseHTML(renderHTML(pass)), "h2")[0])).To(HavePrefix("PASS"))
	})

	It("names every system and every phase in the DOM text", func() {
		txt := htmltest.Text(doc)
		for _, s := range []string{"VM01", "VM02", "VM03", "VM09"} {
			Expect(txt).To(ContainSubstring(s))
		}
		for _, p := range htmlPhases {
			Expect(txt).To(ContainSubstring(p))
		}
		// The SVG itself labels each row with a <text> element, in the
		// order of r.Systems, then timeline-only systems.
		svg := htmltest.FindAll(doc, "svg")[0]
		var labels []string
		for _, t := range htmltest.FindAll(svg, "text") {
			if htmltest.Attr(t, "class") == "label" {
				labels = append(labels, htmltest.Text(t))
			}
		}
		Expect(labels).To(Equal([]string{"VM01", "VM02", "VM03", "VM09"}))
	})

	It("draws one rect per span, by phase, with a title, and marks the failed one", func() {
		rects := htmltest.FindAll(doc, "rect")
		Expect(rects).To(HaveLen(len(rep.Timeline)))
		for i, sp := range rep.Timeline {
			r := rects[i]
			cls := strings.Fields(htmltest.Attr(r, "class"))
			Expect(cls).To(ContainElements("span", "ph-"+sp.Phase))
			Expect(htmltest.Attr(r, "data-phase")).To(Equal(sp.Phase))
			w, err := strconv.ParseFloat(htmltest.Attr(r, "width"), 64)
			Expect(err).NotTo(HaveOccurred())
			Expect(w).To(BeNumerically(">=", 1), "instant phases stay visible")
			titles := htmltest.FindAll(r, "title")
			Expect(titles).To(HaveLen(1))
			Expect(htmltest.Text(titles[0])).To(HavePrefix(fmt.Sprintf("%s %s, step %d: ", sp.System, sp.Phase, sp.Step)))
			if sp.OK {
				Expect(cls).NotTo(ContainElement("failed"))
			} else {
				Expect(cls).To(ContainElement("failed"))
				Expect(htmltest.Attr(r, "fill")).To(HavePrefix("url(#"))
			}
		}
		// Hovering a bar names system, phase, step, duration, a transfer's
		// bytes and the outcome.
		Expect(htmltest.Text(htmltest.FindAll(rects[0], "title")[0])).To(Equal("VM01 transfer, step 2: 0.120s, from 0.000s to 0.120s, 1200000 bytes, ok — 3 files, 1.2 MB"))
		Expect(htmltest.Text(htmltest.FindAll(rects[4], "title")[0])).To(Equal("VM02 transfer, step 2: 0.250s, from 0.950s to 1.200s, 0 bytes, ok"))
		Expect(htmltest.Text(htmltest.FindAll(rects[5], "title")[0])).To(Equal("VM02 validate, step 2: 0.100s, from 1.200s to 1.300s, failed — checksum mismatch <a&b>"))
		// each phase has its own colour
		fills := map[string]string{}
		for i, sp := range rep.Timeline {
			if sp.OK {
				fills[sp.Phase] = htmltest.Attr(rects[i], "fill")
			}
		}
		Expect(fills).To(HaveLen(4))
		seen := map[string]bool{}
		for _, f := range fills {
			Expect(seen).NotTo(HaveKey(f))
			seen[f] = true
		}
		// the hatch pattern the failed span uses is defined in the SVG
		failed := rects[5]
		id := strings.TrimSuffix(strings.TrimPrefix(htmltest.Attr(failed, "fill"), "url(#"), ")")
		var ids []string
		for _, p := range htmltest.FindAll(doc, "pattern") {
			ids = append(ids, htmltest.Attr(p, "id"))
		}
		Expect(ids).To(ContainElement(id))
	})

	It("has a time axis, a legend and a phases-per-system table", func() {
		ticks := func(doc *html.Node) []string {
			var out []string
			for _, t := range htmltest.FindAll(htmltest.FindAll(doc, "svg")[0], "text") {
				if htmltest.Attr(t, "class") == "tick" {
					out = append(out, htmltest.Text(t))
				}
			}
			return out
		}
		Expect(ticks(doc)).To(Equal([]string{"0s", "0.2s", "0.4s", "0.6s", "0.8s", "1s", "1.2s", "1.4s"}))
		short := htmlSampleReport()
		short.Timeline = short.Timeline[:3] // up to 900ms: millisecond ticks
		Expect(ticks(parseHTML(renderHTML(short)))).To(Equal([]string{"0ms", "100ms", "200ms", "300ms", "400ms", "500ms", "600ms", "700ms", "800ms", "900ms"}))
		// The axis starts at the scenario's start, not at the first phase.
		late := htmlSampleReport()
		for i := range late.Timeline {
			late.Timeline[i].Start += 1900 * time.Millisecond
			late.Timeline[i].End += 1900 * time.Millisecond
		}
		d := parseHTML(renderHTML(late))
		Expect(ticks(d)).To(Equal([]string{"0s", "0.5s", "1s", "1.5s", "2s", "2.5s", "3s"}))
		first := htmltest.FindAll(d, "rect")[0]
		Expect(htmltest.Attr(first, "x")).To(Equal("630.8"), "1.9s of 3.4s along the 1000px plot, after the 72px labels")

		var legend *html.Node
		for _, d := range htmltest.FindAll(doc, "div") {
			if htmltest.Attr(d, "class") == "legend" {
				legend = d
			}
		}
		Expect(legend).NotTo(BeNil())
		for _, p := range htmlPhases {
			Expect(htmltest.Text(legend)).To(ContainSubstring(p))
		}

		var phases *html.Node
		for _, t := range htmltest.FindAll(doc, "table") {
			if htmltest.Attr(t, "class") == "phases" {
				phases = t
			}
		}
		Expect(phases).NotTo(BeNil())
		var rows [][]string
		for _, tr := range htmltest.FindAll(phases, "tr") {
			var cells []string
			for c := tr.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					cells = append(cells, htmltest.Text(c))
				}
			}
			rows = append(rows, cells)
		}
		Expect(rows).To(Equal([][]string{
			{"system", "transfer", "validate", "load", "put2prod"},
			{"VM01", "0.120s (1)", "0.360s (1)", "0.420s (1)", "0.000s (1)"},
			{"VM02", "0.250s (1)", "0.100s (1), 1 failed", "–", "–"},
			{"VM03", "–", "–", "–", "–"},
			{"VM09", "0.100s (1)", "–", "–", "–"},
		}))
	})

	It("shows steps, systems, roll-outs and expectations", func() {
		txt := htmltest.Text(doc)
		Expect(txt).To(ContainSubstring("rc 8, want 0"))
		Expect(txt).To(ContainSubstring("CSM2040E CSM2041I"))
		Expect(htmltest.FindAll(doc, "details")).To(HaveLen(2))
		Expect(txt).To(ContainSubstring("CSM2040E VM02 validate failed: <checksum>"))
		Expect(txt).To(ContainSubstring("SEND.TEST.VM010802_BLD2.ALL"))
		Expect(txt).To(ContainSubstring("halted: wave 1 failed"))
		Expect(txt).To(ContainSubstring("canary: VM01; 1: VM02 VM03"))
		Expect(txt).To(ContainSubstring("not rolled out"))

		var ro *html.Node
		for _, t := range htmltest.FindAll(doc, "table") {
			if htmltest.Attr(t, "class") == "rollout-systems" {
				ro = t
			}
		}
		Expect(ro).NotTo(BeNil())
		var statuses, waves []string
		for _, tr := range htmltest.FindAll(ro, "tr")[1:] {
			tds := htmltest.FindAll(tr, "td")
			waves = append(waves, htmltest.Text(tds[1]))
			statuses = append(statuses, htmltest.Attr(tds[2], "class")+"="+htmltest.Text(tds[2]))
		}
		Expect(waves).To(Equal([]string{"canary", "1", "1"}))
		Expect(statuses).To(Equal([]string{"st-ok=done", "st-fail=failed", "st-skip=untouched"}))
	})

	It("lists the invariants violated and every fault that fired, with what it hit and when it healed", func() {
		rep := htmlSampleReport()
		at := time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)
		rep.Faults = []fault.Fired{
			{Kind: fault.Crash, System: "VM02", Step: 2, Point: "phase load", At: at, Until: at.Add(10 * time.Minute)},
			{Kind: fault.PrincipalCrash, Step: 2, Point: "after 1 systems", At: at.Add(time.Second)},
		}
		rep.Violations = []harness.Violation{{Invariant: harness.InvTestBuildWhole, Step: 2, System: "VM02", Seed: 42, Detail: "CMS BUILD DMSINS TEXT differs"}}
		var b bytes.Buffer
		Expect(rep.WriteHTML(&b)).To(Succeed())
		d, err := html.Parse(&b)
		Expect(err).NotTo(HaveOccurred())
		rows := func(class string) []string {
			var out []string
			for _, t := range htmltest.FindAll(d, "table") {
				if htmltest.Attr(t, "class") == class {
					for _, tr := range htmltest.FindAll(t, "tr")[1:] {
						var cells []string
						for _, td := range htmltest.FindAll(tr, "td") {
							cells = append(cells, htmltest.Text(td))
						}
						out = append(out, strings.Join(cells, " | "))
					}
				}
			}
			return out
		}
		Expect(rows("violations")).To(Equal([]string{"test-build-whole | after step 2 on VM02 | 42 | CMS BUILD DMSINS TEXT differs"}))
		Expect(rows("faults")).To(Equal([]string{
			"2 | crash | VM02 | phase load | 2026-11-23 14:05:00 | 2026-11-23 14:15:00",
			"2 | principal_crash | principal | after 1 systems | 2026-11-23 14:05:01 | at the end of the steps",
		}))
		Expect(htmltest.Text(doc)).NotTo(ContainSubstring("Faults"), "a run without faults has no such section")
	})

	It("escapes special characters from the report", func() {
		Expect(page).NotTo(ContainSubstring(`<b>&"x"`))
		Expect(page).To(ContainSubstring(`&lt;b&gt;&amp;&#34;x&#34;&lt;/b&gt;`))
		Expect(page).NotTo(ContainSubstring("<a&b>"))
		Expect(htmltest.FindAll(doc, "b")).To(HaveLen(len(rep.Rollouts[0].Waves)), "only the waves' own <b> labels")
		Expect(htmltest.Text(doc)).To(ContainSubstring(`SEND TEST <b>&"x"</b>`))
	})

	It("is byte-identical for two renders, alone and with several reports", func() {
		Expect(renderHTML(htmlSampleReport())).To(Equal(page))
		all := func() string {
			pass := htmlSampleReport()
			pass.Scenario, pass.Pass, pass.Failures = "second", true, 0
			var b bytes.Buffer
			Expect(harness.WriteHTMLAll(&b, []*harness.Report{htmlSampleReport(), pass})).To(Succeed())
			return b.String()
		}
		a, b := all(), all()
		Expect(a).To(Equal(b))
		d := parseHTML(a)
		Expect(htmltest.FindAll(d, "section")).To(HaveLen(2))
		Expect(htmltest.FindAll(d, "svg")).To(HaveLen(2))
		ids := map[string]bool{}
		for _, p := range htmltest.FindAll(d, "pattern") {
			Expect(ids).NotTo(HaveKey(htmltest.Attr(p, "id")), "element ids are unique across sections")
			ids[htmltest.Attr(p, "id")] = true
		}
	})

	It("marks each step that ran along the axis, numbered where there is room, with its line on hover", func() {
		ms := time.Millisecond
		rep.StepStart = map[int]time.Duration{1: 0, 2: 1 * ms}
		d := parseHTML(renderHTML(rep))
		var titles, labels []string
		for _, g := range htmltest.FindAll(d, "g") {
			if htmltest.Attr(g, "class") != "step" {
				continue
			}
			titles = append(titles, htmltest.Text(htmltest.FindAll(g, "title")[0]))
			for _, t := range htmltest.FindAll(g, "text") {
				labels = append(labels, htmltest.Text(t))
			}
		}
		Expect(titles).To(Equal([]string{
			"step 1 (cms) at 0.000s: BUILD VM010802_BLD2",
			`step 2 (cms) at 0.001s: SEND TEST <b>&"x"</b>`,
		}))
		Expect(labels).To(Equal([]string{"2"}), "step 2 has phases: its number wins the room over step 1's, a pixel away")
		var dashed []string
		for _, p := range htmltest.FindAll(d, "path") {
			if htmltest.Attr(p, "class") == "stepline" {
				dashed = append(dashed, htmltest.Text(p))
			}
		}
		Expect(dashed).To(Equal([]string{"step 2 starts at 0.001s", "step 3 starts at 1.400s"}), "when the step began, where the report says")
		Expect(htmltest.FindAll(parseHTML(renderHTML(htmlSampleReport())), "g")).To(BeEmpty(), "no step times, no marks")
	})

	It("numbers every step with phases, a row below where they ran too close together for one", func() {
		ms := time.Millisecond
		rep.StepStart = map[int]time.Duration{1: 0, 2: 1 * ms, 3: 2 * ms} // steps 2 and 3 have phases
		d := parseHTML(renderHTML(rep))
		ys := map[string]string{}
		for _, g := range htmltest.FindAll(d, "g") {
			for _, t := range htmltest.FindAll(g, "text") {
				if htmltest.Attr(g, "class") == "step" {
					ys[htmltest.Text(t)] = htmltest.Attr(t, "y")
				}
			}
		}
		Expect(ys).To(HaveKey("2"))
		Expect(ys).To(HaveKey("3"))
		Expect(ys["2"]).NotTo(Equal(ys["3"]), "a pixel apart: one row each")
		Expect(ys).NotTo(HaveKey("1"), "a step without phases gets no new row")
		h, err := strconv.Atoi(htmltest.Attr(htmltest.FindAll(d, "svg")[0], "height"))
		Expect(err).NotTo(HaveOccurred())
		y3, err := strconv.Atoi(ys["3"])
		Expect(err).NotTo(HaveOccurred())
		Expect(y3).To(BeNumerically("<", h), "the second row is inside the drawing")
	})

	It("says so when there is no timeline", func() {
		rep.Timeline = nil
		p := renderHTML(rep)
		Expect(p).To(ContainSubstring("no managed-system phases in this run"))
		Expect(p).NotTo(ContainSubstring("<svg"))
	})

	It("fits 54 systems, one 18px row each, with a seconds axis", func() {
		rep.Systems = nil
		rep.Timeline = nil
		for i := 1; i <= 54; i++ {
			name := fmt.Sprintf("VM%02d", i)
			rep.Systems = append(rep.Systems, harness.SystemReport{Name: name, Managed: true})
			at := time.Duration(i) * 100 * time.Millisecond
			for j, ph := range htmlPhases {
				s := at + time.Duration(j)*50*time.Millisecond
				rep.Timeline = append(rep.Timeline, harness.Span{Step: 1 + i/10, System: name, Phase: ph, Start: s, End: s + 50*time.Millisecond, OK: true})
			}
		}
		p := renderHTML(rep)
		svgFragment(p)
		d := parseHTML(p)
		svg := htmltest.FindAll(d, "svg")[0]
		h, err := strconv.Atoi(htmltest.Attr(svg, "height"))
		Expect(err).NotTo(HaveOccurred())
		Expect(h).To(BeNumerically(">=", 54*18))
		Expect(htmltest.FindAll(svg, "rect")).To(HaveLen(54 * 4))
		var labels, ticks int
		for _, t := range htmltest.FindAll(svg, "text") {
			switch htmltest.Attr(t, "class") {
			case "label":
				labels++
			case "tick":
				ticks++
				Expect(htmltest.Text(t)).To(HaveSuffix("s"))
				Expect(htmltest.Text(t)).NotTo(HaveSuffix("ms"))
			}
		}
		Expect(labels).To(Equal(54))
		Expect(ticks).To(BeNumerically(">=", 4))
	})

	It("renders in headless chromium with every system, phase and the verdict", func() {
		dom := chromiumDOM(page)
		Expect(dom).To(ContainSubstring("<svg"))
		for _, s := range []string{"VM01", "VM02", "VM03", "VM09"} {
			Expect(dom).To(ContainSubstring(">"+s+"</text>"), "system %s as SVG text", s)
		}
		for _, p := range htmlPhases {
			Expect(dom).To(ContainSubstring(p))
		}
		Expect(dom).To(ContainSubstring(`>FAIL</span>`))
		Expect(strings.Count(dom, "<rect ")).To(Equal(len(rep.Timeline)))
		Expect(dom).To(ContainSubstring(`class="span ph-validate failed"`))
		Expect(dom).To(ContainSubstring("rollout-canary-fails"))
		Expect(dom).To(ContainSubstring(`<text class="tick" x="72" y="18">0s</text>`), "the axis starts at 0")
		Expect(dom).To(ContainSubstring("<title>VM01 transfer, step 2: 0.120s, from 0.000s to 0.120s, 1200000 bytes, ok — 3 files, 1.2 MB</title>"))
	})
})

// chromiumDOM renders page in headless Debian chromium and returns the
// DOM it built. A machine without chromium fails: `make deps` installs it.
func chromiumDOM(page string) string {
	GinkgoHelper()
	dom, err := htmltest.ChromiumDOM(GinkgoT().TempDir(), page)
	Expect(err).NotTo(HaveOccurred())
	return dom
}
