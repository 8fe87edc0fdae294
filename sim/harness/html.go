package harness

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
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
	for i, r := range reports {
		if r == nil {
			continue
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
	Total      string
	Rows       []htmlTLRow
	Ticks      []htmlTick
	StepLines  []htmlStepLine
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
	t.Height = plotBottom + tlBottom

	// The axis runs from the first phase to the last: building the world
	// and the principal-only steps before the first SEND are not drawn.
	var end time.Duration
	origin := time.Duration(1<<63 - 1)
	for _, sp := range r.Timeline {
		end = max(end, sp.End, sp.Start)
		origin = min(origin, sp.Start)
	}
	origin = max(origin, 0)
	total := max(end-origin, time.Millisecond)
	t.Total = fmtSeconds(total)
	xOf := func(d time.Duration) float64 {
		d = min(max(d-origin, 0), total)
		return float64(t.LabelW) + float64(d)/float64(total)*tlPlotW
	}

	for i, n := range names {
		top := tlAxisH + i*tlRowH
		tr := htmlTLRow{Name: n, TextY: top + tlRowH - 5}
		if i%2 == 0 {
			tr.Band = fmt.Sprintf("M0 %dH%dV%dH0Z", top, t.PlotRight, top+tlRowH)
		}
		t.Rows = append(t.Rows, tr)
	}

	step, useMs := tickStep(total)
	for v := (origin + step - 1) / step * step; v <= origin+total; v += step {
		x := int(xOf(v) + 0.5)
		t.Ticks = append(t.Ticks, htmlTick{
			X:     x,
			Y:     tlAxisH - 8,
			Label: tickLabel(v, useMs),
			Grid:  fmt.Sprintf("M%d %dV%d", x, tlAxisH-5, plotBottom),
		})
	}

	// Step boundaries: a dashed line where each step's first phase starts.
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
		title := fmt.Sprintf("%s %s step %d: %s–%s %s", sp.System, sp.Phase, sp.Step, fmtSeconds(sp.Start), fmtSeconds(sp.End), status)
		if sp.Detail != "" {
			title += " — " + sp.Detail
		}
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
	"yesno": func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	},
}).Parse(htmlPageTmpl))

