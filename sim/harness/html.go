package harness

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/agent/proto"
)

// The HTML report is one self-contained page: inline CSS, an inline SVG
// timeline, no script and nothing fetched from anywhere. Everything it
// shows goes through html/template, so report text is always escaped.
// The same reports give the same bytes: slices are walked in order and
// the few maps used for grouping are read back through sorted or
// first-appearance slices.

// timelinePhases are the managed-system phases in the order they run; a
// phase outside this list is drawn grey and listed after them.
func timelinePhases() []string {
	var out []string
	for _, p := range proto.Phases() {
		out = append(out, string(p))
	}
	return out
}

// knownPhaseColor is the fill of each known phase.
func knownPhaseColor(phase string) (string, bool) {
	switch proto.Phase(phase) {
	case proto.PhaseTransfer:
		return "#4e79a7", true
	case proto.PhaseValidate:
		return "#f28e2b", true
	case proto.PhaseLoad:
		return "#59a14f", true
	case proto.PhasePut2Prod:
		return "#b07aa1", true
	}
	return "", false
}

const (
	otherPhaseColor = "#9c9c9c"

	tlRowH     = 18   // one row per system
	tlAxisH    = 26   // the time axis above the rows
	tlStepsH   = 22   // the steps' marks and numbers below the rows
	tlStepRowH = 12   // each further row of step numbers
	tlPlotW    = 1000 // the time plot
	tlRightPad = 48   // room for the last tick label
	tlBottom   = 6
)

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error { return WriteHTMLAll(w, []*Report{r}) }

// WriteHTMLAll writes several reports into one page, one section each.
func WriteHTMLAll(w io.Writer, reports []*Report) error {
	p := htmlPage{Multi: len(reports) > 1}
	failed := 0
	var versions []string
	for i, r := range reports {
		if r == nil {
			continue
		}
		if r.Version != "" && !slices.Contains(versions, r.Version) {
			versions = append(versions, r.Version)
		}
		s := newHTMLSection(i, r)
		if !r.Pass {
			failed++
		}
		p.Sections = append(p.Sections, s)
	}
	switch {
	case len(p.Sections) == 1:
		s := p.Sections[0]
		p.Title = "csmsim " + s.Verdict + " " + s.R.Scenario
	default:
		verdict := "PASS"
		if failed > 0 {
			verdict = "FAIL"
		}
		p.Title = fmt.Sprintf("csmsim %s: %d scenarios, %d failed", verdict, len(p.Sections), failed)
	}
	p.Version = strings.Join(versions, ", ")
	// Render in full first: a template error writes nothing.
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, p); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

type htmlPage struct {
	Title    string
	Version  string // the csmsim that wrote the reports
	Multi    bool
	Sections []htmlSection
}

type htmlSection struct {
	ID       string
	R        *Report
	Verdict  string
	Rollouts []htmlRollout
	Timeline htmlTimeline
}

type htmlRollout struct {
	R       RolloutReport
	Waves   []htmlWave
	Systems []htmlRolloutSystem
}

type htmlWave struct {
	Label   string
	Systems string
}

type htmlRolloutSystem struct {
	RolloutSystem
	WaveLabel string
}

type htmlTimeline struct {
	Empty      bool
	Width      int
	Height     int
	LabelW     int
	PlotRight  int
	AxisY      int
	StepsY     int // the baseline of the steps lane's numbers
	Total      string
	Rows       []htmlTLRow
	Ticks      []htmlTick
	StepLines  []htmlStepLine
	StepMarks  []htmlStepMark
	Patterns   []htmlPattern
	Spans      []htmlSpan
	Phases     []string // the table's phase columns
	PhaseRows  []htmlPhaseRow
	Legend     []htmlLegend
	HasFailure bool
}

type htmlTLRow struct {
	Name  string
	TextY int
	Band  string // path of the row's background band, "" for odd rows
}

type htmlTick struct {
	X     int
	Y     int // the label's baseline
	Label string
	Grid  string // path of the tick and its grid line
}

type htmlStepLine struct {
	Path  string
	Title string
}

// htmlStepMark is a step's tick in the steps lane, whose title names it,
// and its number ("" where there is no room for it), at LabelX, LabelY.
type htmlStepMark struct {
	Path           string
	Title          string
	Label          string
	LabelX, LabelY int
}

type htmlPattern struct {
	ID    string
	Color string
}

