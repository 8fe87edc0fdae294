package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
)

func newDDRCmd(fs afero.Fs) *cobra.Command {
	cmd := &cobra.Command{Use: "ddr", Short: "DASD Dump Restore: dump, restore and copy cylinders, with REORDER"}
	cmd.AddCommand(newDDRDumpCmd(fs), newDDRRestoreCmd(fs), newDDRCopyCmd(fs), newDDRRunCmd(fs))
	return cmd
}

// wholeVolume opens an image as one extent.
func wholeVolume(fs afero.Fs, path string, readOnly bool) (*ckd.Volume, ckd.Extent, error) {
	return ckd.OpenExtent(fs, path, 0, -1, readOnly)
}

func rangeFlags(cmd *cobra.Command, from, to *int) {
	cmd.Flags().IntVar(from, "from", 0, "first cylinder")
	cmd.Flags().IntVar(to, "to", 0, "last cylinder")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
}

func newDDRDumpCmd(fs afero.Fs) *cobra.Command {
	var from, to int
	var out string
	cmd := &cobra.Command{
		Use:   "dump FILE --from C1 --to C2 --out DUMPFILE",
		Short: "Dump a cylinder range of a volume to a dump file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, src, err := wholeVolume(fs, args[0], true)
			if err != nil {
				return err
			}
			defer v.Close()
			// Written aside and renamed, so a failed dump never leaves a
			// file that looks complete.
			tmp := out + ".partial"
			f, err := fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			sum, err := ddr.Dump(src, from, to, f)
			if err == nil {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = fs.Rename(tmp, out)
			}
			if err != nil {
				_ = fs.Remove(tmp)
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s cylinders %d-%d dumped to %s: %s\n", args[0], from, to, out, sum)
			return nil
		},
	}
	rangeFlags(cmd, &from, &to)
	cmd.Flags().StringVar(&out, "out", "", "dump file to write (required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func newDDRRestoreCmd(fs afero.Fs) *cobra.Command {
	var reorder int
	cmd := &cobra.Command{
		Use:   "restore DUMPFILE FILE [--reorder C3]",
		Short: "Restore a dump onto a volume, at the dumped cylinders or REORDERed to C3",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := fs.Open(args[0])
			if err != nil {
				return err
			}
			defer d.Close()
			v, dst, err := wholeVolume(fs, args[1], false)
			if err != nil {
				return err
			}
			defer v.Close()
			sum, err := ddr.Restore(d, dst, reorder)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s restored onto %s: %s\n", args[0], args[1], sum)
			return v.Sync()
		},
	}
	cmd.Flags().IntVar(&reorder, "reorder", -1, "first target cylinder (default: the cylinders the dump came from)")
	return cmd
}

func newDDRCopyCmd(fs afero.Fs) *cobra.Command {
	var from, to, reorder int
	var target string
	cmd := &cobra.Command{
		Use:   "copy FILE --from C1 --to C2 --reorder C3 [--target FILE2]",
		Short: "Copy cylinders within a volume or to another, REORDERed to C3",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, src, err := wholeVolume(fs, args[0], false)
			if err != nil {
				return err
			}
			defer v.Close()
			dst, name := src, args[0]
			if target != "" && target != args[0] {
				tv, te, err := wholeVolume(fs, target, false)
				if err != nil {
					return err
				}
				defer tv.Close()
				dst, name = te, target
			}
			sum, err := ddr.Copy(src, from, to, dst, reorder)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s cylinders %d-%d copied to %s: %s\n", args[0], from, to, name, sum)
			return dst.Volume.Sync()
		},
	}
	rangeFlags(cmd, &from, &to)
	cmd.Flags().IntVar(&reorder, "reorder", -1, "first target cylinder (required)")
	_ = cmd.MarkFlagRequired("reorder")
	cmd.Flags().StringVar(&target, "target", "", "target volume (default: the same volume)")
	return cmd
}

func newDDRRunCmd(fs afero.Fs) *cobra.Command {
	var units []string
	cmd := &cobra.Command{
		Use:   "run CONTROLFILE --unit VDEV=FILE ...",
		Short: "Run a deck of DDR control statements (INPUT, OUTPUT, DUMP, RESTORE, COPY ... REORDER TO)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := unitMap(units)
			if err != nil {
				return err
			}
			deck, err := fs.Open(args[0])
			if err != nil {
				return err
			}
			defer deck.Close()
			prog, err := ddr.ParseControl(deck)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return prog.Run(fs, m, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringArrayVar(&units, "unit", nil, "virtual device to image or dump file, e.g. 0190=mnt190.390 (repeatable)")
	return cmd
}

func unitMap(units []string) (map[string]string, error) {
	m := make(map[string]string, len(units))
	for _, u := range units {
		vdev, path, ok := strings.Cut(u, "=")
		if !ok || vdev == "" || path == "" {
			return nil, fmt.Errorf("--unit %q: expected VDEV=FILE, e.g. 0190=mnt190.390", u)
		}
		vdev = strings.ToUpper(vdev)
		if len(vdev) < 4 {
			vdev = strings.Repeat("0", 4-len(vdev)) + vdev
		}
		if _, dup := m[vdev]; dup {
			return nil, fmt.Errorf("--unit %s given twice", vdev)
		}
		m[vdev] = path
	}
	return m, nil
}
