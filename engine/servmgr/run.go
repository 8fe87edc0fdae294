package servmgr

import (
	"bytes"
	"context"
	"strconv"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
)

// Outcome is what one SERVMGR command did, as values: the lines the user
// sees (ending with CSM0002I) and the RC, the command as parsed, and for
// SEND, PUT2PROD and SERVCHECK each system's outcome and the roll-out's.
type Outcome struct {
	msg.Result
	// Command is the command as parsed; Unparsed for a line that did not
	// parse.
	Command Command
	// Fleet is the managed-side outcome of SEND, PUT2PROD and SERVCHECK
	// (no systems when the principal refused it); nil for other commands.
	Fleet *fleet.Outcome
}

// Run parses one SERVMGR command line (as separate words or one string),
// runs it on the principal of env and logs it in $CSMCMD $MSGLOG. wire
// reaches the managed systems (transport, CSMWORK's credentials) for
// SYSTEM ADD's and MODIFY's checks, SEND, PUT2PROD and SERVCHECK; nil means none is
// configured. ctx ends the command's work on the managed systems: a
// roll-out stops where it is, to be resumed by the same command.
func Run(ctx context.Context, env *level.Env, wire *fleet.Wire, args []string) Outcome {
	cmd, err := ParseArgs(args)
	if err != nil {
		var res msg.Result
		if se, ok := AsSyntaxError(err); ok {
			res.Add(se.Lines()...)
		} else {
			res.Add(msg.Messagef(msg.CSM0000S, err.Error()))
		}
		unparsed := Unparsed{Line: joinArgs(args)}
		res.Add(Ended(unparsed, res.RC))
		logResult(env, unparsed, res, nil)
		return Outcome{Result: res, Command: unparsed}
	}
	return Execute(ctx, env, wire, cmd)
}

// Execute runs a parsed command. Every operation checks everything before
// it writes, so a result with RC 8 or more changed nothing but the log.
func Execute(ctx context.Context, env *level.Env, wire *fleet.Wire, cmd Command) Outcome {
	out, systems := dispatch(ctx, env, wire, cmd)
	out.Add(Ended(cmd, out.RC))
	logResult(env, cmd, out.Result, systems)
	return out
}

func dispatch(ctx context.Context, env *level.Env, wire *fleet.Wire, cmd Command) (Outcome, []string) {
	fe := &fleet.Env{Env: env}
	var (
		res     msg.Result
		err     error
		systems []string
		fo      *fleet.Outcome
	)
	// managed runs a managed-side command and keeps its outcome.
	managed := func(o fleet.Outcome, e error) {
		res, systems, err, fo = o.Result, o.Targets, e, &o
	}
	switch c := cmd.(type) {
	case Initialize:
		res, err = level.Initialize(env, c.VRM)
	case Managed:
		err = level.Refuse(msg.CSM2911E)
	case SrvlvlAdd:
		res, err = level.Add(env, level.AddRequest{VRM: c.VRM, Level: c.Level, BasedOn: c.BasedOn, NoESM: c.NoESM, Desc: c.Desc})
	case SrvlvlDelete:
		res, err = level.Delete(env, c.VRM, c.Level)
	case SrvlvlService:
		res, err = level.Service(env, c.VRM, c.Level, c.Component, c.Envelope)
	case SrvlvlLocalmod:
		res, err = level.Localmod(env, c.VRM, c.Level, c.Component, c.Envelope, c.Origin)
	case SrvlvlPackage:
		res, err = level.Package(env, c.VRM, c.Level)
	case SrvlvlSetlock:
		res, err = level.Setlock(env, c.VRM, c.Level, c.On)
	case SrvlvlQuery:
		res, err = level.Query(env, c.VRM, c.Level)
	case SrvlvlVmfsetup:
		res, err = level.Vmfsetup(env, c.VRM, c.Level, c.Component)
	case SystemAdd:
		systems = []string{c.System}
		res, err = fleet.Add(ctx, fe, wire, c.VRM, fleet.Spec{System: c.System, Level: c.Level, NoESM: c.NoESM, Host: c.Host,
			CommType: c.CommType, Port: c.Port, Require: c.Require, NoContact: c.NoContact})
	case SystemDelete:
		systems = []string{c.System}
		res, err = fleet.Delete(fe, c.VRM, c.System)
	case SystemModify:
		systems = []string{c.System}
		res, err = fleet.Modify(ctx, fe, wire, c.VRM, c.System, fleet.Change{Host: c.Host, Level: c.Level, Port: c.Port, Require: c.Require,
			NoContact: c.NoContact})
	case SystemQuery:
		res, err = fleet.Query(fe, c.VRM, c.Target)
	case SrvlvlSend:
		vrm := c.VRM
		if vrm == "" { // SEND typed without a release, as the seed does
			vrm = releaseOf(env, c.Level)
		}
		managed(fleet.Send(ctx, fe, wire, fleet.SendRequest{VRM: vrm, Level: c.Level, Target: c.Target, Stable: c.Stable,
			Cond: c.Cond, Rollout: c.Rollout}))
	case SystemPut2Prod:
		managed(fleet.Put2Prod(ctx, fe, wire, fleet.Put2ProdRequest{VRM: c.VRM, Target: c.Target, Rollout: c.Rollout}))
	case SystemServcheck:
		managed(fleet.Servcheck(ctx, fe, wire, fleet.ServcheckRequest{VRM: c.VRM, Target: c.Target}))
	default:
		err = level.Refuse(msg.CSM0000S, "no dispatch for "+cmd.Name())
	}
	if err != nil {
		res.Add(level.Lines(err)...)
	}
	return Outcome{Result: res, Command: cmd, Fleet: fo}, systems
}

// releaseOf finds the release that defines level, trying the releases CSM
// serves in order; 720 if none does (the error then names it).
func releaseOf(env *level.Env, lvl string) string {
	for n := 720; n <= 790; n += 10 {
		vrm := strconv.Itoa(n)
		if _, t, err := env.ReadLevels(vrm); err == nil {
			if _, ok := t.Get(lvl); ok {
				return vrm
			}
		}
	}
	return "720"
}

func joinArgs(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	return b.String()
}

// logResult appends the command and its messages to $CSMCMD $MSGLOG: in
// VMPSFS:CSMvrm. once the release is initialized, else on MAINTCSM's
// A-disk; and in MAINTCSM.<system> of every system the command named.
func logResult(env *level.Env, cmd Command, res msg.Result, systems []string) {
	entry := LogEntry{Start: env.Clock.Now(), End: env.Clock.Now(), User: env.User, Cmd: cmd, Result: res}
	var places []cms.FileArea
	if p, err := env.Pool(); err == nil {
		if vrm := cmd.Release(); vrm != "" && level.CheckRelease(vrm) == nil {
			if a, err := p.Dir(level.ReleaseTop(vrm)); err == nil {
				places = append(places, a)
			}
		}
		for _, s := range systems {
			if a, err := p.Dir(level.SystemDir(s)); err == nil {
				places = append(places, a)
			}
		}
	}
	if len(places) == 0 {
		if d, err := env.AdminDisk(); err == nil {
			places = append(places, d)
		}
	}
	lines := entry.Lines()
	for _, a := range places {
		_ = msg.AppendLog(env.Locker, a, lines) // a log that cannot be written must not fail the command
	}
}