type htmlSpan struct {
	X, Y, W, H string
	Class      string
	Phase      string
	Fill       string
	Title      string
}

type htmlPhaseRow struct {
	System string
	Cells  []htmlPhaseCell
}

type htmlPhaseCell struct {
	Text   string
	Failed bool
}

type htmlLegend struct {
	Phase string
	Color string
}

func newHTMLSection(i int, r *Report) htmlSection {
	s := htmlSection{ID: "r" + strconv.Itoa(i), R: r, Verdict: "PASS"}
	if !r.Pass {
		s.Verdict = "FAIL"
	}
	for _, ro := range r.Rollouts {
		hr := htmlRollout{R: ro}
		for wi, names := range ro.Waves {
			hr.Waves = append(hr.Waves, htmlWave{Label: waveLabel(wi), Systems: strings.Join(names, " ")})
		}
		for _, sys := range ro.Systems {
			hr.Systems = append(hr.Systems, htmlRolloutSystem{RolloutSystem: sys, WaveLabel: waveLabel(sys.Wave)})
		}
		s.Rollouts = append(s.Rollouts, hr)
	}
	s.Timeline = newHTMLTimeline(s.ID, r)
	return s
}

func waveLabel(w int) string {
	if w == 0 {
		return "canary"
	}
	return strconv.Itoa(w)
}

// phaseColor is the fill of a known phase, grey for any other.
func phaseColor(phase string) string {
	if c, ok := knownPhaseColor(phase); ok {
		return c
	}
	return otherPhaseColor
}

// phaseClass is the CSS class suffix of a phase: the phase itself when
// known, "other" for anything else, so report text never becomes a class.
func phaseClass(phase string) string {
	if _, ok := knownPhaseColor(phase); ok {
		return phase
	}
	return "other"
}

