package harness

import (
	"time"

	"github.com/csmsim/csmsim/engine/msg"
)

// waitStep moves the scenario clock on; no wall time passes.
func (r *runner) waitStep(st Step) StepReport {
	d, _ := time.ParseDuration(st.Wait) // checked at load
	r.clock.Advance(d)
	return r.judge(st, st.describe(), msg.Result{})
}
