package harness

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// WriteJUnit writes the report as JUnit XML: one testcase per step and
// per expectation.
func (r *Report) WriteJUnit(w io.Writer) error { return WriteJUnitAll(w, []*Report{r}) }

// WriteJUnitAll writes one testsuite per report. A failed step's failure
// text is its message lines, as SERVMGR issued them (a CI page shows them
// under the failure); a failed expectation's says what was wanted and
// what was found. The failure's message is the one-line reason.
func WriteJUnitAll(w io.Writer, reports []*Report) error {
	var all junitSuites
	for _, r := range reports {
		s := junitSuite{Name: r.Scenario, Properties: VersionProperties(r.Version)}
		add := func(name, kind, status, reason string, lines []string) {
			c := junitCase{Name: name, Classname: "scenario." + r.Scenario}
			switch status {
			case "fail":
				c.Failure = &junitFailure{Message: reason, Type: kind, Text: strings.Join(lines, "\n")}
				s.Failures++
			case "skipped":
				c.Skipped = &junitSkipped{Message: reason}
				s.Skipped++
			}
			if c.Failure == nil && kind == "step" {
				c.SystemOut = strings.Join(lines, "\n")
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		for _, st := range r.Steps {
			lines := st.Output
			if len(lines) == 0 && st.Status == "fail" {
				lines = []string{st.Reason} // a step that issued no line: its reason is all there is
			}
			add(fmt.Sprintf("step %02d %s: %s", st.Index, st.Kind, st.Line), "step", st.Status, st.Reason, lines)
		}
		for _, e := range r.Expectations {
			add("expect "+e.Name, "expectation", e.Status, e.Reason,
				[]string{"want: " + e.Want, "got: " + e.Got, e.Reason})
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Suites = append(all.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Properties *JUnitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

// JUnitProperties are a testsuite's <properties>: here the csmsim that
// wrote the report, which CI systems show beside a failure.
type JUnitProperties struct {
	Property []JUnitProperty `xml:"property"`
}

// JUnitProperty is one <property name= value=>.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// VersionProperties are the properties naming csmsim's version; nil for
// no version.
func VersionProperties(version string) *JUnitProperties {
	if version == "" {
		return nil
	}
	return &JUnitProperties{Property: []JUnitProperty{{Name: "csmsim.version", Value: version}}}
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}
