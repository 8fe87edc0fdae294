package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/flock"
)

// logFormatFlag adds --log-format to a command whose operational log goes
// to stderr (servmgr, node serve); stdout keeps the command's output.
func logFormatFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVar(format, "log-format", "text",
		"the log on stderr: text (key=value lines) or json (one JSON object a line), log/slog's formats")
}

// newLogger is the log of --log-format on w, from Info up.
func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// loggedLocks are stateLocks for a command with a log: under
// --log-format json a wait is an event of the log, so that every line of
// stderr is one JSON object; in text it is the line every command says.
func loggedLocks(state, format string, log *slog.Logger, errOut io.Writer) table.Locker {
	if format != "json" {
		return stateLocks(state, errOut)
	}
	return flock.NewNotifying(filepath.Join(state, "locks"), func(resource string) {
		log.Warn("waiting for a lock another command holds", "resource", resource, "state", state)
	})
}

// The events of a roll-out's phases, as `csmsim servmgr` logs them
// (docs/real-mode.md, "Logs"): one at each phase's start and one at its
// end, per system. The names are csmsim's own (docs/fidelity.md).
const (
	eventPhaseStart = "phase start"
	eventPhaseEnd   = "phase end"
)

// phaseLog logs each phase the wire observes (fleet.Wire.Observe) from its
// typed values: the roll-out, the system, the phase and its place among
// the command's; at the end also whether it went well, its duration, the
// bytes a transfer sent, the id of the line that ended it, and a failure's
// detail.
func phaseLog(log *slog.Logger) func(fleet.Phase) {
	return func(p fleet.Phase) {
		attrs := []slog.Attr{
			slog.String("rollout", p.Rollout),
			slog.String("system", p.System),
			slog.String("phase", string(p.Name)),
			slog.Int("seq", p.Seq),
			slog.Int("of", p.Of),
		}
		if p.End.IsZero() {
			log.LogAttrs(context.Background(), slog.LevelInfo, eventPhaseStart, attrs...)
			return
		}
		level := slog.LevelInfo
		if !p.OK {
			level = slog.LevelError
		}
		attrs = append(attrs, slog.Bool("ok", p.OK), slog.Duration("duration", p.End.Sub(p.Begin)))
		if p.Name == proto.PhaseTransfer {
			attrs = append(attrs, slog.Int64("bytes", p.Bytes))
		}
		if p.Message != "" {
			attrs = append(attrs, slog.String("msgid", p.Message))
		}
		if !p.OK && p.Detail != "" {
			attrs = append(attrs, slog.String("detail", p.Detail))
		}
		log.LogAttrs(context.Background(), level, eventPhaseEnd, attrs...)
	}
}
