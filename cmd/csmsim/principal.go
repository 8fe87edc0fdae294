package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/fixtures"
	"github.com/csmsim/csmsim/sim/flock"
	"github.com/csmsim/csmsim/sim/hostfs"
	"github.com/csmsim/csmsim/sim/world"
)

// stateFs is a principal's state directory as an afero.Fs.
func stateFs(fs afero.Fs, dir string) afero.Fs { return hostfs.Sub(fs, dir) }

var scales = map[string]fixtures.Scale{"tiny": fixtures.ScaleTiny, "small": fixtures.ScaleSmall, "large": fixtures.ScaleLarge}

func newPrincipalCmd(fs afero.Fs) *cobra.Command {
	cmd := &cobra.Command{Use: "principal", Short: "Create the principal system (MAINTCSM, VMPSFS) in a state directory"}
	var (
		state, ssi, scale string
		blocks            int64
		seed              uint64
		releases          []string
	)
	initCmd := &cobra.Command{
		Use:   "init --state DIR [--release 720,730,...] [--vmpsfs-blocks N] [--ssi NAME] [--scale tiny|small|large] [--seed N]",
		Short: "Create a fresh principal: VMPSFS, per release MAINTvrm with the CSMvrm UNLOAD file on 5BC, MAINTCSM with its A-disk",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, ok := scales[scale]
			if !ok {
				return fmt.Errorf("--scale %q: use tiny, small or large", scale)
			}
			var rels []world.ReleaseBase
			var bases []fixtures.BaseSpec
			for _, r := range releases {
				r = strings.TrimSpace(r)
				if n, err := strconv.Atoi(r); err != nil || len(r) != 3 || n < 720 {
					return fmt.Errorf("--release %q: give z/VM releases of 7.2 or later as vrm, e.g. 720,730", r)
				}
				// One seed for every release: each BASE differs by its
				// release, and fixtures gen finds it again from the seed.
				base := fixtures.Base(r, seed, sc)
				bases = append(bases, base)
				rels = append(rels, world.ReleaseBase{Release: r, Unload: world.BaseUnload(base)})
			}
			if err := fs.MkdirAll(state, 0o755); err != nil {
				return err
			}
			s, err := world.InitPrincipal(stateFs(fs, state), world.PrincipalOptions{
				SSI: ssi, VMPSFSBlocks: blocks, Seed: seed, Releases: rels})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "principal %s created in %s: VMPSFS %d blocks, %s on MAINT%s 05BC (%d parts)\n",
				s.Name(), state, blocks, world.UnloadFileID(bases[0].Release), bases[0].Release, len(bases[0].Parts))
			for _, base := range bases[1:] {
				fmt.Fprintf(cmd.OutOrStdout(), "  and %s on MAINT%s 05BC (%d parts)\n", world.UnloadFileID(base.Release), base.Release, len(base.Parts))
			}
			if ssi != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "the principal is a member of SSI cluster %s\n", ssi)
			}
			return nil
		},
	}
	requiredState(initCmd, &state, "--state DIR is required: the directory to create the principal in, e.g. csmsim principal init --state out/principal")
	initCmd.Flags().Int64Var(&blocks, "vmpsfs-blocks", world.DefaultVMPSFSBlocks, "VMPSFS capacity in 4K blocks (INITIALIZE needs 355,800 free)")
	initCmd.Flags().StringSliceVar(&releases, "release", []string{world.DefaultRelease}, "the releases the principal carries, each with its MAINTvrm 05BC and CSMvrm UNLOAD: 720,730,740")
	initCmd.Flags().StringVar(&ssi, "ssi", "", "make the principal a member of this SSI cluster (to rehearse INITIALIZE's refusal)")
	initCmd.Flags().StringVar(&scale, "scale", "tiny", "size of the generated BASE: tiny, small or large")
	initCmd.Flags().Uint64Var(&seed, "seed", fixtures.SampleBaseSeed, "seed of the generated BASE (the default matches the sample envelopes)")
	cmd.AddCommand(initCmd)
	return cmd
}

// operandFlags is for a command whose operands are another system's words
// (SERVMGR, CMS, a MAINT720 command): its flags stand anywhere among them,
// as pflag intersperses them, and -- ends them. A word that pflag takes for
// an unknown flag is most likely such an operand, so the error says where
// it goes.
func operandFlags(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%v; an operand that starts with - goes after --, as in %s [flags] -- OPERANDS", err, c.CommandPath())
	})
}

