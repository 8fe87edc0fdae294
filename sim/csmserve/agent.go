package csmserve

import (
	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/agent/proto"
)

// ForAgent is the Agent of a system whose MAINTvrm runs CSMAGENT: SITE
// CSMAGENT requests go to its jobs, one at a time.
func ForAgent(jobs *agent.Jobs, env *agent.Env) Agent { return agentJobs{jobs, env} }

type agentJobs struct {
	jobs *agent.Jobs
	env  *agent.Env
}

func (a agentJobs) Handle(req proto.Request) proto.Reply { return agent.Handle(a.jobs, a.env, req) }
