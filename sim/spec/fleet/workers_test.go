package fleet_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/sim/world"
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
		ps, err := world.SamplePrincipal(afero.NewMemMapFs())
		Expect(err).NotTo(HaveOccurred())
		clock := cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
		penv := &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}
		wire := &fleet.Wire{Transport: transport.NewFTP(transport.FTPOptions{Timeout: 5 * time.Second, Retries: -1}), Password: fleetPassword,
			Workers: 1, Serial: serial, Pause: func(ctx context.Context) error { time.Sleep(5 * time.Millisecond); return ctx.Err() }}
		run := func(line string) {
			GinkgoHelper()
			res := servmgr.Run(context.Background(), penv, wire, []string{line})
			Expect(res.RC).To(Equal(0), "%s\n%s", line, strings.Join(res.Strings(), "\n"))
		}
		for _, l := range []string{"initialize 720", "srvlvl add 720 L1 basedon BASE", "srvlvl service 720 L1 all rsu0801",
			"srvlvl add 720 L2 basedon L1", "srvlvl service 720 L2 all rsu0802", "srvlvl package 720 L2"} {
			run(l)
		}
		for _, s := range []string{"VM01", "VM02"} {
			n := startNode(s, penv, clock, "L1")
			host, port, _ := strings.Cut(n.Addr(), ":")
			run(fmt.Sprintf("system add 720 %s L1 hostname %s (port %s norequire", s, host, port))
		}

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
		run("srvlvl send 720 L2 all (test")
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
