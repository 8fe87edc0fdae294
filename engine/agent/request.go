package agent

import (
	"errors"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/msg"
)

// Handle answers one SITE CSMAGENT request (engine/agent/proto): INFO and
// STATUS at once, MANAGE at once unless a job runs, LOAD, PUT2PROD and
// QUERY as jobs, one at a time. CSMSERVE parses the request and formats
// the reply; docs/csmserve-protocol.md lists them.
//
// Beyond the protocol document: INFO, MANAGE and STATUS that cannot be
// done answer Refused with the agent's message (e.g. an unknown job, no VM
// SYSSUF), and a job request during shutdown ShuttingDown.
func Handle(jobs *Jobs, env *Env, req proto.Request) proto.Reply {
	switch r := req.(type) {
	case proto.Info:
		info, err := Info(env)
		if err != nil {
			return refused(err)
		}
		return info
	case proto.Manage:
		if m := jobs.Running(); m != 0 {
			return proto.Busy{Job: m}
		}
		res, err := Manage(env)
		res = result(res, err)
		_ = env.appendLog(env.Clock.Now(), env.Clock.Now(), res.Lines)
		if err != nil {
			return refused(err)
		}
		return proto.Managed{}
	case proto.Load:
		marked := *env
		marked.Progress = jobs.Mark
		return submit(jobs, r, func() (msg.Result, error) { return Load(&marked, r.Level, r.Stable, r.Cond) })
	case proto.Put2Prod:
		return submit(jobs, r, func() (msg.Result, error) {
			jobs.entered(proto.PhasePut2Prod)
			return Put2Prod(env, r.Level)
		})
	case proto.Query:
		return submit(jobs, r, func() (msg.Result, error) {
			_, res, err := Query(env)
			return res, err
		})
	case proto.Status:
		st, _, err := jobs.Status(r.Job)
		if err != nil {
			return refused(err)
		}
		return st
	}
	return &proto.Malformed{Problem: "unknown request " + req.String(), Form: proto.FormAny}
}

func submit(jobs *Jobs, req proto.Request, fn func() (msg.Result, error)) proto.Reply {
	id, err := jobs.Submit(req.String(), fn)
	var b *BusyError
	switch {
	case errors.As(err, &b):
		return proto.Busy{Job: b.Running}
	case errors.Is(err, ErrShutdown):
		return proto.ShuttingDown{}
	case err != nil:
		return refused(err)
	}
	return proto.Started{Job: id}
}

func refused(err error) proto.Reply { return proto.Refused{Line: Lines(err)[0]} }