const htmlPageTmpl = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;font-size:14px;color:#1d1d1f;background:#fff;margin:16px 24px}
h1{font-size:20px;margin:0 0 12px}
h2{font-size:18px;margin:28px 0 6px;padding-top:8px;border-top:2px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}
h4{font-size:14px;margin:12px 0 4px}
.verdict{display:inline-block;padding:1px 8px;border-radius:3px;color:#fff;font-weight:700;margin-right:6px}
.verdict.pass{background:#2e7d32}
.verdict.fail{background:#c62828}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:6px 0}
dl.meta dt{color:#555}
dl.meta dd{margin:0}
table{border-collapse:collapse;margin:4px 0 8px}
caption{text-align:left;color:#555;padding:2px 0}
th,td{border:1px solid #d0d0d0;padding:2px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
pre{margin:4px 0;padding:6px;background:#f7f7f7;border:1px solid #e3e3e3;white-space:pre-wrap}
details summary{cursor:pointer;color:#444}
.st-ok{color:#1b5e20;font-weight:600}
.st-fail{color:#b71c1c;font-weight:700}
.st-skip{color:#777}
.st-other{color:#6a1b9a}
tr.row-fail td{background:#fdecea}
td.failed{background:#fdecea;color:#b71c1c}
.halted{color:#b71c1c;font-weight:700}
.legend{margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center}
.swatch{display:inline-block;width:12px;height:12px;border:1px solid #666;vertical-align:-2px;margin-right:4px}
.tlwrap{overflow-x:auto;border:1px solid #e3e3e3;padding:4px;margin:4px 0}
svg.timeline{display:block;font-family:system-ui,sans-serif;font-size:11px}
svg.timeline .band{fill:#f4f6f8}
svg.timeline .label{fill:#1d1d1f}
svg.timeline .tick{fill:#555;text-anchor:middle}
svg.timeline .grid{stroke:#e1e4e8;stroke-width:1}
svg.timeline .axis{stroke:#888;stroke-width:1}
svg.timeline .stepline{stroke:#9aa5b1;stroke-width:1;stroke-dasharray:2 3}
svg.timeline .span{stroke:#33333366;stroke-width:.5}
svg.timeline .span.failed{stroke:#d62728;stroke-width:1.5}
.empty{color:#555;font-style:italic}
nav ul{margin:4px 0;padding-left:20px}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{- if .Multi}}
<nav><ul>
{{- range .Sections}}
<li><a href="#{{.ID}}"><span class="verdict {{if .R.Pass}}pass{{else}}fail{{end}}">{{.Verdict}}</span>{{.R.Scenario}}</a> ({{.R.Failures}} failures)</li>
{{- end}}
</ul></nav>
{{- end}}
{{range .Sections}}
<section id="{{.ID}}">
<h2><span class="verdict {{if .R.Pass}}pass{{else}}fail{{end}}">{{.Verdict}}</span>{{.R.Scenario}}</h2>
<dl class="meta">
<dt>scenario</dt><dd>{{.R.Scenario}}</dd>
<dt>file</dt><dd class="mono">{{.R.File}}</dd>
<dt>seed</dt><dd class="mono">{{.R.Seed}}</dd>
<dt>release</dt><dd>{{.R.Release}}</dd>
<dt>failures</dt><dd>{{.R.Failures}}</dd>
<dt>counts</dt><dd>{{len .R.Steps}} steps, {{len .R.Systems}} systems, {{len .R.Expectations}} expectations, {{len .R.Rollouts}} roll-outs</dd>
</dl>

<h3>Timeline</h3>
{{- with .Timeline}}
{{- if .Empty}}
<p class="empty">no managed-system phases in this run</p>
{{- else}}
<div class="legend">
{{- range .Legend}}<span><span class="swatch" style="background:{{.Color}}"></span>{{.Phase}}</span>{{end}}
{{- if .HasFailure}}<span><span class="swatch" style="border:2px solid #d62728"></span>failed (hatched, red outline)</span>{{end}}
<span>dashed line: step start · total {{.Total}}</span>
</div>
<div class="tlwrap">
<svg class="timeline" role="img" aria-label="phases per system over time" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
{{- if .Patterns}}
<defs>
{{- range .Patterns}}
<pattern id="{{.ID}}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><path d="M0 0H6V6H0Z" fill="{{.Color}}"></path><path d="M0 0V6" stroke="#d62728" stroke-width="3"></path></pattern>
{{- end}}
</defs>
{{- end}}
{{- range .Rows}}{{if .Band}}
<path class="band" d="{{.Band}}"></path>{{end}}{{end}}
{{- range .Ticks}}
<path class="grid" d="{{.Grid}}"></path>
<text class="tick" x="{{.X}}" y="{{.Y}}">{{.Label}}</text>
{{- end}}
<path class="axis" d="M{{.LabelW}} {{.AxisY}}H{{.PlotRight}}"></path>
{{- range .StepLines}}
<path class="stepline" d="{{.Path}}"><title>{{.Title}}</title></path>
{{- end}}
{{- range .Rows}}
<text class="label" x="4" y="{{.TextY}}">{{.Name}}</text>
{{- end}}
{{- range .Spans}}
<rect class="{{.Class}}" data-phase="{{.Phase}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
{{- end}}
</svg>
</div>
<table class="phases">
<caption>phases per system: total time (count)</caption>
<thead><tr><th>system</th>{{range .Phases}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .PhaseRows}}
<tr><td>{{.System}}</td>{{range .Cells}}<td class="num{{if .Failed}} failed{{end}}">{{.Text}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}
<h3>Steps</h3>
{{- if .R.Steps}}
<table class="steps">
<thead><tr><th>#</th><th>kind</th><th>command</th><th>rc</th><th>result</th><th>messages</th></tr></thead>
<tbody>
{{- range .R.Steps}}
<tr{{if eq .Status "fail"}} class="row-fail"{{end}}>
<td class="num">{{.Index}}</td>
<td>{{.Kind}}</td>
<td><code>{{.Line}}</code>
{{- if .Output}}
<details><summary>output ({{len .Output}} lines)</summary><pre>{{range .Output}}{{.}}
{{end}}</pre></details>
{{- end}}</td>
<td class="num">{{.RC}}</td>
<td><span class="{{statusClass .Status}}">{{.Status}}</span>{{if .Reason}}: {{.Reason}}{{end}}</td>
<td class="mono">{{join .Messages " "}}</td>
</tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p class="empty">no steps</p>
{{- end}}

<h3>Systems</h3>
{{- if .R.Systems}}
<table class="systems">
<thead><tr><th>system</th><th>test level</th><th>state</th><th>prod level</th><th>managed</th><th>error</th></tr></thead>
<tbody>
{{- range .R.Systems}}
<tr><td>{{.Name}}</td><td>{{.Level}}</td><td>{{.State}}</td><td>{{.Prod}}</td><td>{{yesno .Managed}}</td><td>{{.Error}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p class="empty">no systems</p>
{{- end}}
{{- if .Rollouts}}

<h3>Roll-outs</h3>
{{- range .Rollouts}}
<h4 class="rollout">step {{.R.Step}}: <code>{{.R.ID}}</code> –
{{- if .R.Halted}} <span class="halted">halted</span>{{if .R.Reason}}: {{.R.Reason}}{{end}}{{else}} <span class="st-ok">complete</span>{{end}}</h4>
<p class="waves">waves:{{range $i, $w := .Waves}}{{if $i}};{{end}} <b>{{$w.Label}}</b>: {{$w.Systems}}{{end}}</p>
<table class="rollout-systems">
<thead><tr><th>system</th><th>wave</th><th>status</th><th>run</th><th>message</th><th>reason</th></tr></thead>
<tbody>
{{- range .Systems}}
<tr><td>{{.Name}}</td><td>{{.WaveLabel}}</td><td class="{{statusClass .Status}}">{{.Status}}</td><td class="num">{{if .Run}}{{.Run}}{{end}}</td><td class="mono">{{.Message}}</td><td>{{.Reason}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}

<h3>Expectations</h3>
{{- if .R.Expectations}}
<table class="expectations">
<thead><tr><th>expectation</th><th>want</th><th>got</th><th>result</th></tr></thead>
<tbody>
{{- range .R.Expectations}}
<tr{{if eq .Status "fail"}} class="row-fail"{{end}}><td>{{.Name}}</td><td class="mono">{{.Want}}</td><td class="mono">{{.Got}}</td><td><span class="{{statusClass .Status}}">{{.Status}}</span>{{if .Reason}}: {{.Reason}}{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p class="empty">no expectations</p>
{{- end}}

</section>
{{end}}
</body>
</html>
`
