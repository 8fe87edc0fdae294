package main

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/sim/harness"
)

// newShrinkCmd is `csmsim shrink FILE --seed N --out MIN.yaml`: the
// smallest scenario that still fails as seed N of FILE does, written as a
// standalone file.
func newShrinkCmd(fs afero.Fs) *cobra.Command {
	var (
		seed  uint64
		out   string
		swarm bool
	)
	cmd := &cobra.Command{
		Use:   "shrink FILE --seed N --out MIN.yaml [--swarm]",
		Short: "Reduce a failing seed's scenario to the smallest one that fails the same way, as a standalone YAML file",
		Long: `Shrink a failing run: fix its faults to those the seed armed (no probability,
swarm off), drop faults one at a time, cut steps (delta debugging), make the
world smaller and generated envelopes smaller, as long as the run fails the same
way: the same violated invariant, or the same failed step (kind and line), or the
same failed expectation. Each candidate is validated and run with the seed.
The result is written to --out with the seed in it: csmsim run MIN.yaml fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			if abs, err := filepath.Abs(out); err == nil {
				if self, err := filepath.Abs(file); err == nil && abs == self {
					return fmt.Errorf("--out %s is the scenario being shrunk: write the shrunk one to another file", out)
				}
			}
			sc, err := loadScenario(fs, file)
			if err != nil {
				return oneLine(err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "shrinking %s seed %d\n", file, seed)
			res, err := harness.Shrink(cmd.Context(), sc, harness.ShrinkOptions{Seed: seed, Swarm: swarm, File: out,
				Log: func(line string) { fmt.Fprintf(w, "  %s\n", line) }})
			if err != nil {
				return err
			}
			var b bytes.Buffer
			if err := res.Scenario.WriteYAML(&b); err != nil {
				return err
			}
			if err := afero.WriteFile(fs, out, b.Bytes(), 0o644); err != nil {
				return err
			}
			min := res.Scenario
			fmt.Fprintf(w, "failure: %s\n", res.Signature)
			fmt.Fprintf(w, "wrote %s: %d steps (was %d), %d faults (was %d), %d systems (was %d); %d runs\n", out,
				len(min.Steps), len(sc.Steps), len(min.Faults), len(sc.Faults), systemCount(min), systemCount(sc), res.Runs)
			if !res.Fixed {
				fmt.Fprintf(w, "note: the failure needs the seed's own draws, so %s keeps the faults' probabilities (and swarm)\n", out)
			}
			fmt.Fprintf(w, "replay: csmsim run %s   # %s\n", shellQuote(out), res.Report.FailureText())
			return nil
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 0, "the failing seed")
	cmd.Flags().StringVar(&out, "out", "", "where to write the shrunk scenario")
	cmd.Flags().BoolVar(&swarm, "swarm", false, "the seed failed with --swarm")
	_ = cmd.MarkFlagRequired("seed")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// systemCount is how many managed systems a scenario's world has.
func systemCount(sc *harness.Scenario) int {
	if sc.World.Count > 0 {
		return sc.World.Count
	}
	return len(sc.World.Systems)
}
