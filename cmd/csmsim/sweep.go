package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/csmsim/csmsim/internal/buildinfo"
	"github.com/csmsim/csmsim/sim/harness"
)

// The bounds of a sweep.
const (
	maxSweepSeeds = 1_000_000 // seeds of one --seeds range
	maxSweepJobs  = 256       // runs at once
)

// newSweepCmd is `csmsim sweep FILE... --seeds A..B`: every seed of every
// file, --jobs at a time, each held to its expectations and the
// invariants; the failing seeds with the command that replays each.
func newSweepCmd(fs afero.Fs) *cobra.Command {
	var (
		seeds, shard, report, out string
		jobs, check               int
		swarm, failFast           bool
	)
	cmd := &cobra.Command{
		Use:   "sweep FILE... --seeds A..B [--jobs N] [--swarm] [--report summary|json|junit] [--out F] [--shard i/n] [--check-determinism K]",
		Short: "Run scenarios over a range of seeds, in parallel and sharded; list the failing seeds with the command that replays each",
		Long: `Run every seed of --seeds for each FILE, --jobs at a time, and list each failing
seed: its first violated invariant or failed expectation, and the csmsim run
command that replays it. Exit status 1 if any seed failed.

Sharding splits the seeds: shard i of n runs the seeds whose index in the range
(0 for A) is i-1 modulo n. The shard comes from, first to last:
  --shard i/n                              (1-based)
  CSMSIM_SHARD=i/n                         (a CI matrix)
  JOB_COMPLETION_INDEX and JOB_COMPLETIONS (a Kubernetes Indexed Job; the index is 0-based)
Merge the shards' JSON reports with csmsim sweep merge.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			sw := sweep{fs: fs, swarm: swarm, check: check, failFast: failFast}
			var err error
			if sw.first, sw.last, err = parseSeeds(seeds); err != nil {
				return err
			}
			if jobs < 1 || jobs > maxSweepJobs {
				return fmt.Errorf("--jobs %d: run 1 to %d seeds at once", jobs, maxSweepJobs)
			}
			if check < 0 {
				return fmt.Errorf("--check-determinism %d: give the number of seeds to run twice, 0 or more", check)
			}
			if sw.shard, err = shardFrom(shard, cmd.Flags().Changed("shard"), os.LookupEnv); err != nil {
				return err
			}
			if err := checkReport(report, "summary", "json", "junit"); err != nil {
				return err
			}
			start := time.Now()
			rep, runs, err := sw.run(cmd.Context(), files, jobs)
			if err != nil {
				return err
			}
			// Seeds per second is wall time: the summary shows it, the
			// reports, which must not vary, do not.
			var sum bytes.Buffer
			rep.writeSummary(&sum, fmt.Sprintf(", %.1f seeds/s", float64(runs)/time.Since(start).Seconds()))
			checked := runs - len(rep.Runs)
			if sw.notRun > 0 {
				fmt.Fprintf(&sum, "stopped at the first failure (--fail-fast): %d seeds not run\n", sw.notRun)
			}
			for _, d := range sw.nondet {
				fmt.Fprintf(&sum, "NOT DETERMINISTIC %s\n", d)
			}
			if checked > 0 && len(sw.nondet) == 0 {
				fmt.Fprintf(&sum, "deterministic: %d seeds, each run twice, gave byte-identical JSON reports\n", checked)
			}
			if err := deliver(cmd, fs, rep, report, out, sum.Bytes()); err != nil {
				return err
			}
			return verdict(rep, sw.nondet, checked)
		},
	}
	cmd.Flags().StringVar(&seeds, "seeds", "", "the seeds to run, A..B (at most 1,000,000)")
	cmd.Flags().IntVar(&jobs, "jobs", min(runtime.GOMAXPROCS(0), maxSweepJobs), "runs at once, 1..256")
	cmd.Flags().BoolVar(&swarm, "swarm", false, "switch each fault kind on or off, and pick each fault's probability, by the seed")
	cmd.Flags().StringVar(&report, "report", "summary", "report to write: summary, json (for csmsim sweep merge) or junit")
	cmd.Flags().StringVar(&out, "out", "", "write the report to this file instead of stdout")
	cmd.Flags().StringVar(&shard, "shard", "", "run shard i of n (1-based): the seeds whose index is i-1 modulo n")
	cmd.Flags().IntVar(&check, "check-determinism", 0, "run the first K seeds of each file twice and compare their JSON reports")
	cmd.Flags().BoolVar(&failFast, "fail-fast", false, "start no more seeds once one has failed (the report lists the seeds run)")
	_ = cmd.MarkFlagRequired("seeds")
	cmd.AddCommand(newSweepMergeCmd(fs))
	return cmd
}

// checkReport refuses a --report value not among ok.
func checkReport(report string, ok ...string) error {
	for _, o := range ok {
		if report == o {
			return nil
		}
	}
	return fmt.Errorf("--report %q: use %s", report, strings.Join(ok, ", "))
}

// parseSeeds reads A..B: A <= B, at most maxSweepSeeds seeds.
func parseSeeds(s string) (uint64, uint64, error) {
	a, b, ok := strings.Cut(s, "..")
	first, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 64)
	last, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 64)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return 0, 0, fmt.Errorf("--seeds %q: write the range as A..B, e.g. --seeds 1..1000", s)
	case first > last:
		return 0, 0, fmt.Errorf("--seeds %s: the first seed is above the last; write A..B with A <= B", s)
	case last-first >= maxSweepSeeds:
		return 0, 0, fmt.Errorf("--seeds %s: more than %d seeds, the most one sweep runs; split the range, or shard it (--shard)", s, maxSweepSeeds)
	}
	return first, last, nil
}

// shard is one of n shards (i 1-based); the zero value is every seed.
type shard struct{ i, n int }

func (s shard) String() string {
	if s.n == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.i, s.n)
}

// has says the seed at index idx of the range is this shard's.
func (s shard) has(idx uint64) bool { return s.n == 0 || idx%uint64(s.n) == uint64(s.i-1) }

// parseShard reads i/n, 1 <= i <= n.
func parseShard(what, v string) (shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return shard{}, fmt.Errorf("%s %q: write the shard as i/n, e.g. 2/4 for the second of 4", what, v)
	case n < 1 || n > maxSweepSeeds:
		return shard{}, fmt.Errorf("%s %s: the number of shards must be 1..%d", what, v, maxSweepSeeds)
	case i < 1 || i > n:
		return shard{}, fmt.Errorf("%s %s: the shard must be 1..%d (1-based: the i-th of n)", what, v, n)
	}
	return shard{i, n}, nil
}

// shardFrom picks the shard: --shard, else CSMSIM_SHARD (a CI matrix),
// else a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (0-based) with
// JOB_COMPLETIONS, else every seed.
func shardFrom(flag string, set bool, env func(string) (string, bool)) (shard, error) {
	if set {
		return parseShard("--shard", flag)
	}
	if v, ok := env("CSMSIM_SHARD"); ok && v != "" {
		return parseShard("CSMSIM_SHARD", v)
	}
	idx, hasIdx := env("JOB_COMPLETION_INDEX")
	total, hasTotal := env("JOB_COMPLETIONS")
	switch {
	case !hasIdx && !hasTotal:
		return shard{}, nil
	case !hasIdx:
		return shard{}, fmt.Errorf("JOB_COMPLETIONS=%s is set without JOB_COMPLETION_INDEX: run in a Kubernetes Indexed Job (completionMode: Indexed), or set CSMSIM_SHARD or --shard", total)
	case !hasTotal:
		return shard{}, fmt.Errorf("JOB_COMPLETION_INDEX=%s is set without JOB_COMPLETIONS: give the Job's completions as JOB_COMPLETIONS in the container's env (Kubernetes sets only the index)", idx)
	}
	i, err := strconv.Atoi(strings.TrimSpace(idx))
	if err != nil {
		return shard{}, fmt.Errorf("JOB_COMPLETION_INDEX=%q is not a number", idx)
	}
	return parseShard(fmt.Sprintf("JOB_COMPLETION_INDEX=%s JOB_COMPLETIONS=%s:", idx, total), fmt.Sprintf("%d/%s", i+1, total))
}

// sweep is one csmsim sweep: its seeds, its shard, how it runs.
type sweep struct {
	fs          afero.Fs
	first, last uint64
	shard       shard
	swarm       bool
	check       int
	failFast    bool
	nondet      []string // seeds whose two runs differ, each with the first difference
	notRun      int      // seeds --fail-fast did not start
}

// task is one run of a file with a seed. twice: the determinism check
// runs it again, and again is that second run.
type task struct {
	file         int
	seed         uint64
	twice, again bool
}

// result is what a task gave: the sweep's run, and its JSON report for
// the determinism check; skipped: --fail-fast did not start it.
type result struct {
	run     sweepRun
	json    []byte
	skipped bool
}

// run runs the sweep: every selected seed of every file, jobs at a time,
// the first check seeds of each twice. It returns the report and how many
// runs it made.
func (sw *sweep) run(ctx context.Context, files []string, jobs int) (*sweepReport, int, error) {
	srcs := make([][]byte, len(files))
	for i, f := range files {
		if _, err := loadScenario(sw.fs, f); err != nil {
			return nil, 0, oneLine(err)
		}
		b, err := afero.ReadFile(sw.fs, f)
		if err != nil {
			return nil, 0, err
		}
		srcs[i] = b
	}
	var tasks []task
	for fi := range files {
		picked := 0
		for idx := uint64(0); idx <= sw.last-sw.first; idx++ {
			if !sw.shard.has(idx) {
				continue
			}
			twice := picked < sw.check
			tasks = append(tasks, task{file: fi, seed: sw.first + idx, twice: twice})
			if twice {
				tasks = append(tasks, task{file: fi, seed: sw.first + idx, again: true})
			}
			picked++
		}
	}
	results := make([]result, len(tasks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	var failed atomic.Bool
	for ti, t := range tasks {
		g.Go(func() error {
			if sw.failFast && failed.Load() {
				results[ti].skipped = true
				return nil
			}
			r, err := sw.runOne(gctx, files[t.file], srcs[t.file], t.seed, t.twice || t.again)
			results[ti] = r
			if !r.run.Pass {
				failed.Store(true)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	rep := &sweepReport{Format: sweepFormat, Version: buildinfo.Read().String(), Files: files, Seeds: fmt.Sprintf("%d..%d", sw.first, sw.last), Shard: sw.shard.String(), Swarm: sw.swarm}
	runs := 0
	for ti, t := range tasks {
		if results[ti].skipped {
			if !t.again {
				sw.notRun++
			}
			continue
		}
		runs++
		if !t.again {
			rep.Runs = append(rep.Runs, results[ti].run)
			continue
		}
		first := results[ti-1] // the first run of the same seed comes just before
		if first.skipped {
			continue
		}
		if d := firstDifference(first.json, results[ti].json); d != "" {
			sw.nondet = append(sw.nondet, fmt.Sprintf("%s seed %d: its two JSON reports differ at %s", files[t.file], t.seed, d))
		}
	}
	rep.finish()
	return rep, runs, nil
}

// runOne runs one seed of a file, parsed afresh from its bytes so that no
// two runs share a Scenario. A run that cannot be built or run is a failed
// seed (its replay shows the error); only a cancelled sweep is an error.
func (sw *sweep) runOne(ctx context.Context, file string, src []byte, seed uint64, keepJSON bool) (result, error) {
	r := result{run: sweepRun{File: file, Seed: seed, Replay: replayCommand(file, seed, sw.swarm)}}
	sc, err := harness.Parse(file, src)
	if err != nil {
		return r, oneLine(err)
	}
	rep, err := harness.Run(ctx, sc, harness.Options{Seed: &seed, Swarm: sw.swarm})
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	if err != nil {
		r.run.Failure = "the run stopped: " + err.Error()
		r.json = []byte(r.run.Failure)
		return r, nil
	}
	r.run.Pass, r.run.Failure = rep.Pass, rep.FailureText()
	if keepJSON {
		var b bytes.Buffer
		if err := rep.WriteJSON(&b); err != nil {
			return r, err
		}
		r.json = b.Bytes()
	}
	return r, nil
}

// replayCommand is the command line that replays one seed.
func replayCommand(file string, seed uint64, swarm bool) string {
	s := fmt.Sprintf("csmsim run %s --seed %d", shellQuote(file), seed)
	if swarm {
		s += " --swarm"
	}
	return s
}

// shellQuote quotes a path for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// firstDifference names the first line where two JSON reports differ,
// with the lines before it and both versions of it; "" if they are equal.
func firstDifference(a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	i := 0
	for i < len(la) && i < len(lb) && la[i] == lb[i] {
		i++
	}
	line := func(l []string, i int) string {
		if i < len(l) {
			return l[i]
		}
		return "(end of the report)"
	}
	var s strings.Builder
	fmt.Fprintf(&s, "line %d:", i+1)
	for k := max(0, i-3); k < i; k++ {
		fmt.Fprintf(&s, "\n    %5d   %s", k+1, la[k])
	}
	fmt.Fprintf(&s, "\n  - %5d   %s   (first run)", i+1, line(la, i))
	fmt.Fprintf(&s, "\n  + %5d   %s   (second run)", i+1, line(lb, i))
	return s.String()
}

// deliver writes a sweep's (or a merge's) report where --report and --out
// say, and its summary on stdout, or on stderr when the report takes
// stdout.
func deliver(cmd *cobra.Command, fs afero.Fs, rep *sweepReport, report, out string, sum []byte) error {
	var body bytes.Buffer
	switch report {
	case "json":
		if err := rep.writeJSON(&body); err != nil {
			return err
		}
	case "junit":
		if err := rep.writeJUnit(&body); err != nil {
			return err
		}
	}
	var sumW io.Writer = cmd.OutOrStdout()
	switch {
	case report == "summary" && out != "":
		body.Write(sum)
		sumW = io.Discard
	case report != "summary" && out == "":
		sumW = cmd.ErrOrStderr()
	}
	if _, err := sumW.Write(sum); err != nil {
		return err
	}
	if body.Len() > 0 {
		if out != "" {
			if err := writeReport(fs, out, body.Bytes()); err != nil {
				return err
			}
		} else if _, err := cmd.OutOrStdout().Write(body.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// verdict is the sweep's exit: an error if a seed was not deterministic
// or failed, naming the first and how to replay it.
func verdict(rep *sweepReport, nondet []string, checked int) error {
	if len(nondet) > 0 {
		first, _, _ := strings.Cut(nondet[0], ":")
		return fmt.Errorf("%s is not deterministic: its two runs gave different JSON reports (the first difference is in the summary); %d of %d seeds checked differ",
			first, len(nondet), checked)
	}
	for _, r := range rep.Runs {
		if !r.Pass {
			return fmt.Errorf("%d of %d seeds failed; the first: %s seed %d: %s; replay: %s", rep.Failed, len(rep.Runs), r.File, r.Seed, r.Failure, r.Replay)
		}
	}
	return nil
}
