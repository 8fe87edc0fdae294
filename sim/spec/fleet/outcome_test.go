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
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/rollout"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/sim/world"
)

// heard collects the phase events a wire's Observe hears.
type heard struct {
	mu     sync.Mutex
	events []fleet.Phase
}

func (h *heard) observe(p fleet.Phase) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, p)
}

func (h *heard) of(system string) []fleet.Phase {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []fleet.Phase
	for _, p := range h.events {
		if p.System == system {
			out = append(out, p)
		}
	}
	return out
}

func names(ps []fleet.Phase) []proto.Phase {
	var out []proto.Phase
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func ids(lines []msg.Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.ID)
	}
	return out
}

var _ = Describe("outcomes of SEND, PUT2PROD and SERVCHECK", Ordered, func() {
	var (
		ctx   = context.Background()
		fe    *fleet.Env
		wire  *fleet.Wire
		ears  *heard
		nodes = map[string]*node{}
	)
	run := func(line string) servmgr.Outcome {
		GinkgoHelper()
		return servmgr.Run(ctx, fe.Env, wire, []string{line})
	}

	BeforeAll(func() {
		ps, err := world.SamplePrincipal(afero.NewMemMapFs())
		Expect(err).NotTo(HaveOccurred())
		clock := cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
		fe = &fleet.Env{Env: &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}}
		ears = &heard{}
		wire = &fleet.Wire{Transport: transport.NewFTP(transport.FTPOptions{Timeout: 5 * time.Second, Retries: -1}), Password: fleetPassword,
			Pause:   func(ctx context.Context) error { time.Sleep(2 * time.Millisecond); return ctx.Err() },
			Observe: ears.observe, Now: cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Millisecond).Now}
		for _, l := range []string{"initialize 720", "srvlvl add 720 L1 basedon BASE", "srvlvl service 720 L1 all rsu0801",
			"srvlvl add 720 L2 basedon L1", "srvlvl service 720 L2 all rsu0802", "srvlvl package 720 L2"} {
			Expect(run(l).RC).To(Equal(0), l)
		}
		// VM01 and VM02 at L1; VM03 at BASE, where a COND send of L2
		// (based on L1) is refused.
		for i, lvl := range []string{"L1", "L1", "BASE"} {
			name := fmt.Sprintf("VM%02d", i+1)
			n := startNode(name, fe.Env, clock, lvl)
			nodes[name] = n
			host, port, _ := strings.Cut(n.Server.Addr(), ":")
			out := run(fmt.Sprintf("system add 720 %s %s hostname %s (port %s norequire", name, lvl, host, port))
			Expect(out.RC).To(Equal(0), strings.Join(out.Strings(), "\n"))
		}
	})

	It("SEND gives each system its phases, its agent job with the job's own messages, and a failure its cause", func() {
		out, err := fleet.Send(ctx, fe, wire, fleet.SendRequest{VRM: "720", Level: "L2", Target: "ALL", Cond: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Targets).To(Equal([]string{"VM01", "VM02", "VM03"}))
		Expect(out.Systems).To(HaveLen(3))
		Expect(out.Rollout).To(BeNil())

		vm01, ok := out.System("VM01")
		Expect(ok).To(BeTrue())
		Expect(vm01.OK).To(BeTrue())
		Expect(names(vm01.Phases)).To(Equal([]proto.Phase{proto.PhaseTransfer, proto.PhaseValidate, proto.PhaseLoad}))
		for i, p := range vm01.Phases {
			Expect(p.OK).To(BeTrue(), string(p.Name))
			Expect(p.Seq).To(Equal(i + 1))
			Expect(p.Of).To(Equal(3))
			Expect(p.End.Before(p.Begin)).To(BeFalse())
		}
		Expect(vm01.Job).NotTo(BeNil())
		Expect(vm01.Job.RC).To(Equal(0))
		Expect(vm01.Job.Lines[0].ID).To(Equal("CSM3160I"))
		Expect(vm01.Job.Lines[len(vm01.Job.Lines)-1].ID).To(Equal("CSM3161I"))
		Expect(ids(vm01.Lines)).To(Equal([]string{"CSM3053I", "CSM3056I"}))
		Expect(vm01.Cause).To(BeNil())

		vm03, _ := out.System("VM03")
		Expect(vm03.OK).To(BeFalse())
		Expect(vm03.Job.RC).To(Equal(8))
		Expect(vm03.Cause).NotTo(BeNil())
		Expect(vm03.Cause.ID).To(Equal("CSM3110E"))
		Expect(ids(vm03.Lines)).To(Equal([]string{"CSM3053I", "CSM3055E"}))
		Expect(vm03.Lines[1].Text).To(HaveSuffix(vm03.Cause.String()))

		// Each phase carries the roll-out it belongs to, what it sent and
		// the id of the line that ended it: the transfer's CSM3053I, the
		// job's verdict on its last phase, none where the next phase began.
		var sent int64
		_, err = fmt.Sscanf(vm01.Lines[0].Text[strings.Index(vm01.Lines[0].Text, "files, ")+len("files, "):], "%d bytes", &sent)
		Expect(err).NotTo(HaveOccurred(), vm01.Lines[0].Text)
		Expect(sent).To(BeNumerically(">", 0))
		for _, p := range vm01.Phases {
			Expect(p.Rollout).To(Equal("SEND.TEST.L2.ALL"))
		}
		Expect(vm01.Phases[0].Bytes).To(Equal(sent))
		Expect(vm01.Phases[0].Message).To(Equal("CSM3053I"))
		Expect(vm01.Phases[1].Bytes).To(BeZero())
		Expect(vm01.Phases[1].Message).To(BeEmpty())
		Expect(vm01.Phases[2].Message).To(Equal("CSM3056I"))
		last := vm03.Phases[len(vm03.Phases)-1]
		Expect(last.OK).To(BeFalse())
		Expect(last.Message).To(Equal("CSM3055E"))
		Expect(vm03.Phases[0].Message).To(Equal("CSM3053I"))

		// The listeners heard the same phases, each begun and ended.
		heardVM01 := ears.of("VM01")
		Expect(heardVM01).To(HaveLen(6))
		var ended []fleet.Phase
		for _, p := range heardVM01 {
			if !p.End.IsZero() {
				ended = append(ended, p)
			}
		}
		Expect(ended).To(Equal(vm01.Phases))
		Expect(out.Result.Lines[len(out.Result.Lines)-1].String()).To(Equal("CSM3060I SRVLVL SEND: 2 of 3 systems succeeded"))
	})

	It("SERVCHECK gives the drift of each system, part by part", func() {
		localService(nodes["VM02"], "CP")

		out, err := fleet.Servcheck(ctx, fe, wire, fleet.ServcheckRequest{VRM: "720", Target: "VM01"})
		Expect(err).NotTo(HaveOccurred())
		vm01, _ := out.System("VM01")
		Expect(vm01.OK).To(BeTrue())
		Expect(vm01.Drift).To(BeEmpty())
		Expect(ids(vm01.Lines)).To(Equal([]string{"CSM3058I"}))

		out, err = fleet.Servcheck(ctx, fe, wire, fleet.ServcheckRequest{VRM: "720", Target: "VM02"})
		Expect(err).NotTo(HaveOccurred())
		vm02, _ := out.System("VM02")
		Expect(vm02.OK).To(BeTrue()) // a drift report is a successful check
		Expect(vm02.Drift).NotTo(BeEmpty())
		Expect(vm02.Lines).To(HaveLen(len(vm02.Drift)))
		for i, d := range vm02.Drift {
			Expect(d.Part).To(HavePrefix("CP "))
			Expect(vm02.Lines[i].Text).To(HaveSuffix(d.Part + " " + d.Problem))
		}
		sys, err := fe.ReadTable("720", "SYSSTAT")
		Expect(err).NotTo(HaveOccurred())
		en, _ := sys.Get("VM02")
		status, _ := en.Get("STATUS")
		Expect(status).To(Equal("DRIFT"))
	})

	It("PUT2PROD gives its one phase; an unreachable system fails its first phase with no job", func() {
		Expect(run("srvlvl send 720 L2 vm01 (stable").RC).To(Equal(0))
		out, err := fleet.Put2Prod(ctx, fe, wire, fleet.Put2ProdRequest{VRM: "720", Target: "VM01"})
		Expect(err).NotTo(HaveOccurred())
		vm01, _ := out.System("VM01")
		Expect(vm01.OK).To(BeTrue())
		Expect(names(vm01.Phases)).To(Equal([]proto.Phase{proto.PhasePut2Prod}))
		Expect(vm01.Phases[0].Last()).To(BeTrue())
		Expect(ids(vm01.Lines)).To(Equal([]string{"CSM3057I"}))
		Expect(vm01.Phases[0].Message).To(Equal("CSM3057I"))
		Expect(vm01.Phases[0].Rollout).To(Equal("PUT2PROD.720.VM01"))

		down, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		Expect(nodes["VM02"].Down(down)).To(Succeed())
		DeferCleanup(func() { Expect(nodes["VM02"].Up()).To(Succeed()) })
		out, err = fleet.Send(ctx, fe, wire, fleet.SendRequest{VRM: "720", Level: "L2", Target: "VM02"})
		Expect(err).NotTo(HaveOccurred())
		vm02, _ := out.System("VM02")
		Expect(vm02.OK).To(BeFalse())
		Expect(vm02.Job).To(BeNil())
		Expect(ids(vm02.Lines)).To(Equal([]string{"CSM3051E"}))
		Expect(vm02.Phases).To(HaveLen(1))
		Expect(vm02.Phases[0].Name).To(Equal(proto.PhaseTransfer))
		Expect(vm02.Phases[0].OK).To(BeFalse())
		Expect(vm02.Phases[0].Message).To(Equal("CSM3051E"))
		Expect(vm02.Phases[0].Bytes).To(BeZero())
	})

	It("a staged roll-out gives the schedule's result: every system's record, wave and run", func() {
		roll := &fleet.Rollout{Canary: "VM01", Waves: []rollout.Size{{N: 1}}, Budget: rollout.Size{N: 3}}
		out, err := fleet.Send(ctx, fe, wire, fleet.SendRequest{VRM: "720", Level: "L2", Target: "ALL", Rollout: roll})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Rollout).NotTo(BeNil())
		Expect(out.Rollout.ID).To(Equal("SEND.TEST.L2.ALL"))
		Expect(out.Rollout.Interrupted).To(BeFalse())
		Expect(out.Rollout.Waves).To(Equal([][]string{{"VM01"}, {"VM02"}, {"VM03"}}))
		Expect(out.Rollout.Records).To(HaveLen(3))
		for _, rec := range out.Rollout.Records {
			Expect(rec.Status).To(Equal(rollout.Done), rec.System)
			Expect(rec.Run).To(Equal(1))
		}
		Expect(out.Systems).To(HaveLen(3))

		// Interrupted: the principal's context ends before the roll-out
		// starts; nothing is recorded as failed.
		stopped, cancel := context.WithCancel(ctx)
		cancel()
		out, err = fleet.Send(stopped, fe, wire, fleet.SendRequest{VRM: "720", Level: "L2", Target: "ALL",
			Rollout: &fleet.Rollout{Budget: rollout.Size{N: 3}, Restart: true}})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Rollout.Interrupted).To(BeTrue())
		Expect(out.Rollout.Cause).To(ContainSubstring("context canceled"))
		Expect(out.Rollout.Count(rollout.Failed)).To(Equal(0))
	})
})
