package fleet_test

import (
	"context"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/servmgr"
)

// On a real fleet a node's LOAD takes minutes; a worker that waited for
// it would leave the wire idle. SEND's Workers bound the transfers only.
var _ = Describe("SEND's workers", func() {
	// sendWatching SENDs L2 to VM01 and VM02 with one worker. When VM01's
	// validate begins, it waits up to wait for VM02's transfer to begin,
	// and says whether it did; the phases are in the order they began or
	// ended.
	sendWatching := func(serial bool, wait time.Duration) (overlapped bool, events []string) {
		GinkgoHelper()
		penv, wire := principalWith("VM01", "VM02")
		wire.Workers, wire.Serial = 1, serial

		var mu sync.Mutex
		vm02Sending := make(chan struct{})
		wire.Now = time.Now
		wire.Observe = func(p fleet.Phase) {
			state := "begins"
			if !p.End.IsZero() {
				state = "ends"
			}
			mu.Lock()
			events = append(events, p.System+" "+string(p.Name)+" "+state)
			mu.Unlock()
			switch {
			case p.System == "VM02" && p.Name == proto.PhaseTransfer && state == "begins":
				close(vm02Sending)
			case p.System == "VM01" && p.Name == proto.PhaseValidate && state == "begins":
				select {
				case <-vm02Sending:
					overlapped = true
				case <-time.After(wait):
				}
			}
		}
		res := servmgr.Run(context.Background(), penv, wire, []string{"srvlvl send 720 L2 all (test"})
		Expect(res.RC).To(Equal(0), strings.Join(res.Strings(), "\n"))
		mu.Lock()
		defer mu.Unlock()
		return overlapped, events
	}

	It("send the next system's package while a node validates and loads: one worker, and VM02's transfer overlaps VM01's job", func() {
		overlapped, events := sendWatching(false, 10*time.Second)
		Expect(overlapped).To(BeTrue(), "VM02's transfer began while VM01's job ran:\n%s", strings.Join(events, "\n"))
		Expect(events).To(ContainElements("VM01 load ends", "VM02 load ends"))
	})

	It("with Serial keep each system in its worker to the end of its load, as the simulator needs", func() {
		overlapped, events := sendWatching(true, 300*time.Millisecond)
		Expect(overlapped).To(BeFalse())
		Expect(events).To(ContainElement("VM02 transfer begins"))
		var loadEnd, vm02Begins int
		for i, e := range events {
			switch e {
			case "VM01 load ends":
				loadEnd = i
			case "VM02 transfer begins":
				vm02Begins = i
			}
		}
		Expect(vm02Begins).To(BeNumerically(">", loadEnd), strings.Join(events, "\n"))
	})
})
