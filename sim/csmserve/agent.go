package csmserve

import "github.com/csmsim/csmsim/engine/agent"

// ForAgent is the Agent of a system whose MAINTvrm runs CSMAGENT: SITE
// CSMAGENT requests go to its jobs, one at a time.
func ForAgent(jobs *agent.Jobs, env *agent.Env) Agent { return agentJobs{jobs, env} }

type agentJobs struct {
	jobs *agent.Jobs
	env  *agent.Env
}

func (a agentJobs) Request(words []string) (int, string) { return agent.Request(a.jobs, a.env, words) }