// stateFlag is --state DIR of a command working in a principal's state
// directory.
func stateFlag(cmd *cobra.Command, state *string) {
	requiredState(cmd, state, "--state DIR is required: the state directory holds a principal on disk "+
		"(its VMPSFS file pool, MAINTCSM and the CSM tables); create one with csmsim principal init --state DIR")
}

// requiredState adds --state DIR; left out, the command fails with
// missing, which says what the directory is and how to make one (cobra's
// own error for a required flag says neither).
func requiredState(cmd *cobra.Command, state *string, missing string) {
	cmd.Flags().StringVar(state, "state", "", "state directory of the system (required)")
	pre := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if *state == "" {
			return errors.New(missing)
		}
		if pre != nil {
			return pre(c, args)
		}
		return nil
	}
}

// stateLocks are the locks of the commands working in a state directory,
// shared with every other process there; a command that has to wait for
// one says so on errOut.
func stateLocks(state string, errOut io.Writer) table.Locker {
	return flock.NewNotifying(filepath.Join(state, "locks"), func(resource string) {
		fmt.Fprintf(errOut, "csmsim: waiting for %s: another command in %s holds it\n", resource, state)
	})
}

// openState opens the system in a state directory. Several processes may
// work in one state at once (a node's CSMSERVE and a command on its
// MAINT720, a query during a roll-out): each holds the state shared until
// it exits, and commands serialize on the locks of what they change. Only
// a process alone in the state tidies temporaries left by crashed
// writers, which must not be another live process's.
func openState(fs afero.Fs, state string) (*world.System, error) {
	if _, err := fs.Stat(state); err != nil {
		return nil, fmt.Errorf("%s: %v; create a principal with csmsim principal init --state %s, a managed system with csmsim node init --root %s", state, err, state, state)
	}
	var s *world.System
	alone, _, err := flock.Share(filepath.Join(state, "locks"), "csmsim state", func() error {
		var err error
		s, err = world.Open(stateFs(fs, state))
		return err
	})
	if err != nil || alone {
		return s, err
	}
	return world.Join(stateFs(fs, state))
}

func newCMSCmd(fs afero.Fs) *cobra.Command {
	var state, user string
	cmd := &cobra.Command{
		Use:   "cms --state DIR [--user USERID] COMMAND...",
		Short: "Run a CMS file pool command: ENROLL ADMIN|USER, MODIFY USER, QUERY LIMITS, QUERY FILEPOOL",
		Example: "  csmsim cms --state p ENROLL ADMIN MAINTCSM VMPSFS:\n" +
			"  csmsim cms --state p 'ENROLL USER MAINTCSM VMPSFS: (BLOCKS 50000'\n" +
			"  csmsim cms --state p QUERY LIMITS FOR ALL VMPSFS:",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openState(fs, state)
			if err != nil {
				return err
			}
			return s.CMS().Exec(strings.ToUpper(user), args, cmd.OutOrStdout())
		},
	}
	operandFlags(cmd)
	stateFlag(cmd, &state)
	cmd.Flags().StringVar(&user, "user", "MAINT720", "the userid typing the command (file pool administrators: MAINT, MAINT720)")
	return cmd
}

