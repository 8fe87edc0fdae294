package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/world"
)

// tableAt is one CSM table of a system: where it lives and its kind.
type tableAt struct {
	name  string
	store *table.Store
	kind  table.Kind
}

// systemTables are the tables of the system in state, or only those
// named: SYSSTAT, SVCSTAT, ROLLOUT and NAMES on a principal (SVCSTAT and
// ROLLOUT of release vrm), VM SYSSUF on a managed system.
func systemTables(s *world.System, state, vrm string, names []string, errOut io.Writer) ([]tableAt, error) {
	locker := stateLocks(state, errOut)
	if s.Config().Role == "managed" {
		env := s.Agent(wallClock{}, locker)
		st, err := env.SysufStore()
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !strings.EqualFold(n, agent.SysufTable) {
				return nil, fmt.Errorf("table %s: a managed system keeps only %s", n, agent.SysufTable)
			}
		}
		return []tableAt{{agent.SysufTable, st, agent.Sysuf()}}, nil
	}
	if len(names) == 0 {
		names = fleet.Tables()
	}
	fe := &fleet.Env{Env: &level.Env{Sys: s, Locker: locker, Clock: wallClock{}, User: level.Admin}}
	var out []tableAt
	for _, n := range names {
		st, kind, err := fe.TableStore(vrm, n)
		if err != nil {
			return nil, err
		}
		out = append(out, tableAt{strings.ToUpper(n), st, kind})
	}
	return out, nil
}

func newTableCmd(fs afero.Fs) *cobra.Command {
	var state, vrm string
	cmd := &cobra.Command{
		Use:   "table",
		Short: "Check the CSM tables of a system, and recover one torn by a crash",
		Long: "Every update of a CSM table keeps the generation it replaced beside it ($CSM SVCSTAT next to CSM SVCSTAT).\n" +
			"A table that does not read back whole (cut short by a crash or a failing disk) is refused by every\n" +
			"command, and nothing is written. `table check` says which tables are whole; `table recover` puts the\n" +
			"previous generation of a torn table back. The change the torn generation made is lost: find the\n" +
			"command in $CSMCMD $MSGLOG and enter it again.",
	}
	check := &cobra.Command{
		Use:   "check --state DIR [--release 720] [TABLE...]",
		Short: "Read every table (or those named) and say whether it is whole; exit 1 if one is torn",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openState(fs, state)
			if err != nil {
				return err
			}
			tables, err := systemTables(s, state, vrm, args, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			torn := 0
			for _, t := range tables {
				got, err := t.kind.Read(t.store)
				switch {
				case errors.Is(err, table.ErrNotFound):
					fmt.Fprintf(cmd.OutOrStdout(), "%-8s %s: none\n", t.name, t.kind.File.Name())
				case err != nil:
					torn++
					fmt.Fprintf(cmd.OutOrStdout(), "%-8s TORN: %v\n", t.name, err)
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "%-8s %s: whole, generation %d, %d entries\n", t.name, t.kind.File.Name(), got.Gen, got.Len())
				}
			}
			if torn > 0 {
				return fmt.Errorf("%d table(s) torn; recover each with csmsim table recover --state %s TABLE", torn, state)
			}
			return nil
		},
	}
	recover := &cobra.Command{
		Use:   "recover --state DIR [--release 720] TABLE",
		Short: "Put back the previous generation of a torn table (refused for a whole one)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openState(fs, state)
			if err != nil {
				return err
			}
			tables, err := systemTables(s, state, vrm, args, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			t := tables[0]
			r, err := t.kind.Recover(t.store)
			if err != nil {
				return err
			}
			torn := "unreadable"
			if r.Torn > 0 {
				torn = fmt.Sprint(r.Torn)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s recovered: generation %d (%d entries) restored as generation %d; "+
				"the change of the torn generation (%s) is lost: find its command in $CSMCMD $MSGLOG and enter it again\n",
				t.kind.File.Name(), r.From, r.Entries, r.Gen, torn)
			return nil
		},
	}
	for _, c := range []*cobra.Command{check, recover} {
		stateFlag(c, &state)
		c.Flags().StringVar(&vrm, "release", "720", "release of SVCSTAT and ROLLOUT")
	}
	cmd.AddCommand(check, recover)
	return cmd
}
