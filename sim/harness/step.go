package harness

import (
	"context"
	"fmt"
	"strings"
)

func (st Step) kind() string {
	switch {
	case st.Servmgr != nil:
		if st.Offline {
			return "servmgr-offline"
		}
		return "servmgr"
	case st.Managed != nil:
		return "managed"
	case st.LocalService != nil:
		return "local_service"
	case st.Install != nil:
		return "install"
	case st.Node != nil:
		return "node"
	case st.Wait != "":
		return "wait"
	}
	return "?"
}

// describe is the step as the report shows it: the servmgr line as
// written (placeholders not substituted), or the action in words.
func (st Step) describe() string {
	switch {
	case st.Servmgr != nil:
		return *st.Servmgr
	case st.Managed != nil:
		return fmt.Sprintf("MANAGED %s on %s", map[bool]string{true: "ON", false: "OFF"}[*st.Managed.On], strings.ToUpper(st.Managed.System))
	case st.LocalService != nil:
		env := st.LocalService.Envelope
		if st.LocalService.COR != nil {
			env = st.LocalService.COR.Name + " (generated COR)"
		}
		return fmt.Sprintf("local SERVICE %s %s on %s", strings.ToUpper(st.LocalService.Component), strings.ToUpper(env), strings.ToUpper(st.LocalService.System))
	case st.Install != nil:
		return fmt.Sprintf("install %s at %s", strings.ToUpper(st.Install.System), strings.ToUpper(st.Install.Level))
	case st.Node != nil:
		return fmt.Sprintf("CSMSERVE on %s %s", strings.ToUpper(st.Node.System), map[bool]string{true: "up", false: "down"}[*st.Node.Up])
	case st.Wait != "":
		return "wait " + st.Wait
	}
	return ""
}

// step runs one step (a repeated servmgr step gives one result each).
func (r *runner) step(ctx context.Context, i int, st Step) ([]StepReport, error) {
	var before map[string]string
	nodeBefore := map[string]map[string]string{}
	var err error
	if st.NothingChanged {
		if before, err = snapshot(r.psys.FS(), principalIgnore); err != nil {
			return nil, err
		}
	}
	for _, u := range st.UnchangedSystems {
		if nodeBefore[strings.ToUpper(u)], err = snapshot(r.nodes[strings.ToUpper(u)].Sys.FS(), nodeIgnore); err != nil {
			return nil, err
		}
	}
	if st.Servmgr == nil { // a servmgr step fires its faults per repetition
		r.mu.Lock()
		r.command = ""
		r.mu.Unlock()
		r.atStep(ctx)
	}
	var reports []StepReport
	switch {
	case st.Servmgr != nil:
		reports = r.servmgrStep(ctx, st)
	case st.Managed != nil:
		reports = []StepReport{r.managedStep(st)}
	case st.LocalService != nil:
		reports = []StepReport{r.judge(st, st.describe(), r.localService(st.LocalService))}
	case st.Install != nil:
		res, err := r.install(st.Install)
		if err != nil {
			return nil, err
		}
		reports = []StepReport{r.judge(st, st.describe(), res)}
	case st.Node != nil:
		res, err := r.nodeUpDown(strings.ToUpper(st.Node.System), *st.Node.Up)
		if err != nil {
			return nil, err
		}
		reports = []StepReport{r.judge(st, st.describe(), res)}
	case st.Wait != "":
		reports = []StepReport{r.waitStep(st)}
	}
	last := &reports[len(reports)-1]
	if st.NothingChanged {
		after, err := snapshot(r.psys.FS(), principalIgnore)
		if err != nil {
			return nil, err
		}
		if d := diff(before, after); d != "" {
			last.fail("the principal changed: " + d)
		}
	}
	for _, u := range st.UnchangedSystems {
		name := strings.ToUpper(u)
		after, err := snapshot(r.nodes[name].Sys.FS(), nodeIgnore)
		if err != nil {
			return nil, err
		}
		if d := diff(nodeBefore[name], after); d != "" {
			last.fail("system " + name + " changed: " + d)
		}
	}
	return reports, nil
}
