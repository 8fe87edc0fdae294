package csmserve

import (
	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/agent/proto"
)

// ForAgent is the Agent of a system whose MAINTvrm runs CSMAGENT: SITE
// CSMAGENT requests go to its jobs, one at a time. It is a JobRunner: the
// staging area is held while a job runs.
func ForAgent(jobs *agent.Jobs, env *agent.Env) Agent { return agentJobs{jobs, env} }

type agentJobs struct {
	jobs *agent.Jobs
	env  *agent.Env
}

var (
	_ JobRunner = agentJobs{}
	_ Waiter    = agentJobs{}
)

// Changed is closed at the next change of a job (agent.Jobs.Changed).
func (a agentJobs) Changed() <-chan struct{} { return a.jobs.Changed() }

func (a agentJobs) Handle(req proto.Request) proto.Reply { return agent.Handle(a.jobs, a.env, req) }

// Running is the running job's id, 0 when none runs.
func (a agentJobs) Running() int { return a.jobs.Running() }
