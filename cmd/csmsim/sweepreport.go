package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/sim/harness"
	"github.com/spf13/afero"
	"github.com/spf13/cobra"
)

// sweepFormat marks a sweep report, so that merge tells one from any other
// JSON (a csmsim run report, say).
const sweepFormat = "csmsim-sweep/1"

// maxSweepReportBytes bounds a sweep report merge reads: a million runs
// with their failure texts fit.
const maxSweepReportBytes = 1 << 30

// sweepReport is a sweep's JSON report, or a merge of several. It holds no
// wall time: the same sweep gives the same bytes.
type sweepReport struct {
	Format string `json:"format"`
	// Version is the csmsim that ran the seeds; a merge takes the shards
	// of one csmsim only.
	Version string   `json:"csmsim"`
	Files   []string `json:"files"`
	// Seeds is the range swept, A..B; a merge of several ranges lists
	// them, joined where they meet: 1..500,601..700.
	Seeds string `json:"seeds"`
	// Shard is i/n for one shard, several for a partial merge
	// (1/4,3/4), and "" for every seed of the range.
	Shard  string     `json:"shard,omitempty"`
	Swarm  bool       `json:"swarm"`
	Runs   []sweepRun `json:"runs"`
	Passed int        `json:"passed"`
	Failed int        `json:"failed"`
}

// sweepRun is one seed of one file.
type sweepRun struct {
	File    string `json:"file"`
	Seed    uint64 `json:"seed"`
	Pass    bool   `json:"pass"`
	Failure string `json:"failure,omitempty"` // the run's FailureText
	Replay  string `json:"replay"`            // the command that runs it again
}

// finish sorts the runs by file and seed, and counts them.
func (r *sweepReport) finish() {
	slices.Sort(r.Files)
	slices.SortFunc(r.Runs, func(a, b sweepRun) int { return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Seed, b.Seed)) })
	if r.Runs == nil {
		r.Runs = []sweepRun{}
	}
	r.Passed, r.Failed = 0, 0
	for _, run := range r.Runs {
		if run.Pass {
			r.Passed++
		} else {
			r.Failed++
		}
	}
}

func (r *sweepReport) writeJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeSummary writes one line per failing seed, with the command that
// replays it, then the totals; rate is appended to them (seeds/s).
func (r *sweepReport) writeSummary(w io.Writer, rate string) {
	for _, run := range r.Runs {
		if !run.Pass {
			fmt.Fprintf(w, "FAIL %s seed %d: %s | replay: %s\n", run.File, run.Seed, run.Failure, run.Replay)
		}
	}
	where := fmt.Sprintf("seeds %s", r.Seeds)
	if r.Shard != "" {
		where += ", shard " + r.Shard
	}
	if r.Swarm {
		where += ", swarm"
	}
	files := "1 file"
	if len(r.Files) != 1 {
		files = fmt.Sprintf("%d files", len(r.Files))
	}
	fmt.Fprintf(w, "sweep: %d seeds run (%s, %s): %d passed, %d failed%s\n", len(r.Runs), files, where, r.Passed, r.Failed, rate)
}

