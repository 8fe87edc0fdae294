package csmsimtest

import (
	"fmt"
	"strings"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/table"
)

// SystemState is what a managed system says of itself, in its VM SYSSUF.
type SystemState struct {
	Name    string // e.g. VM01
	Release string // e.g. 720
	// Level and State are the CMS component's test-build level and its
	// state (TEST, STABLE); Prod is the level in production. Each is ""
	// when the system has none.
	Level, State, Prod string
	// Managed: every component is managed by CSM (:CSM_MANAGED YES, set by
	// SYSTEM ADD), so local service is refused.
	Managed bool
	// Components are VM SYSSUF's components, in its order.
	Components []Component
}

// Component is one component's row of a system's VM SYSSUF.
type Component struct {
	Name               string // e.g. CMS, CP
	Level, State, Prod string // as SystemState's, for this component
	Managed            bool   // :CSM_MANAGED YES
	LocalService       bool   // local service was applied on the system (SERVICE on its MAINTvrm)
}

// System reads what system (any case) says of itself, from its VM
// SYSSUF, as it is: without the agent's lock, so that a test may read it
// while a command runs.
func (f *Fleet) System(name string) (SystemState, error) {
	n, err := f.node(name)
	if err != nil {
		return SystemState{}, err
	}
	t, err := n.Sys.Sysuf()
	if err != nil {
		return SystemState{}, fmt.Errorf("csmsimtest: reading %s's VM SYSSUF: %w", n.Sys.Name(), err)
	}
	st := SystemState{Name: n.Sys.Name(), Release: n.Sys.Config().Release}
	for _, en := range t.List() {
		if en.Key() == agent.SystemKey {
			continue // the system's own row: production side, LOAD marks
		}
		c := Component{Name: en.Key(), Level: tag(en, agent.TagLevel), State: tag(en, agent.TagState), Prod: tag(en, agent.TagProd),
			Managed: tag(en, agent.TagManaged) == "YES", LocalService: tag(en, agent.TagLocal) != ""}
		st.Components = append(st.Components, c)
		if c.Name == "CMS" {
			st.Level, st.State, st.Prod = c.Level, c.State, c.Prod
		}
	}
	st.Managed = len(st.Components) > 0
	for _, c := range st.Components {
		st.Managed = st.Managed && c.Managed
	}
	return st, nil
}

// Table reads one of the principal's CSM tables by name, any case:
// SYSSTAT (the systems), SVCSTAT (the service levels) and ROLLOUT (the
// staged roll-outs) of the fleet's release, or NAMES (MAINTCSM NAMES,
// the nicknames). The table is a copy: changing it changes nothing on the
// principal. A table that does not exist yet (SYSSTAT before INITIALIZE)
// is an error.
func (f *Fleet) Table(name string) (*table.Table, error) {
	t, err := (&fleet.Env{Env: f.penv}).ReadTable(f.release, strings.ToUpper(name))
	if err != nil {
		return nil, fmt.Errorf("csmsimtest: reading the principal's %s: %w", strings.ToUpper(name), err)
	}
	return t, nil
}
