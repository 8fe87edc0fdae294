package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/csmserve/metrics"
	"github.com/csmsim/csmsim/sim/world"
)

// PasswordEnv carries CSMWORK's password when no --password-file is given.
const PasswordEnv = "CSMSIM_CSMWORK_PASSWORD"

// password reads CSMWORK's password from a file (first line) or the
// environment; "" if neither is given.
func password(fs afero.Fs, file string) (string, error) {
	if file != "" {
		f, err := fs.Open(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %v", err)
		}
		defer f.Close()
		const most = 4096 // a password is one short line
		b, err := io.ReadAll(io.LimitReader(f, most+1))
		if err != nil {
			return "", fmt.Errorf("--password-file %s: %v", file, err)
		}
		if len(b) > most {
			return "", fmt.Errorf("--password-file %s is larger than %d bytes; it holds CSMWORK's password on its first line", file, most)
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		pw = strings.TrimRight(pw, "\r")
		if pw == "" {
			return "", fmt.Errorf("--password-file %s is empty", file)
		}
		return pw, nil
	}
	return os.Getenv(PasswordEnv), nil
}

func newNodeCmd(fs afero.Fs) *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "A managed system: create it, serve CSMSERVE, run commands on its MAINT720"}
	cmd.AddCommand(newNodeInitCmd(fs), newNodeServeCmd(fs), newNodeRunCmd(fs))
	return cmd
}

func newNodeInitCmd(fs afero.Fs) *cobra.Command {
	var root, system, release, ssi, principal, lvl, at string
	cmd := &cobra.Command{
		Use:   "init --root DIR --system VM01 [--release 720] [--ssi NAME] [--state P --level L]",
		Short: "Create a managed system; with --state and --level, installed at a level the principal at P knows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (principal == "") != (lvl == "") {
				return errors.New("--state and --level go together: the principal that knows the level, and the level")
			}
			clock, err := clockFlag(at)
			if err != nil {
				return err
			}
			if err := fs.MkdirAll(root, 0o755); err != nil {
				return err
			}
			s, err := world.InitManaged(stateFs(fs, root), world.ManagedOptions{Name: strings.ToUpper(system), SSI: ssi, Release: release})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "managed system %s created in %s (release %s)\n", s.Name(), root, release)
			if principal == "" {
				return nil
			}
			p, err := openState(fs, principal)
			if err != nil {
				return err
			}
			penv := &level.Env{Sys: p, Locker: stateLocks(principal, cmd.ErrOrStderr()), Clock: clock, User: level.Admin}
			env := s.Agent(clock, stateLocks(root, cmd.ErrOrStderr()))
			res, err := world.InstallLevel(s, penv, env, release, strings.ToUpper(lvl))
			if err != nil {
				return fmt.Errorf("%w (after: %v)", err, lineError(res.Lines))
			}
			fmt.Fprintf(out, "%s installed at service level %s of %s (%d messages)\n", s.Name(), strings.ToUpper(lvl), principal, len(res.Lines))
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "root", "", "directory of the managed system (required)")
	_ = cmd.MarkFlagRequired("root")
	cmd.Flags().StringVar(&system, "system", "VM01", "system name")
	cmd.Flags().StringVar(&release, "release", world.DefaultRelease, "z/VM release (vrm)")
	cmd.Flags().StringVar(&ssi, "ssi", "", "make the system a member of this SSI cluster (SYSTEM ADD refuses it)")
	cmd.Flags().StringVar(&principal, "state", "", "the principal's state directory, to install a level it knows")
	cmd.Flags().StringVar(&lvl, "level", "", "the service level to install")
	cmd.Flags().StringVar(&at, "time", "", "fix the clock (RFC 3339)")
	return cmd
}

// lineError turns message lines into an error of one line.
func lineError(lines []msg.Line) error {
	var s []string
	for _, l := range lines {
		s = append(s, l.String())
	}
	return errors.New(strings.Join(s, "; "))
}