// writeJUnit writes one testsuite per file, one testcase per seed; a
// failing seed's failure holds its failure text and replay command.
func (r *sweepReport) writeJUnit(w io.Writer) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
	}
	type testsuite struct {
		Name       string                   `xml:"name,attr"`
		Tests      int                      `xml:"tests,attr"`
		Failures   int                      `xml:"failures,attr"`
		Properties *harness.JUnitProperties `xml:"properties,omitempty"`
		Cases      []testcase               `xml:"testcase"`
	}
	all := struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Suites   []*testsuite `xml:"testsuite"`
	}{}
	suites := map[string]*testsuite{}
	for _, f := range r.Files {
		suites[f] = &testsuite{Name: "sweep " + f, Properties: harness.VersionProperties(r.Version)}
		all.Suites = append(all.Suites, suites[f])
	}
	for _, run := range r.Runs {
		s := suites[run.File]
		c := testcase{Name: fmt.Sprintf("seed %d", run.Seed), Classname: "sweep." + strings.TrimSuffix(filepath.Base(run.File), ".yaml")}
		if !run.Pass {
			c.Failure = &failure{Message: run.Failure, Text: "replay: " + run.Replay}
			s.Failures++
			all.Failures++
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
		all.Tests++
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

// newSweepMergeCmd is `csmsim sweep merge A.json B.json...`: the shards'
// reports as one, as if one sweep had run every seed.
func newSweepMergeCmd(fs afero.Fs) *cobra.Command {
	var report, out string
	cmd := &cobra.Command{
		Use:   "merge REPORT.json... [--out F] [--report json|summary]",
		Short: "Merge the JSON reports of a sweep's shards into one; exit 1 if a seed failed",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, names []string) error {
			if err := checkReport(report, "json", "summary"); err != nil {
				return err
			}
			var reps []*sweepReport
			for _, n := range names {
				r, err := readSweepReport(fs, n)
				if err != nil {
					return err
				}
				reps = append(reps, r)
			}
			merged, missing, err := mergeSweepReports(names, reps)
			if err != nil {
				return err
			}
			var sum bytes.Buffer
			merged.writeSummary(&sum, "")
			if len(missing) > 0 {
				fmt.Fprintf(&sum, "missing shards: %s (their seeds are not in the report)\n", strings.Join(missing, ", "))
			}
			if err := deliver(cmd, fs, merged, report, out, sum.Bytes()); err != nil {
				return err
			}
			return verdict(merged, nil, 0)
		},
	}
	cmd.Flags().StringVar(&report, "report", "json", "what to write: json (the merged report) or summary")
	cmd.Flags().StringVar(&out, "out", "", "write it to this file instead of stdout")
	return cmd
}

// readSweepReport reads and checks one sweep report.
func readSweepReport(fs afero.Fs, name string) (*sweepReport, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSweepReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	hint := "write shard reports with csmsim sweep --report json --out FILE"
	if len(b) > maxSweepReportBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes, more than a sweep report of a million seeds: %s", name, maxSweepReportBytes, hint)
	}
	var r sweepReport
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s is not a csmsim sweep report: %v (%s)", name, err, hint)
	}
	if r.Format != sweepFormat {
		return nil, fmt.Errorf("%s is not a csmsim sweep report: format %q, expected %q (%s)", name, r.Format, sweepFormat, hint)
	}
	ranges, err := parseRanges(r.Seeds)
	if err != nil {
		return nil, fmt.Errorf("%s: seeds: %v", name, err)
	}
	if r.Shard != "" {
		for _, s := range strings.Split(r.Shard, ",") {
			if _, err := parseShard("shard", s); err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
		}
	}
	for _, run := range r.Runs {
		if !slices.Contains(r.Files, run.File) {
			return nil, fmt.Errorf("%s: run of %s seed %d: the file is not among the report's files %v", name, run.File, run.Seed, r.Files)
		}
		if !slices.ContainsFunc(ranges, func(rg [2]uint64) bool { return rg[0] <= run.Seed && run.Seed <= rg[1] }) {
			return nil, fmt.Errorf("%s: run of %s seed %d: the seed is outside the report's seeds %s", name, run.File, run.Seed, r.Seeds)
		}
	}
	return &r, nil
}

// parseRanges reads A..B[,C..D...].
func parseRanges(s string) ([][2]uint64, error) {
	var out [][2]uint64
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(part, "..")
		first, err1 := strconv.ParseUint(a, 10, 64)
		last, err2 := strconv.ParseUint(b, 10, 64)
		if !ok || err1 != nil || err2 != nil || first > last {
			return nil, fmt.Errorf("%q is not a range of seeds A..B (A <= B), nor several joined by commas", s)
		}
		out = append(out, [2]uint64{first, last})
	}
	return out, nil
}

