package harness_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/harness"
)

var _ = Describe("the JSON report, read back", func() {
	// Two runs timed on the wall clock, as csmsim run times them: faults
	// that fired (with their times), a staged roll-out, a distant system.
	var reports []*harness.Report
	BeforeEach(func() {
		if reports != nil {
			return
		}
		for _, f := range []string{"../../scenarios/fault-network.yaml", "../../scenarios/rollout-deadline.yaml"} {
			sc, err := harness.Load(f)
			Expect(err).NotTo(HaveOccurred())
			rep, err := harness.Run(context.Background(), sc, harness.Options{Now: time.Now})
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Pass).To(BeTrue(), rep.FailureText())
			Expect(rep.Timeline).NotTo(BeEmpty())
			reports = append(reports, rep)
		}
		Expect(reports[0].Faults).NotTo(BeEmpty())
		Expect(reports[1].Rollouts).NotTo(BeEmpty())
	})
	html := func(rs []*harness.Report) string {
		GinkgoHelper()
		var b bytes.Buffer
		Expect(harness.WriteHTMLAll(&b, rs)).To(Succeed())
		return b.String()
	}
	roundTrip := func(o harness.JSONOptions) (string, []*harness.Report) {
		GinkgoHelper()
		var b bytes.Buffer
		Expect(harness.WriteJSONWith(&b, reports, o)).To(Succeed())
		back, err := harness.ReadJSON(bytes.NewReader(b.Bytes()), "r.json")
		Expect(err).NotTo(HaveOccurred())
		Expect(back).To(HaveLen(len(reports)))
		return b.String(), back
	}

	It("with its timeline gives the same HTML page, byte for byte, as the run itself", func() {
		doc, back := roundTrip(harness.JSONOptions{Timeline: true})
		Expect(doc).To(ContainSubstring(`"timeline": [`))
		Expect(doc).To(ContainSubstring(`"fault_times": [`))
		Expect(html(back)).To(Equal(html(reports)))

		// and the same JSON again
		var again bytes.Buffer
		Expect(harness.WriteJSONWith(&again, back, harness.JSONOptions{Timeline: true})).To(Succeed())
		Expect(again.String()).To(Equal(doc))
	})

	It("without it is the report as before, and its page says the run has no timeline", func() {
		doc, back := roundTrip(harness.JSONOptions{})
		var plain bytes.Buffer
		Expect(harness.WriteJSONAll(&plain, reports)).To(Succeed())
		Expect(doc).To(Equal(plain.String()))
		Expect(doc).NotTo(ContainSubstring("timeline"))
		Expect(doc).NotTo(ContainSubstring("fault_times"))
		page := html(back)
		Expect(strings.Count(page, "no managed-system phases in this run")).To(Equal(2))
		Expect(page).NotTo(ContainSubstring("0001-01-01"), "a fault's unknown time is no date")
		Expect(page).To(ContainSubstring(`<td class="mono">–</td><td class="mono">–</td>`))
		// Everything but the timeline and the faults' times is as the run's.
		cut := func(p string) string {
			var out []string
			for _, sec := range strings.Split(p, "<h3>Timeline</h3>") {
				if i := strings.Index(sec, "<h3>Steps</h3>"); i >= 0 {
					sec = sec[i:]
				}
				if i := strings.Index(sec, "<h3>Faults</h3>"); i >= 0 {
					sec = sec[:i]
				}
				out = append(out, sec)
			}
			return strings.Join(out, "")
		}
		Expect(cut(page)).To(Equal(cut(html(reports))))
	})

	It("refuses what is not a csmsim JSON report, naming the file", func() {
		for _, bad := range []struct{ doc, want string }{
			{`{"scenario": "x", "colour": 1}`, `r.json is not a csmsim JSON report (json: unknown field "colour")`},
			{`[]`, "r.json holds no report (an empty array)"},
			{`{}`, "r.json is not a csmsim JSON report (no scenario name)"},
			{`<html>`, "r.json is not a csmsim JSON report (invalid character '<'"},
			{`[{"scenario": "a"}, {"scenario": "b", "x": 2}]`, `r.json: report 2 is not a csmsim JSON report (json: unknown field "x")`},
			{`{"scenario": "a", "faults": [], "fault_times": [{"at": "2026-11-23T14:00:00Z", "until": "0001-01-01T00:00:00Z"}]}`,
				"1 fault_times for 0 faults"},
		} {
			_, err := harness.ReadJSON(strings.NewReader(bad.doc), "r.json")
			Expect(err).To(MatchError(ContainSubstring(bad.want)), bad.doc)
			Expect(err.Error()).To(ContainSubstring("csmsim run --report json"), "says how to get a report")
		}
	})
})

var _ = Describe("the JUnit report", func() {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string    `xml:"name,attr"`
		Failure   *failure  `xml:"failure"`
		Skipped   *struct{} `xml:"skipped"`
		SystemOut string    `xml:"system-out"`
	}
	var suites struct {
		Suites []struct {
			Tests, Failures int
			Cases           []testcase `xml:"testcase"`
		} `xml:"testsuite"`
	}

	It("has one test case per step and per expectation, a failure's text the step's message lines", func() {
		rep := htmlSampleReport()
		var b bytes.Buffer
		Expect(rep.WriteJUnit(&b)).To(Succeed())
		Expect(xml.Unmarshal(b.Bytes(), &suites)).To(Succeed(), b.String())
		Expect(suites.Suites).To(HaveLen(1))
		cases := suites.Suites[0].Cases
		Expect(cases).To(HaveLen(len(rep.Steps) + len(rep.Expectations)))

		passed, failed, skipped := cases[0], cases[1], cases[2]
		Expect(passed.Name).To(Equal("step 01 cms: BUILD VM010802_BLD2"))
		Expect(passed.Failure).To(BeNil())
		Expect(passed.SystemOut).To(Equal("CSM1001I build done"))

		Expect(failed.Failure).NotTo(BeNil())
		Expect(failed.Failure.Type).To(Equal("step"))
		Expect(failed.Failure.Message).To(Equal("rc 8, want 0"))
		Expect(failed.Failure.Text).To(Equal("CSM2040E VM02 validate failed: <checksum>\nCSM2041I halted"))
		Expect(failed.SystemOut).To(BeEmpty(), "the lines once, as the failure's text")
		Expect(skipped.Skipped).NotTo(BeNil())

		exp := cases[len(rep.Steps)+1]
		Expect(exp.Name).To(Equal("expect VM02 prod level"))
		Expect(exp.Failure.Type).To(Equal("expectation"))
		Expect(exp.Failure.Message).To(Equal("not rolled out"))
		Expect(exp.Failure.Text).To(Equal("want: VM010802_BLD2\ngot: VM010802_BLD1\nnot rolled out"))
		Expect(cases[len(rep.Steps)].Failure).To(BeNil())
	})
})
