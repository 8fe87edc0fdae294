package harness

import (
	"strings"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/sim/world"
)

func (r *runner) install(in *Install) (msg.Result, error) {
	targets := []string{strings.ToUpper(in.System)}
	if strings.EqualFold(in.System, "ALL") {
		targets = r.names
	}
	var all msg.Result
	for _, name := range targets {
		n := r.nodes[name]
		// Each system at a level of its own release: ALL over a mixed
		// world needs a level of that name in every release it runs.
		res, err := world.InstallLevel(n.Sys, r.penv, n.Env, n.Env.Release, strings.ToUpper(in.Level))
		if err != nil {
			res.Add(agent.Lines(err)...)
		}
		if len(targets) > 1 {
			// one line per system is enough in the report
			summary := msg.Result{}
			for _, l := range res.Lines {
				if l.Sev != msg.Info {
					summary.Add(l)
				}
			}
			all.Add(summary.Lines...)
			continue
		}
		all.Add(res.Lines...)
	}
	return all, nil
}
