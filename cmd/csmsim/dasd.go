package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/sim/ckd"
)

func newDasdCmd(fs afero.Fs) *cobra.Command {
	cmd := &cobra.Command{Use: "dasd", Short: "Create and inspect CKD DASD volumes (Hercules CKD image format)"}
	cmd.AddCommand(newDasdInitCmd(fs), newDasdListCmd(fs), newDasdFillCmd(fs))
	return cmd
}

func newDasdInitCmd(fs afero.Fs) *cobra.Command {
	var cyls int
	var volser string
	cmd := &cobra.Command{
		Use:   "init FILE DEVTYPE --cyls N --volser VOLSER",
		Short: "Create a formatted CKD volume image (3390 or 3380, optionally with a model: 3390-3)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := ckd.Create(fs, args[0], args[1], cyls, volser)
			if err != nil {
				return err
			}
			defer v.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s volume %s, %d cylinders, %d tracks of %d bytes\n",
				v.Path(), v.Geometry().Type, v.Volser(), v.Cylinders(), v.Cylinders()*v.Geometry().Heads, v.Geometry().ImageTrackSize())
			return v.Sync()
		},
	}
	cmd.Flags().IntVar(&cyls, "cyls", 0, "number of cylinders (default: the model's, e.g. 3390-3 has 3339)")
	cmd.Flags().StringVar(&volser, "volser", "", "volume serial, 1 to 6 characters (required)")
	_ = cmd.MarkFlagRequired("volser")
	return cmd
}

func newDasdListCmd(fs afero.Fs) *cobra.Command {
	return &cobra.Command{
		Use:   "list FILE CYL HEAD",
		Short: "List the records of one track",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			cyl, err := cylinderArg("CYL", args[1])
			if err != nil {
				return err
			}
			head, err := cylinderArg("HEAD", args[2])
			if err != nil {
				return err
			}
			v, err := ckd.OpenReadOnly(fs, args[0])
			if err != nil {
				return err
			}
			defer v.Close()
			t, err := v.ReadTrack(cyl, head)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s %s %s cyl %d head %d: %d records\n", v.Path(), v.Geometry().Type, v.Volser(), cyl, head, len(t.Records))
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "R\tCC\tHH\tKL\tDL\tKEY\tDATA")
			for _, r := range t.Records {
				fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t%s\n", r.Rec, r.Cyl, r.Head, len(r.Key), len(r.Data), hex.EncodeToString(r.Key), preview(r.Data))
			}
			return tw.Flush()
		},
	}
}

// preview shows the first bytes of a record in hex, enough to recognise it.
func preview(b []byte) string {
	const n = 16
	if len(b) <= n {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:n]) + "..."
}

func cylinderArg(name, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q is not a non-negative number", name, s)
	}
	return n, nil
}

func newDasdFillCmd(fs afero.Fs) *cobra.Command {
	var from, to int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "fill FILE --from C1 --to C2 [--seed N]",
		Short: "Write seeded 4K records on every track of a cylinder range (test content, e.g. a nucleus)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := ckd.Open(fs, args[0])
			if err != nil {
				return err
			}
			defer v.Close()
			if from > to {
				return fmt.Errorf("--from %d is after --to %d", from, to)
			}
			if _, err := v.Extent(from, to-from+1); err != nil {
				return err
			}
			if err := ckd.FillSeeded(v, from, to, seed); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: cylinders %d-%d filled with %d-byte records (seed %d)\n", v.Path(), from, to, ckd.CMSBlockSize, seed)
			return v.Sync()
		},
	}
	cmd.Flags().IntVar(&from, "from", 0, "first cylinder")
	cmd.Flags().IntVar(&to, "to", 0, "last cylinder")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the record contents")
	return cmd
}
