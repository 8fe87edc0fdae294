// Command csmsim is the z/VM Centralized Service Management simulator and
// emulation test harness. See README.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/internal/buildinfo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line; errors become a single line on stderr and
// a non-zero exit status.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(afero.NewOsFs())
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		var rc exitCode
		if errors.As(err, &rc) {
			return int(rc) // SERVMGR printed its messages
		}
		fmt.Fprintf(stderr, "csmsim: %v\n", err)
		return 1
	}
	return 0
}

func newRoot(fs afero.Fs) *cobra.Command {
	info := buildinfo.Read()
	root := &cobra.Command{
		Use:           "csmsim",
		Short:         "Simulator and emulation test harness for z/VM Centralized Service Management",
		Version:       info.String(), // --version
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// --version prints what csmsim version does.
	root.SetVersionTemplate(info.Long())
	root.AddCommand(newDasdCmd(fs), newDDRCmd(fs), newPrincipalCmd(fs), newCMSCmd(fs), newFixturesCmd(fs), newServmgrCmd(fs), newNodeCmd(fs))
	root.AddCommand(newRunCmd(fs), newReportCmd(fs), newValidateCmd(fs), newListCmd(fs), newTableCmd(fs), newSweepCmd(fs), newShrinkCmd(fs))
	root.AddCommand(newVersionCmd(info))
	return root
}

// newVersionCmd is `csmsim version`: which csmsim this is, as the build
// recorded it, so that a report or a bug names the binary.
func newVersionCmd(info buildinfo.Info) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print csmsim's module version, VCS revision and whether its tree was modified",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.WriteString(cmd.OutOrStdout(), info.Long())
			return err
		},
	}
}
