package world

import (
	"encoding/json"
	"fmt"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
)

// InstallLevel puts a managed system at a level the principal knows, as
// CSM itself would: a package of every part of the level is staged on
// CSMSERVE's disk, the components are installed (their service
// directories made), and the agent loads it STABLE and puts it into
// production. The principal is only read.
func InstallLevel(m *System, principal *level.Env, env *agent.Env, vrm, lvl string) (msg.Result, error) {
	staging, err := m.Minidisk(agent.StagingOwner, agent.StagingVaddr)
	if err != nil {
		return msg.Result{}, err
	}
	res, err := level.FullPackage(principal, vrm, lvl, staging)
	if err != nil {
		return res, err
	}
	if err := m.installComponents(vrm); err != nil {
		return res, err
	}
	for _, step := range []func() (msg.Result, error){
		func() (msg.Result, error) { return agent.Install(env, level.BaseLevel) },
		func() (msg.Result, error) { return agent.Load(env, lvl, true, "") },
		func() (msg.Result, error) { return agent.Put2Prod(env, lvl) },
	} {
		r, err := step()
		res.Add(r.Lines...)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// installComponents makes the service directory VMPSFS:MAINTvrm.<comp> of
// every component the staged package carries, as installing z/VM does.
func (m *System) installComponents(vrm string) error {
	staging, err := m.Minidisk(agent.StagingOwner, agent.StagingVaddr)
	if err != nil {
		return err
	}
	r, err := staging.Open(agent.ManifestID)
	if err != nil {
		return err
	}
	defer r.Close()
	var man servlink.Manifest
	if err := json.NewDecoder(r).Decode(&man); err != nil {
		return fmt.Errorf("%s: %v", agent.ManifestID.Name(), err)
	}
	p, err := m.FilePool(agent.Pool)
	if err != nil {
		return err
	}
	for _, c := range man.Components {
		d := agent.CompDir(vrm, c)
		if _, err := p.Dir(d); err == nil {
			continue
		}
		if err := p.CreateDir(d, agent.MaintUser(vrm)); err != nil {
			return err
		}
	}
	return nil
}