func newNodeServeCmd(fs afero.Fs) *cobra.Command {
	var root, listen, pwFile, at, certFile, keyFile, logFormat, metricsListen string
	var fromDataPort bool
	cmd := &cobra.Command{
		Use:   "serve --root DIR --listen ADDR --password-file F [--log-format text|json] [--metrics-listen ADDR]",
		Short: "Run the system's CSMSERVE until stopped (SIGTERM or SIGINT: the job in flight finishes or is abandoned cleanly)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(logFormat, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			pw, err := password(fs, pwFile)
			if err != nil {
				return err
			}
			if pw == "" {
				return fmt.Errorf("CSMWORK needs a password: give --password-file F or set %s", PasswordEnv)
			}
			clock, err := clockFlag(at)
			if err != nil {
				return err
			}
			s, err := openState(fs, root)
			if err != nil {
				return err
			}
			cfg := csmserve.Config{Password: pw, ListenAddr: listen, ActiveFromDataPort: fromDataPort, Logger: log}
			if certFile != "" {
				if cfg.TLS, err = serverTLS(certFile, keyFile); err != nil {
					return err
				}
			}
			env := s.Agent(clock, loggedLocks(root, logFormat, log, cmd.ErrOrStderr()))
			var exposed *metricsServer
			if metricsListen != "" {
				m := metrics.New(s.Name(), nil)
				cfg.Metrics, env.Observe = m, m.Job
				if exposed, err = serveMetrics(metricsListen, m); err != nil {
					return err
				}
				defer exposed.close()
			}
			n, err := s.Serve(env, cfg)
			var busy *csmserve.DataPortError
			if errors.As(err, &busy) {
				return fmt.Errorf("%w; free port %d, or send active-mode data from any port with --active-from-data-port=false", err, busy.Port)
			}
			if err != nil {
				return err
			}
			data := "any port"
			if p := n.Server.DataPort(); p != 0 {
				data = fmt.Sprint("port ", p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CSMSERVE of %s listening on %s; active-mode data from %s\n", s.Name(), n.Server.Addr(), data)
			if exposed != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "metrics of %s on http://%s/metrics\n", s.Name(), exposed.addr)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			<-ctx.Done()
			// Let the job in flight end (its writes are each atomic), then close.
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = n.Stop(sctx)
			fmt.Fprintf(cmd.OutOrStdout(), "CSMSERVE of %s stopped\n", s.Name())
			return err
		},
	}
	cmd.Flags().StringVar(&root, "root", "", "directory of the managed system (required)")
	_ = cmd.MarkFlagRequired("root")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:4535", "address to listen on (the seed reserves ports 4534 and 4535)")
	cmd.Flags().StringVar(&pwFile, "password-file", "", "file whose first line is CSMWORK's password (or set "+PasswordEnv+")")
	cmd.Flags().StringVar(&at, "time", "", "fix the clock (RFC 3339)")
	cmd.Flags().BoolVar(&fromDataPort, "active-from-data-port", true,
		"send active-mode (PORT, EPRT) data from the control port minus one (4534 for 4535), as FTP's 20 for 21 and vsftpd's connect_from_port_20; false: from any free port")
	cmd.Flags().StringVar(&certFile, "tls-cert", "", "PEM certificate to offer AUTH TLS with")
	cmd.Flags().StringVar(&keyFile, "tls-key", "", "PEM key of --tls-cert")
	logFormatFlag(cmd, &logFormat)
	cmd.Flags().StringVar(&metricsListen, "metrics-listen", "",
		"serve Prometheus metrics over HTTP at ADDR/metrics (host:port; port 0 picks a free one, printed on stdout); default: none")
	return cmd
}

// metricsServer serves a node's metrics over HTTP.
type metricsServer struct {
	srv  *http.Server
	addr string // as bound: the port chosen for port 0
}

// serveMetrics listens on addr and serves m at /metrics, in the
// background, until close.
func serveMetrics(addr string, m *metrics.Node) (*metricsServer, error) {
	if err := hostPortAny(addr); err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: %v", addr, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: %v; free the port or choose another address (port 0 picks a free one)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	ms := &metricsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, addr: l.Addr().String()}
	go func() { _ = ms.srv.Serve(l) }() // ends with close
	return ms, nil
}

func (ms *metricsServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ms.srv.Shutdown(ctx)
}

// hostPortAny checks a host:port to listen on: port 0 picks a free one.
func hostPortAny(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q is not host:port with a port from 0 to 65535", s)
	}
	return nil
}

func newNodeRunCmd(fs afero.Fs) *cobra.Command {
	var root, at string
	cmd := &cobra.Command{
		Use:   "run --root DIR COMMAND...",
		Short: "Run a command on the system's MAINT720, as a sysprog logged on there: SERVMGR MANAGED OFF|ON, SERVICE comp envelope",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clock, err := clockFlag(at)
			if err != nil {
				return err
			}
			s, err := openState(fs, root)
			if err != nil {
				return err
			}
			env := s.Agent(clock, stateLocks(root, cmd.ErrOrStderr()))
			words := strings.Fields(strings.ToUpper(strings.Join(args, " ")))
			var res msg.Result
			switch {
			case len(words) == 3 && words[0] == "SERVMGR" && words[1] == "MANAGED" && (words[2] == "ON" || words[2] == "OFF"):
				res, err = agent.Managed(env, words[2] == "ON")
			case len(words) == 3 && words[0] == "SERVICE":
				res, err = agent.LocalService(env, words[1], words[2])
			default:
				return fmt.Errorf("%s: unknown command; this MAINT%s knows SERVMGR MANAGED OFF|ON and SERVICE comp envelope", strings.Join(words, " "), s.Config().Release)
			}
			if err != nil {
				res.Add(agent.Lines(err)...)
			}
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
	cmd.Flags().StringVar(&root, "root", "", "directory of the managed system (required)")
	_ = cmd.MarkFlagRequired("root")
	cmd.Flags().StringVar(&at, "time", "", "fix the clock (RFC 3339)")
	return cmd
}
