package fleet_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/sim/world"
)

// SYSTEM ADD and MODIFY ask the system what they record: without a
// transport they are refused unless NOCONTACT says to record unconfirmed,
// and the first contact then does what was skipped.
var _ = Describe("SYSTEM ADD and MODIFY contact the system", func() {
	var (
		ctx   = context.Background()
		penv  *level.Env
		clock cms.Clock
		wire  *fleet.Wire
	)
	run := func(w *fleet.Wire, line string) msg.Result {
		GinkgoHelper()
		return servmgr.Run(ctx, penv, w, []string{line}).Result
	}
	text := func(res msg.Result) string { return strings.Join(res.Strings(), "\n") }
	ids := func(res msg.Result) []string {
		var out []string
		for _, l := range res.Lines {
			out = append(out, l.ID)
		}
		return out
	}
	sysstat := func() string {
		GinkgoHelper()
		t, err := (&fleet.Env{Env: penv}).ReadTable("720", "SYSSTAT")
		Expect(err).NotTo(HaveOccurred())
		var b strings.Builder
		_, err = t.WriteTo(&b)
		Expect(err).NotTo(HaveOccurred())
		return b.String()
	}
	entry := func(system string) (table.Entry, bool) {
		GinkgoHelper()
		t, err := (&fleet.Env{Env: penv}).ReadTable("720", "SYSSTAT")
		Expect(err).NotTo(HaveOccurred())
		return t.Get(system)
	}
	tag := func(en table.Entry, name string) string { v, _ := en.Get(name); return v }
	managed := func(n *node) bool {
		GinkgoHelper()
		info, err := agent.Info(n.Env)
		Expect(err).NotTo(HaveOccurred())
		return info.Managed
	}
	addr := func(n *node) (string, string) {
		host, port, _ := strings.Cut(n.Addr(), ":")
		return host, port
	}

	BeforeEach(func() {
		ps, err := world.SamplePrincipal(afero.NewMemMapFs())
		Expect(err).NotTo(HaveOccurred())
		clock = cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
		penv = &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}
		wire = &fleet.Wire{Transport: transport.NewFTP(transport.FTPOptions{Timeout: 5 * time.Second, Retries: -1}), Password: fleetPassword,
			Pause: func(ctx context.Context) error { time.Sleep(2 * time.Millisecond); return ctx.Err() }}
		for _, l := range []string{"initialize 720", "srvlvl add 720 L1 basedon BASE", "srvlvl service 720 L1 all rsu0801",
			"srvlvl add 720 L2 basedon L1", "srvlvl service 720 L2 all rsu0802", "srvlvl package 720 L2"} {
			Expect(run(nil, l).RC).To(Equal(0), l)
		}
	})

	Describe("without a transport", func() {
		It("refuses SYSTEM ADD, saying how to give CSMWORK's password, and records nothing", func() {
			before := sysstat()
			res := run(nil, "system add 720 vm01 L1 hostname vm01.example.com (port 4535 norequire")
			Expect(res.RC).To(Equal(8))
			Expect(ids(res)).To(Equal([]string{"CSM2817E", "CSM0002I"}))
			Expect(res.Lines[0].Text).To(ContainSubstring("--password-file"))
			Expect(res.Lines[0].Text).To(ContainSubstring("CSMSIM_CSMWORK_PASSWORD"))
			Expect(res.Lines[0].Text).To(ContainSubstring("NOCONTACT"))
			Expect(sysstat()).To(Equal(before))
			p, err := penv.Pool()
			Expect(err).NotTo(HaveOccurred())
			_, err = p.Dir(level.SystemDir("VM01"))
			Expect(err).To(MatchError(cms.ErrNotFound), "no MAINTCSM.VM01 for a system refused")
		})

		It("records with NOCONTACT, saying so, and marks the entry unconfirmed", func() {
			res := run(nil, "system add 720 vm01 L1 hostname vm01.example.com (port 4535 norequire nocontact")
			Expect(res.RC).To(Equal(0), text(res))
			Expect(ids(res)).To(Equal([]string{"CSM2800I", "CSM2803I", "CSM0002I"}))
			en, ok := entry("VM01")
			Expect(ok).To(BeTrue())
			Expect(tag(en, "CONTACT")).To(Equal("NEVER"))
			Expect(tag(en, "STATUS")).To(Equal("NOCONTACT"))
		})

		It("refuses SYSTEM MODIFY SRVLVL: the system must say which level it is at", func() {
			Expect(run(nil, "system add 720 vm01 L1 hostname h (port 4535 nocontact").RC).To(Equal(0))
			before := sysstat()
			for _, l := range []string{"system modify 720 vm01 srvlvl L2", "system modify 720 vm01 srvlvl L2 (nocontact"} {
				res := run(nil, l)
				Expect(res.RC).To(Equal(8), l)
				Expect(res.Lines[0].ID).To(Equal("CSM2818E"), l)
				Expect(res.Lines[0].Text).To(ContainSubstring("--password-file"))
			}
			res := run(wire, "system modify 720 vm01 srvlvl L2 (nocontact")
			Expect(res.RC).To(Equal(8))
			Expect(res.Lines[0].String()).To(ContainSubstring("CSM2818E SYSTEM MODIFY VM01 SRVLVL L2 must ask the system which level it is at, and NOCONTACT was given"))
			Expect(sysstat()).To(Equal(before))
		})

		It("refuses SYSTEM MODIFY of the address unless NOCONTACT records it unconfirmed", func() {
			n := startNode("VM01", penv, clock, "L1")
			host, port := addr(n)
			Expect(run(wire, fmt.Sprintf("system add 720 vm01 L1 hostname %s (port %s norequire", host, port)).RC).To(Equal(0))
			before := sysstat()
			res := run(nil, "system modify 720 vm01 (port 4999")
			Expect(res.RC).To(Equal(8))
			Expect(res.Lines[0].ID).To(Equal("CSM2817E"))
			Expect(sysstat()).To(Equal(before))

			res = run(nil, "system modify 720 vm01 (port 4999 nocontact")
			Expect(res.RC).To(Equal(0), text(res))
			Expect(ids(res)).To(Equal([]string{"CSM2802I", "CSM2804I", "CSM0002I"}))
			en, _ := entry("VM01")
			Expect(tag(en, "CONTACT")).To(Equal("MOVED"))
			Expect(tag(en, "PORT")).To(Equal("4999"))

			// Put back where the node listens, and asked: confirmed.
			res = run(wire, fmt.Sprintf("system modify 720 vm01 (port %s", port))
			Expect(res.RC).To(Equal(0), text(res))
			Expect(ids(res)).To(Equal([]string{"CSM3067I", "CSM2802I", "CSM0002I"}))
			en, _ = entry("VM01")
			_, pending := en.Get("CONTACT")
			Expect(pending).To(BeFalse())
		})
	})

	Describe("the first contact with a system added with NOCONTACT", func() {
		It("SEND checks it and sets CSM_MANAGED YES, so local SERVICE is refused", func() {
			n := startNode("VM01", penv, clock, "L1")
			host, port := addr(n)
			Expect(run(nil, fmt.Sprintf("system add 720 vm01 L1 hostname %s (port %s norequire nocontact", host, port)).RC).To(Equal(0))
			Expect(managed(n)).To(BeFalse(), "NOCONTACT did not reach the system")

			res := run(wire, "srvlvl send 720 L2 vm01 (test")
			Expect(res.RC).To(Equal(0), text(res))
			Expect(text(res)).To(ContainSubstring("CSM3064I System VM01 reports release 720, service level L1, CSM_MANAGED YES set"))
			Expect(managed(n)).To(BeTrue())
			_, err := agent.LocalService(n.Env, "CP", "COR0001")
			Expect(msg.LinesOf(err)[0].ID).To(Equal("CSM2912E"))
			en, _ := entry("VM01")
			_, pending := en.Get("CONTACT")
			Expect(pending).To(BeFalse())
			Expect(tag(en, "SRVLVL")).To(Equal("L2"))

			// Confirmed once: the next command does not ask again.
			res = run(wire, "srvlvl send 720 L2 vm01 (stable")
			Expect(res.RC).To(Equal(0), text(res))
			Expect(text(res)).NotTo(ContainSubstring("CSM3064I"))
		})

		It("SERVCHECK refuses a system that is not at the level recorded, and changes nothing on it", func() {
			n := startNode("VM01", penv, clock, "BASE")
			host, port := addr(n)
			Expect(run(nil, fmt.Sprintf("system add 720 vm01 L1 hostname %s (port %s norequire nocontact", host, port)).RC).To(Equal(0))
			res := run(wire, "system servcheck 720 vm01")
			Expect(res.RC).To(Equal(8), text(res))
			Expect(text(res)).To(ContainSubstring("CSM3065E System VM01 reports service level BASE, not L1 as recorded by SYSTEM ADD"))
			Expect(text(res)).NotTo(ContainSubstring("CSM3058I"))
			Expect(managed(n)).To(BeFalse())
			en, _ := entry("VM01")
			Expect(tag(en, "CONTACT")).To(Equal("NEVER"))
		})

		It("PUT2PROD checks the name the system reports", func() {
			n := startNode("VM02", penv, clock, "L1")
			host, port := addr(n)
			Expect(run(nil, fmt.Sprintf("system add 720 vm01 BASE hostname %s (port %s norequire nocontact", host, port)).RC).To(Equal(0))
			res := run(wire, "system put2prod 720 vm01")
			Expect(res.RC).To(Equal(8), text(res))
			Expect(text(res)).To(ContainSubstring(fmt.Sprintf("CSM2819E The system at %s:%s reports that it is VM02, not VM01", host, port)))
			Expect(managed(n)).To(BeFalse())
		})

		It("SYSTEM MODIFY completes SYSTEM ADD's checks", func() {
			n := startNode("VM01", penv, clock, "L1")
			host, port := addr(n)
			Expect(run(nil, fmt.Sprintf("system add 720 vm01 L1 hostname %s (port 4535 norequire nocontact", host)).RC).To(Equal(0))
			res := run(wire, fmt.Sprintf("system modify 720 vm01 (port %s", port))
			Expect(res.RC).To(Equal(0), text(res))
			Expect(ids(res)).To(Equal([]string{"CSM3064I", "CSM2802I", "CSM0002I"}))
			Expect(managed(n)).To(BeTrue())
			en, _ := entry("VM01")
			_, pending := en.Get("CONTACT")
			Expect(pending).To(BeFalse())
			Expect(tag(en, "STATUS")).To(Equal("ADDED"))
		})
	})

	Describe("which system answers", func() {
		It("refuses SYSTEM ADD under another name than the system reports, and records nothing", func() {
			n := startNode("VM01", penv, clock, "L1")
			host, port := addr(n)
			before := sysstat()
			res := run(wire, fmt.Sprintf("system add 720 vm03 L1 hostname %s (port %s norequire", host, port))
			Expect(res.RC).To(Equal(8), text(res))
			Expect(ids(res)).To(Equal([]string{"CSM2819E", "CSM0002I"}))
			Expect(res.Lines[0].Text).To(Equal(fmt.Sprintf("The system at %s:%s reports that it is VM01, not VM03; "+
				"give the host and port of VM03's own CSMSERVE, or name the system VM01", host, port)))
			Expect(sysstat()).To(Equal(before))
			Expect(managed(n)).To(BeFalse())
		})

		It("refuses a second system at the same host and port, on ADD (NOCONTACT too) and on MODIFY", func() {
			n1 := startNode("VM01", penv, clock, "L1")
			n2 := startNode("VM02", penv, clock, "L1")
			host1, port1 := addr(n1)
			host2, port2 := addr(n2)
			Expect(run(wire, fmt.Sprintf("system add 720 vm01 L1 hostname %s (port %s norequire", host1, port1)).RC).To(Equal(0))
			before := sysstat()
			for _, l := range []string{
				fmt.Sprintf("system add 720 vm03 L1 hostname %s (port %s norequire", host1, port1),
				fmt.Sprintf("system add 720 vm03 L1 hostname %s (port %s norequire nocontact", strings.ToUpper(host1), port1),
			} {
				res := run(wire, l)
				Expect(res.RC).To(Equal(8), l)
				Expect(res.Lines[0].String()).To(Equal(fmt.Sprintf("CSM2822E System VM03 cannot be at host %s port %s: system VM01 of release 720 "+
					"is recorded there, and one CSMSERVE serves one system; give the host and port of VM03's own CSMSERVE", host1, port1)), l)
				Expect(sysstat()).To(Equal(before), l)
			}

			Expect(run(wire, fmt.Sprintf("system add 720 vm02 L1 hostname %s (port %s norequire", host2, port2)).RC).To(Equal(0))
			before = sysstat()
			res := run(wire, fmt.Sprintf("system modify 720 vm02 hostname %s (port %s", host1, port1))
			Expect(res.RC).To(Equal(8))
			Expect(res.Lines[0].ID).To(Equal("CSM2822E"))
			Expect(sysstat()).To(Equal(before))
		})
	})

	Describe("SYSTEM MODIFY SRVLVL", func() {
		It("asks the system, and records only the level it reports", func() {
			n := startNode("VM01", penv, clock, "L1")
			host, port := addr(n)
			Expect(run(wire, fmt.Sprintf("system add 720 vm01 L1 hostname %s (port %s norequire", host, port)).RC).To(Equal(0))
			before := sysstat()
			res := run(wire, "system modify 720 vm01 srvlvl L2")
			Expect(res.RC).To(Equal(8), text(res))
			Expect(ids(res)).To(Equal([]string{"CSM3065E", "CSM0002I"}))
			Expect(res.Lines[0].Text).To(Equal("System VM01 reports service level L1, not L2 as given on SYSTEM MODIFY; give the level the system is at"))
			Expect(sysstat()).To(Equal(before))

			// The system is put at L2 by other means: now it says so.
			_, err := world.InstallLevel(n.Sys, penv, n.Env, "720", "L2")
			Expect(err).NotTo(HaveOccurred())
			res = run(wire, "system modify 720 vm01 srvlvl L2")
			Expect(res.RC).To(Equal(0), text(res))
			Expect(ids(res)).To(Equal([]string{"CSM3067I", "CSM2802I", "CSM0002I"}))
			en, _ := entry("VM01")
			Expect(tag(en, "SRVLVL")).To(Equal("L2"))
		})

		It("refuses when the system cannot be reached", func() {
			n := startNode("VM01", penv, clock, "L1")
			host, port := addr(n)
			Expect(run(wire, fmt.Sprintf("system add 720 vm01 L1 hostname %s (port %s norequire", host, port)).RC).To(Equal(0))
			down, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			Expect(n.Down(down)).To(Succeed())
			before := sysstat()
			res := run(wire, "system modify 720 vm01 srvlvl L2")
			Expect(res.RC).To(Equal(8))
			Expect(res.Lines[0].String()).To(HavePrefix("CSM3051E VM01: cannot reach CSMSERVE at " + host + ":" + port))
			Expect(sysstat()).To(Equal(before))
		})
	})
})