// joinRanges is the union of ranges, sorted, joined where they overlap or
// meet, written as parseRanges reads it.
func joinRanges(rs [][2]uint64) string {
	slices.SortFunc(rs, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	var merged [][2]uint64
	for _, r := range rs {
		if n := len(merged); n > 0 && (r[0] == 0 || r[0]-1 <= merged[n-1][1]) {
			merged[n-1][1] = max(merged[n-1][1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	var parts []string
	for _, r := range merged {
		parts = append(parts, fmt.Sprintf("%d..%d", r[0], r[1]))
	}
	return strings.Join(parts, ",")
}

// mergeSweepReports is the union of the reports' runs, recounted. The same
// seed of the same file in two reports must have the same result. The
// shards of one range, all of them, merge into the report of the whole
// range; missing lists the shards of it that were not given.
func mergeSweepReports(names []string, reps []*sweepReport) (*sweepReport, []string, error) {
	m := &sweepReport{Format: sweepFormat, Version: reps[0].Version, Swarm: reps[0].Swarm}
	type key struct {
		file string
		seed uint64
	}
	from := map[key][2]int{} // the run's index in m.Runs, and the report it came from
	var ranges [][2]uint64
	seeds := map[string]bool{}
	shards := map[int]map[int]bool{} // n -> the i of it given
	whole := false
	for k, r := range reps {
		if r.Version != m.Version {
			return nil, nil, fmt.Errorf("%s was written by csmsim %s, %s by csmsim %s: merge the shards of one sweep, run by one csmsim (csmsim version)", names[k], r.Version, names[0], m.Version)
		}
		if r.Swarm != m.Swarm {
			return nil, nil, fmt.Errorf("%s was swept with --swarm=%v, %s with --swarm=%v: merge the reports of one sweep", names[0], m.Swarm, names[k], r.Swarm)
		}
		for _, f := range r.Files {
			if !slices.Contains(m.Files, f) {
				m.Files = append(m.Files, f)
			}
		}
		rs, _ := parseRanges(r.Seeds) // readSweepReport checked it
		ranges = append(ranges, rs...)
		seeds[r.Seeds] = true
		if r.Shard == "" {
			whole = true
		}
		for _, s := range strings.Split(r.Shard, ",") {
			if sh, err := parseShard("shard", s); err == nil {
				if shards[sh.n] == nil {
					shards[sh.n] = map[int]bool{}
				}
				shards[sh.n][sh.i] = true
			}
		}
		for _, run := range r.Runs {
			kk := key{run.File, run.Seed}
			at, seen := from[kk]
			if !seen {
				from[kk] = [2]int{len(m.Runs), k}
				m.Runs = append(m.Runs, run)
				continue
			}
			if prev := m.Runs[at[0]]; prev.Pass != run.Pass || prev.Failure != run.Failure {
				return nil, nil, fmt.Errorf("%s seed %d has two results: %s in %s, %s in %s; a seed's run is deterministic, so the reports come from different versions of the scenario or of csmsim (check with csmsim sweep --check-determinism)",
					run.File, run.Seed, outcome(prev), names[at[1]], outcome(run), names[k])
			}
		}
	}
	m.Seeds = joinRanges(ranges)
	var missing []string
	if !whole {
		var given []string
		for _, n := range slices.Sorted(maps.Keys(shards)) {
			for i := 1; i <= n; i++ {
				if shards[n][i] {
					given = append(given, shard{i, n}.String())
				} else if len(shards) == 1 && len(seeds) == 1 {
					missing = append(missing, shard{i, n}.String())
				}
			}
		}
		if len(shards) != 1 || len(seeds) != 1 || len(missing) > 0 {
			m.Shard = strings.Join(given, ",")
		}
	}
	m.finish()
	return m, missing, nil
}

func outcome(r sweepRun) string {
	if r.Pass {
		return "pass"
	}
	return fmt.Sprintf("fail (%s)", r.Failure)
}
