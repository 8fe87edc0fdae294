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
	root := &cobra.Command{
		Use:           "csmsim",
		Short:         "Simulator and emulation test harness for z/VM Centralized Service Management",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDasdCmd(fs), newDDRCmd(fs), newPrincipalCmd(fs), newCMSCmd(fs), newFixturesCmd(fs), newServmgrCmd(fs), newNodeCmd(fs))
	root.AddCommand(newRunCmd(fs), newReportCmd(fs), newValidateCmd(fs), newListCmd(fs), newTableCmd(fs), newSweepCmd(fs), newShrinkCmd(fs))
	return root
}