func newFixturesCmd(fs afero.Fs) *cobra.Command {
	cmd := &cobra.Command{Use: "fixtures", Short: "Place sample envelopes or generate new ones"}
	var state string
	sample := &cobra.Command{
		Use:   "sample --state DIR",
		Short: "Put the committed sample envelopes (RSU0801, RSU0802) on MAINTCSM's A-disk as <NAME> SERVLINK",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openState(fs, state)
			if err != nil {
				return err
			}
			for _, e := range fixtures.SampleEnvelopes() {
				f, err := fixtures.SampleFS().Open("sample/" + e.FileName())
				if err != nil {
					return err
				}
				err = s.WriteAdminFile(e.FileID(), func(w io.Writer) error { _, err := io.Copy(w, f); return err })
				f.Close()
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s placed on MAINTCSM 0191\n", e.FileID())
			}
			return nil
		},
	}
	stateFlag(sample, &state)

	var (
		gstate, kind, name, comp, origin, out, gscale, grelease string
		seed                                                    uint64
		parts                                                   int
	)
	gen := &cobra.Command{
		Use:   "gen --state DIR --kind rsu|cor|localmod --name NAME [--release vrm] [--parts N] [--seed N] [--component C] [--origin O] [--out FILE]",
		Short: "Generate an envelope against the principal's BASE, onto MAINTCSM's A-disk (or --out FILE)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openState(fs, gstate)
			if err != nil {
				return err
			}
			sc, ok := scales[gscale]
			if !ok {
				return fmt.Errorf("--scale %q: use tiny, small or large", gscale)
			}
			cfg := s.Config()
			rel := cfg.Release
			if grelease != "" {
				if !slices.Contains(cfg.AllReleases(), grelease) {
					return fmt.Errorf("--release %s: the principal in %s carries %s only", grelease, gstate, strings.Join(cfg.AllReleases(), ", "))
				}
				rel = grelease
			}
			base := fixtures.Base(rel, cfg.Seed, sc)
			var e fixtures.EnvelopeSpec
			name = strings.ToUpper(name)
			switch strings.ToLower(kind) {
			case "rsu":
				e = fixtures.RSU(rel, name, seed, base, parts)
			case "cor":
				e = fixtures.COR(rel, name, seed, base, strings.ToUpper(comp), parts)
			case "localmod":
				e = fixtures.LocalMod(rel, name, seed, base, strings.ToUpper(comp), strings.ToUpper(origin), parts)
			default:
				return fmt.Errorf("--kind %q: use rsu, cor or localmod", kind)
			}
			if out != "" {
				f, err := fs.Create(out)
				if err != nil {
					return err
				}
				if err := fixtures.WriteEnvelope(f, e); err != nil {
					f.Close()
					return err
				}
				return f.Close()
			}
			if err := s.PutEnvelopes(e); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s generated on MAINTCSM 0191: %d parts\n", e.FileID(), len(e.Parts))
			return nil
		},
	}
	stateFlag(gen, &gstate)
	gen.Flags().StringVar(&kind, "kind", "rsu", "rsu, cor or localmod")
	gen.Flags().StringVar(&name, "name", "", "envelope name, 1-8 characters (required)")
	_ = gen.MarkFlagRequired("name")
	gen.Flags().IntVar(&parts, "parts", 4, "parts to change")
	gen.Flags().StringVar(&grelease, "release", "", "the release the envelope services (default the principal's first)")
	gen.Flags().Uint64Var(&seed, "seed", 1, "seed of the envelope")
	gen.Flags().StringVar(&comp, "component", "CMS", "component (cor, localmod)")
	gen.Flags().StringVar(&origin, "origin", "CUSTOMER", "origin of a local modification: IBM, VENDOR or CUSTOMER")
	gen.Flags().StringVar(&out, "out", "", "write the envelope to this file instead")
	gen.Flags().StringVar(&gscale, "scale", "tiny", "part sizes: tiny (~256 B), small (~16 KB) or large (~1 MB each)")
	cmd.AddCommand(sample, gen)
	return cmd
}

// exitCode carries SERVMGR's return code to the process exit status.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("RC=%d", int(e)) }

// autoWorkers is --workers: n, or for 0 four systems per CPU and at
// least 8. A system's SEND keeps the principal busy only while it reads
// and sends (the node hashes, validates and loads), so a few per CPU keep
// the wire full without the transfers slowing each other down
// (docs/performance.md measures it).
func autoWorkers(n int) int {
	if n > 0 {
		return n
	}
	return max(8, 4*runtime.GOMAXPROCS(0))
}

