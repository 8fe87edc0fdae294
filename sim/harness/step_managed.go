package harness

import (
	"io"
	"strings"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/fixtures"
	"github.com/csmsim/csmsim/sim/world"
)

// managedStep types SERVMGR MANAGED ON or OFF on a managed system.
func (r *runner) managedStep(st Step) StepReport {
	res, err := agent.Managed(r.nodes[strings.ToUpper(st.Managed.System)].Env, *st.Managed.On)
	if err != nil {
		res.Add(agent.Lines(err)...)
	}
	return r.judge(st, st.describe(), res)
}

// localService applies emergency service on a managed system, from an
// envelope on its A-disk or a generated COR.
func (r *runner) localService(ls *LocalService) msg.Result {
	var res msg.Result
	n := r.nodes[strings.ToUpper(ls.System)]
	envelope := strings.ToUpper(ls.Envelope)
	if c := ls.COR; c != nil {
		comp := c.Component
		if comp == "" {
			comp = ls.Component
		}
		parts := c.Parts
		if parts == 0 {
			parts = 1
		}
		seed := c.Seed
		if seed == 0 {
			seed = r.seed
		}
		rel := n.Env.Release // the system's own release, whatever the scenario's
		cor := fixtures.COR(rel, strings.ToUpper(c.Name), seed, world.SampleBase(rel), strings.ToUpper(comp), parts)
		disk, err := n.Sys.Minidisk(agent.MaintUser(rel), agent.LocalDiskVaddr)
		if err == nil {
			err = cms.WriteFile(disk, cms.MustParseFileID(cor.FileID()), func(w io.Writer) error { return fixtures.WriteEnvelope(w, cor) })
		}
		if err != nil {
			res.Add(msg.Messagef(msg.CSM0000S, "writing the generated COR: "+err.Error()))
			return res
		}
		envelope = cor.Name
	}
	res, err := agent.LocalService(n.Env, strings.ToUpper(ls.Component), envelope)
	if err != nil {
		res.Add(agent.Lines(err)...)
	}
	return res
}
