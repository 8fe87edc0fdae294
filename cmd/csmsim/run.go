package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/sim/harness"
)

// newRunCmd is `csmsim run FILE...`: build each scenario's world, run its
// steps, check its expectations, print the summary and write a report.
func newRunCmd(fs afero.Fs) *cobra.Command {
	var (
		seed     uint64
		report   string
		out      string
		workdir  string
		quiet    bool
		swarm    bool
		timeline bool
	)
	cmd := &cobra.Command{
		Use:   "run FILE... [--seed N] [--report json|junit|html|summary] [--timeline] [--out PATH] [--workdir DIR] [--quiet]",
		Short: "Run scenarios: build the world, run the steps, check every expectation, report",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			switch report {
			case "", "summary", "json", "junit", "html":
			default:
				return fmt.Errorf("--report %q: use json, junit, html or summary", report)
			}
			if timeline && report != "json" {
				return fmt.Errorf("--timeline goes with --report json (for csmsim report to draw it); the HTML report always has the timeline, JUnit and the summary none")
			}
			var opts harness.Options
			if cmd.Flags().Changed("seed") {
				opts.Seed = &seed
			}
			opts.Workdir, opts.Swarm = workdir, swarm
			// The timeline of the HTML report is in wall time; the JSON and
			// JUnit reports leave time out and stay byte-identical.
			opts.Now = time.Now
			if !quiet {
				// Bars on a terminal; plain lines for logs and pipes.
				stdout, tty := cmd.OutOrStdout().(*os.File)
				pr := newProgress(cmd.ErrOrStderr(), false)
				if tty && isTerminal(stdout) {
					pr = newProgress(stdout, true)
				}
				opts.Out, opts.Observe = pr, pr.observe
			}
			var reports []*harness.Report
			var failed []string
			for _, f := range files {
				sc, err := loadScenario(fs, f)
				if err != nil {
					return oneLine(err)
				}
				rep, err := harness.Run(cmd.Context(), sc, opts)
				if err != nil {
					return err
				}
				reports = append(reports, rep)
				if !quiet {
					if err := rep.WriteSummary(cmd.OutOrStdout()); err != nil {
						return err
					}
				}
				if !rep.Pass {
					failed = append(failed, rep.FailureText())
				}
			}
			var buf bytes.Buffer
			switch report {
			case "json":
				if err := harness.WriteJSONWith(&buf, reports, harness.JSONOptions{Timeline: timeline}); err != nil {
					return err
				}
			case "junit":
				if err := harness.WriteJUnitAll(&buf, reports); err != nil {
					return err
				}
			case "html":
				if err := harness.WriteHTMLAll(&buf, reports); err != nil {
					return err
				}
			case "summary":
				if quiet || out != "" {
					for _, r := range reports {
						if err := r.WriteSummary(&buf); err != nil {
							return err
						}
					}
				}
			}
			if buf.Len() > 0 {
				if out != "" {
					if err := writeReport(fs, out, buf.Bytes()); err != nil {
						return err
					}
				} else if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
					return err
				}
			}
			if len(failed) > 0 {
				msg := failed[0]
				if len(failed) > 1 {
					msg += fmt.Sprintf(" (and %d more scenarios failed)", len(failed)-1)
				}
				return errors.New(msg)
			}
			return nil
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 0, "seed for the run (default: the scenario's seed)")
	cmd.Flags().StringVar(&report, "report", "", "report to write: json, junit, html (self-contained, with a timeline) or summary")
	cmd.Flags().BoolVar(&timeline, "timeline", false,
		"with --report json: add the phases' timeline (wall time), so that csmsim report can draw the HTML report from the JSON; the JSON then differs between runs in its times")
	cmd.Flags().StringVar(&out, "out", "", "write the report to this file instead of stdout")
	cmd.Flags().StringVar(&workdir, "workdir", "", "build a disk-backed world in a fresh directory under DIR (default: in memory)")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no summary and no progress lines")
	cmd.Flags().BoolVar(&swarm, "swarm", false, "switch each fault kind on or off, and pick each fault's probability, by the seed")
	return cmd
}

// oneLine joins a multi-line error (several problems in a file) with "; ".
func oneLine(err error) error {
	return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
}

// newValidateCmd is `csmsim validate FILE...`: decode and check without
// running; one line per problem, file:line:column.
func newValidateCmd(fs afero.Fs) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files without running them (errors as file:line:column)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			bad := 0
			for _, f := range files {
				_, err := loadScenario(fs, f)
				if err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", f)
					continue
				}
				bad++
				var errs harness.Errors
				if errors.As(err, &errs) {
					for _, e := range errs {
						fmt.Fprintf(cmd.ErrOrStderr(), "csmsim: %s\n", e.Error())
					}
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "csmsim: %v\n", err)
				}
			}
			if bad > 0 {
				return exitCode(1)
			}
			return nil
		},
	}
}

// newListCmd is `csmsim list [DIR]`: the scenarios in DIR (default
// ./scenarios), one line each.
func newListCmd(fs afero.Fs) *cobra.Command {
	return &cobra.Command{
		Use:   "list [DIR]",
		Short: "List the scenarios in DIR (default ./scenarios): name and description",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := defaultScenarios
			if len(args) == 1 {
				dir = args[0]
			}
			files, err := scenarioFiles(fs, dir)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return fmt.Errorf("no scenarios (*.yaml) in %s", dir)
			}
			w := cmd.OutOrStdout()
			for _, f := range files {
				sc, err := harness.Load(f)
				if err != nil {
					fmt.Fprintf(w, "%-34s INVALID: %s\n", filepath.Base(f), strings.SplitN(err.Error(), "\n", 2)[0])
					continue
				}
				fmt.Fprintf(w, "%-34s %s\n", sc.Name, sc.Description)
			}
			return nil
		},
	}
}

// defaultScenarios is where csmsim list looks, and where a scenario that
// does not exist is looked for instead.
const defaultScenarios = "scenarios"

// scenarioFiles are the scenarios (*.yaml) in dir, sorted.
func scenarioFiles(fs afero.Fs, dir string) ([]string, error) {
	files, err := afero.Glob(fs, filepath.Join(dir, "*.yaml"))
	sort.Strings(files)
	return files, err
}

// loadScenario is harness.Load; a file that does not exist is an error
// that lists the scenarios that do, beside it or else in ./scenarios, as
// csmsim list would.
func loadScenario(fs afero.Fs, file string) (*harness.Scenario, error) {
	sc, err := harness.Load(file)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return sc, err
	}
	for _, dir := range []string{filepath.Dir(file), defaultScenarios} {
		if files, _ := scenarioFiles(fs, dir); len(files) > 0 {
			list := "csmsim list"
			if dir != defaultScenarios {
				list += " " + dir
			}
			return nil, fmt.Errorf("%s: no such scenario file; the scenarios in %s (%s shows what each does): %s",
				file, dir, list, strings.Join(files, ", "))
		}
	}
	return nil, fmt.Errorf("%s: no such scenario file, and no scenarios (*.yaml) beside it nor in ./%s: write one (docs/scenarios.md)", file, defaultScenarios)
}
