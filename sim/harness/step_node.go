package harness

import (
	"context"
	"time"

	"github.com/csmsim/csmsim/engine/msg"
)

// nodeUpDown stops a system's CSMSERVE or starts it again on its port.
func (r *runner) nodeUpDown(name string, up bool) (msg.Result, error) {
	n := r.nodes[name]
	if up {
		return msg.Result{}, n.Up()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return msg.Result{}, n.Down(ctx)
}