func newServmgrCmd(fs afero.Fs) *cobra.Command {
	var state, user, at, pwFile, caFile, logFormat string
	var workers int
	var timeout time.Duration
	var connectTo, verifyBy map[string]string
	var activeFTP bool
	cmd := &cobra.Command{
		Use:   "servmgr OPERANDS... --state DIR",
		Short: "Run one SERVMGR command on the principal in DIR; the exit status is its return code",
		Long: "Run one SERVMGR command. Give the operands as separate words or as one quoted string\n" +
			"(the CMS options parenthesis is a shell metacharacter): csmsim servmgr 'srvlvl send 720 lvl vm01 (test' --state p\n" +
			"The flags may stand anywhere on the line; -- ends them, and an operand that starts with - goes after it.\n\n" +
			strings.Join(servmgr.Forms(), "\n"),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(logFormat, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			for from, to := range connectTo {
				if err := hostPort(from); err != nil {
					return fmt.Errorf("--connect-to %s=%s: %v", from, to, err)
				}
				if err := hostPort(to); err != nil {
					return fmt.Errorf("--connect-to %s=%s: %v", from, to, err)
				}
			}
			verifyFor, err := verifyFlag(verifyBy)
			if err != nil {
				return err
			}
			s, err := openState(fs, state)
			if err != nil {
				return err
			}
			clock, err := clockFlag(at)
			if err != nil {
				return err
			}
			env := &level.Env{Sys: s, Locker: loggedLocks(state, logFormat, log, cmd.ErrOrStderr()), Clock: clock, User: strings.ToUpper(user)}
			pw, err := password(fs, pwFile)
			if err != nil {
				return err
			}
			var wire *fleet.Wire
			if pw != "" { // no CSMWORK password, no transport
				ftp := transport.NewFTP(transport.FTPOptions{Timeout: timeout, ConnectTo: connectTo,
					VerifyFor: verifyFor, Active: activeFTP})
				// Each system's phases are logged as they start and end,
				// timed on the wall clock (--time fixes the CMS clock only).
				wire = &fleet.Wire{Transport: ftp, Password: pw,
					CAFile: caFile, Workers: autoWorkers(workers), Pause: pause(100 * time.Millisecond),
					Observe: phaseLog(log), Now: time.Now}
			}
			res := servmgr.Run(cmd.Context(), env, wire, args)
			for _, l := range res.Strings() {
				fmt.Fprintln(cmd.OutOrStdout(), l)
			}
			if res.RC != 0 {
				return exitCode(res.RC)
			}
			return nil
		},
	}
	operandFlags(cmd)
	stateFlag(cmd, &state)
	cmd.Flags().StringVar(&user, "user", level.Admin, "the userid entering the command")
	cmd.Flags().StringVar(&at, "time", "", "fix the clock at this RFC 3339 time (reproducible logs); default: the wall clock")
	cmd.Flags().StringVar(&pwFile, "password-file", "", "file whose first line is CSMWORK's password (or set "+PasswordEnv+"); without one, no transport")
	cmd.Flags().StringVar(&caFile, "ca-file", "", "PEM CA that signed the nodes' certificates, for systems added with REQUIRE")
	cmd.Flags().IntVar(&workers, "workers", 0, "managed systems served at once; in SEND, transfers at once while the nodes validate and load (0: 4 per CPU, at least 8; docs/performance.md)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "timeout of each FTP step")
	cmd.Flags().StringToStringVar(&connectTo, "connect-to", nil,
		"HOST:PORT=HOST2:PORT2: reach the system recorded at HOST:PORT at HOST2:PORT2 instead, as curl's --connect-to (a tunnel, a stand-in); repeatable")
	cmd.Flags().StringToStringVar(&verifyBy, "verify", nil,
		"SYSTEM=xsha256|readback|size: how uploads to SYSTEM are verified: the node's SHA-256 (XSHA256, the default), "+
			"reading each file back and hashing it, or its SIZE only; for a system whose FTP server has no XSHA256; repeatable")
	logFormatFlag(cmd, &logFormat)
	cmd.Flags().BoolVar(&activeFTP, "active-ftp", false,
		"open FTP data connections in active mode (PORT/EPRT): each node connects back to this host; default passive (EPSV/PASV)")
	return cmd
}

// verifyFlag reads --verify's SYSTEM=MODE pairs.
func verifyFlag(pairs map[string]string) (map[string]transport.VerifyMode, error) {
	out := make(map[string]transport.VerifyMode, len(pairs))
	for system, mode := range pairs {
		if system == "" || strings.ContainsAny(system, " \t:") {
			return nil, fmt.Errorf("--verify %s=%s: %q is not a system name", system, mode, system)
		}
		m, err := transport.ParseVerifyMode(mode)
		if err != nil {
			return nil, fmt.Errorf("--verify %s=%s: %v", system, mode, err)
		}
		out[strings.ToUpper(system)] = m
	}
	return out, nil
}

// hostPort checks a host:port operand.
func hostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" {
		return fmt.Errorf("%q is not host:port with a port from 1 to 65535", s)
	}
	return nil
}

// pause waits d between polls of a managed system's job, or until ctx ends.
func pause(d time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// wallClock is the CLI's clock: the engine gets time only through it.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func clockFlag(at string) (cms.Clock, error) {
	if at == "" {
		return wallClock{}, nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return nil, fmt.Errorf("--time %q: %v; e.g. 2026-11-23T14:00:00Z", at, err)
	}
	return cms.FixedClock{T: t}, nil
}
