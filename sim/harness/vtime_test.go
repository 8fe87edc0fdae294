package harness_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/harness"
)

// sentTo is the bytes CSM3053I says SEND sent to system.
func sentTo(rep *harness.Report, system string) int64 {
	GinkgoHelper()
	var sent int64
	for _, st := range rep.Steps {
		for _, l := range st.Output {
			if strings.HasPrefix(l, "CSM3053I "+system+":") {
				_, err := fmt.Sscanf(l[strings.Index(l, "files, ")+len("files, "):], "%d bytes", &sent)
				Expect(err).NotTo(HaveOccurred(), l)
			}
		}
	}
	Expect(sent).To(BeNumerically(">", 0), system)
	return sent
}

const distant = `name: far
seed: 5
world:
  systems:
    - {name: VM01, latency: 80ms}
    - {name: VM02, bandwidth: 10MiB/s}
    - {name: VM03, latency: 80ms, bandwidth: 10MiB/s}
fixtures:
  envelopes:
    - {name: RSU0901, kind: RSU, parts: 8, part_bytes: 262144, seed: 901}
steps:
  - servmgr: initialize 720
  - servmgr: srvlvl add 720 L1 basedon BASE
  - servmgr: srvlvl service 720 L1 all rsu0801
  - install: {system: ALL, level: L1}
  - servmgr: system add 720 vm0${N} L1 hostname ${HOST:VM0${N}} (port ${PORT:VM0${N}} norequire
    repeat: {from: 1, to: 3}
  - servmgr: srvlvl add 720 L2 basedon L1
  - servmgr: srvlvl service 720 L2 all rsu0901
  - servmgr: srvlvl package 720 L2
  - servmgr: srvlvl send 720 L2 all (test
    expect: {rc: 0}
expect:
  systems:
    - {name: ALL, level: L2, state: TEST}
`

var _ = Describe("virtual link time", func() {
	It("charges an 80 ms, 10 MiB/s link's delays to the scenario's clock instead of waiting them", func() {
		sc, err := harness.Parse("far.yaml", []byte(distant))
		Expect(err).NotTo(HaveOccurred())
		rep, err := harness.Run(context.Background(), sc, harness.Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Pass).To(BeTrue(), rep.FailureText())
		const rtt, bw = 80 * time.Millisecond, 10 << 20
		lt := rep.LinkTime
		Expect(lt).To(HaveLen(3))

		// Latency alone: one 80 ms per reply the node writes, nothing more;
		// an FTP session takes a dozen replies before the first byte.
		Expect(lt["VM01"] % rtt).To(BeZero())
		Expect(lt["VM01"]).To(BeNumerically(">=", 12*rtt))

		// Bandwidth alone: the level's bytes over 10 MiB/s, and a little
		// more for the commands and the job's messages.
		sent := sentTo(rep, "VM02")
		Expect(sent).To(BeNumerically(">", 2_000_000))
		wire := time.Duration(float64(sent) / bw * float64(time.Second))
		Expect(lt["VM02"]).To(BeNumerically(">=", wire))
		Expect(lt["VM02"]).To(BeNumerically("<", wire+wire/20))

		// Both: the same round trips, and the bytes on top.
		Expect(sentTo(rep, "VM03")).To(Equal(sent))
		Expect(lt["VM03"]).To(BeNumerically(">=", 12*rtt+wire))

		// The wire's clock (the timeline's and the deadlines') moved by it:
		// each system's transfer takes at least its round trips and bytes.
		transfer := map[string]time.Duration{}
		for _, sp := range rep.Timeline {
			if sp.Phase == "transfer" {
				transfer[sp.System] += sp.End - sp.Start
			}
		}
		Expect(transfer["VM01"]).To(BeNumerically(">=", 12*rtt))
		Expect(transfer["VM02"]).To(BeNumerically(">=", wire))
		Expect(transfer["VM03"]).To(BeNumerically(">=", 12*rtt+wire))
	})

	It("decides a wave's deadline on the link's time alone: unshaped systems never miss even a 1 ms deadline", func() {
		sc, err := harness.Parse("tight.yaml", []byte(`name: tight
seed: 4
world:
  systems: [{name: VM01}, {name: VM02}, {name: VM03}]
steps:
  - servmgr: initialize 720
  - servmgr: srvlvl add 720 L1 basedon BASE
  - servmgr: srvlvl service 720 L1 all rsu0801
  - install: {system: ALL, level: L1}
  - servmgr: system add 720 vm0${N} L1 hostname ${HOST:VM0${N}} (port ${PORT:VM0${N}} norequire
    repeat: {from: 1, to: 3}
  - servmgr: srvlvl add 720 L2 basedon L1
  - servmgr: srvlvl service 720 L2 all rsu0802
  - servmgr: srvlvl package 720 L2
  - servmgr: srvlvl send 720 L2 all (test waves 2 deadline 1ms
    expect: {rc: 0, not_messages: [CSM3074E]}
expect:
  systems:
    - {name: ALL, level: L2, state: TEST}
`))
		Expect(err).NotTo(HaveOccurred())
		rep, err := harness.Run(context.Background(), sc, harness.Options{Now: time.Now})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Pass).To(BeTrue(), rep.FailureText())
		Expect(rep.LinkTime).To(BeEmpty())
	})

	It("gives rollout-deadline the same report with one CPU and a busy goroutine competing", func() {
		sc, err := harness.Load("../../scenarios/rollout-deadline.yaml")
		Expect(err).NotTo(HaveOccurred())
		report := func() (string, time.Duration) {
			GinkgoHelper()
			rep, err := harness.Run(context.Background(), sc, harness.Options{Now: time.Now})
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Pass).To(BeTrue(), rep.FailureText())
			// VM04's login and first commands outlast the deadline: the
			// greeting, USER, PASS, FEAT... 150 ms each, and once it has
			// passed the transport sends VM04 nothing more.
			Expect(rep.LinkTime["VM04"]).To(BeNumerically(">=", time.Second))
			var b bytes.Buffer
			Expect(rep.WriteJSON(&b)).To(Succeed())
			return b.String(), rep.LinkTime["VM04"]
		}
		calm, calmLink := report()

		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			for n := 0; !stop.Load(); n++ {
				if n%1_000_000 == 0 {
					runtime.Gosched() // busy, but lets the scheduler preempt
				}
			}
		}()
		loaded, loadedLink := report()
		stop.Store(true)
		<-done
		Expect(loaded).To(Equal(calm))
		Expect(loadedLink).To(Equal(calmLink), "VM04's link charged the same time")
		Expect(loaded).To(ContainSubstring("CSM3074E VM04: roll-out SEND.TEST.VM010802_BLD2.ALL wave 1 did not finish within its deadline of 1s"))
	})
})