func newHTMLTimeline(id string, r *Report) htmlTimeline {
	t := htmlTimeline{}
	for _, p := range timelinePhases() {
		t.Legend = append(t.Legend, htmlLegend{Phase: p, Color: phaseColor(p)})
	}
	if len(r.Timeline) == 0 {
		t.Empty = true
		return t
	}

	// Rows: the report's systems in order, then systems only the timeline
	// names, in order of first appearance.
	var names []string
	row := map[string]int{}
	addRow := func(n string) {
		if _, ok := row[n]; !ok {
			row[n] = len(names)
			names = append(names, n)
		}
	}
	for _, s := range r.Systems {
		addRow(s.Name)
	}
	for _, sp := range r.Timeline {
		addRow(sp.System)
	}

	// Phase columns: the four known phases, then any other in order of
	// first appearance.
	phases := timelinePhases()
	phaseIdx := map[string]int{}
	for i, p := range phases {
		phaseIdx[p] = i
	}
	for _, sp := range r.Timeline {
		if _, ok := phaseIdx[sp.Phase]; !ok {
			phaseIdx[sp.Phase] = len(phases)
			phases = append(phases, sp.Phase)
		}
	}
	t.Phases = phases

	maxLen := 0
	for _, n := range names {
		if l := len([]rune(n)); l > maxLen {
			maxLen = l
		}
	}
	t.LabelW = min(max(7*maxLen+16, 72), 320)
	t.PlotRight = t.LabelW + tlPlotW
	t.Width = t.PlotRight + tlRightPad
	t.AxisY = tlAxisH
	plotBottom := tlAxisH + len(names)*tlRowH

	// The axis runs from the scenario's start (the world built) to the
	// last phase, so that a reader sees when in the run each phase was.
	var end time.Duration
	for _, sp := range r.Timeline {
		end = max(end, sp.End, sp.Start)
	}
	for _, at := range r.StepStart {
		end = max(end, at)
	}
	total := max(end, time.Millisecond)
	t.Total = fmtSeconds(total)
	xOf := func(d time.Duration) float64 {
		d = min(max(d, 0), total)
		return float64(t.LabelW) + float64(d)/float64(total)*tlPlotW
	}
	t.StepsY = plotBottom + tlStepsH - 6
	t.Height = plotBottom + tlStepsH + tlBottom

	for i, n := range names {
		top := tlAxisH + i*tlRowH
		tr := htmlTLRow{Name: n, TextY: top + tlRowH - 5}
		if i%2 == 0 {
			tr.Band = fmt.Sprintf("M0 %dH%dV%dH0Z", top, t.PlotRight, top+tlRowH)
		}
		t.Rows = append(t.Rows, tr)
	}

	step, useMs := tickStep(total)
	for v := time.Duration(0); v <= total; v += step {
		x := int(xOf(v) + 0.5)
		t.Ticks = append(t.Ticks, htmlTick{
			X:     x,
			Y:     tlAxisH - 8,
			Label: tickLabel(v, useMs),
			Grid:  fmt.Sprintf("M%d %dV%d", x, tlAxisH-5, plotBottom),
		})
	}

	// Where each step with phases starts: when it began if the report
	// says, else its first phase. A dashed line marks it across the rows.
	type stepStart struct {
		step  int
		start time.Duration
	}
	var starts []stepStart
	seen := map[int]int{}
	for _, sp := range r.Timeline {
		if i, ok := seen[sp.Step]; ok {
			starts[i].start = min(starts[i].start, sp.Start)
			continue
		}
		seen[sp.Step] = len(starts)
		starts = append(starts, stepStart{sp.Step, sp.Start})
	}
	for i := range starts {
		if at, ok := r.StepStart[starts[i].step]; ok {
			starts[i].start = at
		}
	}
	sort.SliceStable(starts, func(i, j int) bool {
		if starts[i].start != starts[j].start {
			return starts[i].start < starts[j].start
		}
		return starts[i].step < starts[j].step
	})
	for _, st := range starts {
		x := xOf(st.start)
		t.StepLines = append(t.StepLines, htmlStepLine{
			Path:  fmt.Sprintf("M%.1f %dV%d", x, tlAxisH, plotBottom),
			Title: fmt.Sprintf("step %d starts at %s", st.step, fmtSeconds(st.start)),
		})
	}
	var rows int
	t.StepMarks, rows = stepLane(r, seen, xOf, plotBottom, t.StepsY)
	t.Height += (rows - 1) * tlStepRowH

	// Spans, and per system and phase the total time and count.
	type agg struct {
		d      time.Duration
		n, bad int
	}
	aggs := make([][]agg, len(names))
	for i := range aggs {
		aggs[i] = make([]agg, len(phases))
	}
	failedPhase := make([]bool, len(phases))
	for _, sp := range r.Timeline {
		ri, pi := row[sp.System], phaseIdx[sp.Phase]
		x0, x1 := xOf(sp.Start), xOf(sp.End)
		w := max(x1-x0, 1)
		cls := "span ph-" + phaseClass(sp.Phase)
		fill := phaseColor(sp.Phase)
		status := "ok"
		if !sp.OK {
			cls += " failed"
			fill = "url(#" + id + "-fail-" + strconv.Itoa(pi) + ")"
			status = "failed"
			failedPhase[pi] = true
			t.HasFailure = true
		}
		title := spanTitle(sp, status)
		top := tlAxisH + ri*tlRowH
		t.Spans = append(t.Spans, htmlSpan{
			X:     strconv.FormatFloat(x0, 'f', 1, 64),
			Y:     strconv.Itoa(top + 3),
			W:     strconv.FormatFloat(w, 'f', 1, 64),
			H:     strconv.Itoa(tlRowH - 6),
			Class: cls,
			Phase: sp.Phase,
			Fill:  fill,
			Title: title,
		})
		a := &aggs[ri][pi]
		if sp.End > sp.Start {
			a.d += sp.End - sp.Start
		}
		a.n++
		if !sp.OK {
			a.bad++
		}
	}
	for pi, bad := range failedPhase {
		if bad {
			t.Patterns = append(t.Patterns, htmlPattern{ID: id + "-fail-" + strconv.Itoa(pi), Color: phaseColor(phases[pi])})
		}
	}
	for ri, n := range names {
		pr := htmlPhaseRow{System: n}
		for pi := range phases {
			a := aggs[ri][pi]
			c := htmlPhaseCell{Text: "–"}
			if a.n > 0 {
				c.Text = fmt.Sprintf("%s (%d)", fmtSeconds(a.d), a.n)
				if a.bad > 0 {
					c.Text += fmt.Sprintf(", %d failed", a.bad)
					c.Failed = true
				}
			}
			pr.Cells = append(pr.Cells, c)
		}
		t.PhaseRows = append(t.PhaseRows, pr)
	}
	return t
}

