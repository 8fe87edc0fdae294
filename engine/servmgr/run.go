package servmgr

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
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
		logResult(env, unparsed, releaseOfLine(env, unparsed.Line), res, nil, nil)
		return Outcome{Result: res, Command: unparsed}
	}
	return Execute(ctx, env, wire, cmd)
}

// Execute runs a parsed command. Every operation checks everything before
// it writes, so a result with RC 8 or more changed nothing but the log.
func Execute(ctx context.Context, env *level.Env, wire *fleet.Wire, cmd Command) Outcome {
	out, systems, vrm := dispatch(ctx, env, wire, cmd)
	if vrm == "" { // MANAGED, typed on the principal
		vrm = onlyRelease(env)
	}
	out.Add(Ended(cmd, out.RC))
	logResult(env, cmd, vrm, out.Result, systems, out.Fleet)
	return out
}

// dispatch runs cmd; it returns, besides its outcome, the systems it named
// and the release it worked on (a SEND typed without one finds it), which
// say where it is logged.
func dispatch(ctx context.Context, env *level.Env, wire *fleet.Wire, cmd Command) (Outcome, []string, string) {
	fe := &fleet.Env{Env: env}
	var (
		res     msg.Result
		err     error
		systems []string
		fo      *fleet.Outcome
		vrm     = cmd.Release()
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
	return Outcome{Result: res, Command: cmd, Fleet: fo}, systems, vrm
}

// releaseOf finds the release that defines level, trying the releases CSM
// serves in order; 720 if none does (the error then names it).
func releaseOf(env *level.Env, lvl string) string {
	if vrm := definingRelease(env, lvl); vrm != "" {
		return vrm
	}
	return "720"
}

// definingRelease is the first initialized release whose Service Level
// Table has lvl, "" if none has.
func definingRelease(env *level.Env, lvl string) string {
	for _, r := range releases(env) {
		if _, ok := r.levels.Get(lvl); ok {
			return r.vrm
		}
	}
	return ""
}

type release struct {
	vrm    string
	levels *table.Table
}

// releases lists the initialized releases of the principal, in order, with
// their Service Level Tables.
func releases(env *level.Env) []release {
	var out []release
	for n := 720; n <= 790; n += 10 {
		vrm := strconv.Itoa(n)
		if _, t, err := env.ReadLevels(vrm); err == nil {
			out = append(out, release{vrm, t})
		}
	}
	return out
}

// releaseOfLine is the release under which a line that did not parse is
// logged, where the command would have been: the release the line names
// where SERVMGR's forms have one (INITIALIZE vrm, SRVLVL|SYSTEM op vrm), else
// the release that defines the level a SEND typed without a release names,
// else the principal's one release (as for a command that names none).
// With none initialized, or several and the line naming none of them, it
// is "" (MAINTCSM 0191's log): any one release's log would be a guess, and
// every release's would give one command several records.
func releaseOfLine(env *level.Env, line string) string {
	w := strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(line))
	if len(w) > 0 && asciiUpper(w[0]) == "SERVMGR" {
		w = w[1:]
	}
	at := 2 // SRVLVL op vrm, SYSTEM op vrm
	if len(w) > 0 && asciiUpper(w[0]) == "INITIALIZE" {
		at = 1
	}
	if at < len(w) && level.CheckRelease(w[at]) == nil {
		return w[at]
	}
	if len(w) > 2 && asciiUpper(w[0]) == "SRVLVL" && asciiUpper(w[1]) == "SEND" {
		if vrm := definingRelease(env, w[2]); vrm != "" {
			return vrm
		}
	}
	return onlyRelease(env)
}

// onlyRelease is the principal's release when it has exactly one, else "".
func onlyRelease(env *level.Env) string {
	if rs := releases(env); len(rs) == 1 {
		return rs[0].vrm
	}
	return ""
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

// logResult appends the command's record to $CSMCMD $MSGLOG: in
// VMPSFS:CSMvrm. of release vrm once it is initialized, else on MAINTCSM's
// A-disk; and in MAINTCSM.<system> of every system the command named, where
// the record carries the messages of the system's CSMAGENT job (fo) too.
func logResult(env *level.Env, cmd Command, vrm string, res msg.Result, systems []string, fo *fleet.Outcome) {
	entry := LogEntry{Start: env.Clock.Now(), End: env.Clock.Now(), User: env.User, Cmd: cmd, Result: res,
		AgentUser: agent.MaintUser(vrm)}
	type place struct {
		a     cms.FileArea
		entry LogEntry
	}
	var places []place
	if p, err := env.Pool(); err == nil {
		if vrm != "" && level.CheckRelease(vrm) == nil {
			if a, err := p.Dir(level.ReleaseTop(vrm)); err == nil {
				places = append(places, place{a, entry})
			}
		}
		for _, s := range systems {
			if a, err := p.Dir(level.SystemDir(s)); err == nil {
				e := entry
				if so, ok := systemOutcome(fo, s); ok && so.Job != nil {
					e.Agent = so.Job.Lines
				}
				places = append(places, place{a, e})
			}
		}
	}
	if len(places) == 0 {
		if d, err := env.AdminDisk(); err == nil {
			places = append(places, place{d, entry})
		}
	}
	for _, pl := range places {
		_ = msg.AppendLog(env.Locker, pl.a, pl.entry.Lines()) // a log that cannot be written must not fail the command
	}
}

func systemOutcome(fo *fleet.Outcome, system string) (fleet.SystemOutcome, bool) {
	if fo == nil {
		return fleet.SystemOutcome{}, false
	}
	return fo.System(system)
}