// spanTitle is what a reader sees on hovering a phase's bar: system,
// phase, step, duration with start and end, a transfer's bytes, the
// outcome and its detail.
func spanTitle(sp Span, status string) string {
	title := fmt.Sprintf("%s %s, step %d: %s, from %s to %s", sp.System, sp.Phase, sp.Step,
		fmtSeconds(max(sp.End-sp.Start, 0)), fmtSeconds(sp.Start), fmtSeconds(sp.End))
	if proto.Phase(sp.Phase) == proto.PhaseTransfer {
		title += fmt.Sprintf(", %d bytes", sp.Bytes)
	}
	title += ", " + status
	if sp.Detail != "" {
		title += " — " + sp.Detail
	}
	return title
}

// stepLane is the lane below the rows: a tick where each step that ran
// began, titled with the step, and its number at labelY. Steps with phases
// (hasPhases) are always numbered, in as many rows as they need when they
// ran close together; the others where room is left in those rows, so
// that the principal's quick steps do not crowd out a roll-out. It returns
// the marks and the rows of numbers.
func stepLane(r *Report, hasPhases map[int]int, xOf func(time.Duration) float64, top, labelY int) ([]htmlStepMark, int) {
	steps := map[int]StepReport{}
	for _, st := range r.Steps {
		steps[st.Index] = st
	}
	var order []int
	for i := range r.StepStart {
		order = append(order, i)
	}
	sort.Ints(order)
	marks := make([]htmlStepMark, len(order))
	for k, i := range order {
		at := r.StepStart[i]
		title := fmt.Sprintf("step %d at %s", i, fmtSeconds(at))
		if st, ok := steps[i]; ok {
			title = fmt.Sprintf("step %d (%s) at %s: %s", i, st.Kind, fmtSeconds(at), st.Line)
		}
		marks[k] = htmlStepMark{Path: fmt.Sprintf("M%.1f %dV%d", xOf(at), top, top+6), Title: title}
	}
	// A digit is about 6.5px wide at 11px; numbers stay 4px apart.
	type extent struct{ from, to float64 }
	taken := [][]extent{nil} // by row
	for _, first := range []bool{true, false} {
		for k, i := range order {
			if _, ok := hasPhases[i]; ok != first {
				continue
			}
			x := xOf(r.StepStart[i])
			w := 6.5*float64(len(strconv.Itoa(i))) + 4
			e := extent{x - w/2, x + w/2}
			row := slices.IndexFunc(taken, func(row []extent) bool {
				return !slices.ContainsFunc(row, func(o extent) bool { return e.from < o.to && o.from < e.to })
			})
			if row < 0 && first {
				row, taken = len(taken), append(taken, nil)
			}
			if row >= 0 {
				taken[row] = append(taken[row], e)
				marks[k].Label, marks[k].LabelX, marks[k].LabelY = strconv.Itoa(i), int(x+0.5), labelY+row*tlStepRowH
			}
		}
	}
	return marks, len(taken)
}

// fmtSeconds is a duration as seconds with millisecond precision: 0.120s.
func fmtSeconds(d time.Duration) string {
	return fmt.Sprintf("%.3fs", d.Seconds())
}

// tickStep picks a 1-2-5 tick spacing giving at most ten intervals over
// total, and whether to label the ticks in milliseconds (runs under 1 s)
// rather than seconds.
func tickStep(total time.Duration) (time.Duration, bool) {
	step := time.Microsecond
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if s := step * m; total/s <= 10 {
				return s, total < time.Second
			}
		}
		step *= 10
	}
}

func tickLabel(v time.Duration, ms bool) string {
	if ms {
		return strconv.FormatFloat(float64(v)/float64(time.Millisecond), 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(v.Seconds(), 'f', -1, 64) + "s"
}

// statusClass maps a step, expectation or roll-out status to a CSS class.
func statusClass(s string) string {
	switch s {
	case "pass", "done":
		return "st-ok"
	case "fail", "failed":
		return "st-fail"
	case "skipped", "untouched":
		return "st-skip"
	}
	return "st-other"
}

var htmlTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"statusClass": statusClass,
	"join":        strings.Join,
	"clock":       func(t time.Time) string { return t.UTC().Format(time.DateTime) },
	"yesno": func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	},
}).Parse(htmlPageTmpl))

// htmlPageTmpl is the page template: html.tmpl, embedded.
//
//go:embed html.tmpl
var htmlPageTmpl string
