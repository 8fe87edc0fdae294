package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/world"
)

var _ = Describe("a fleet of 54 in-process nodes", Ordered, func() {
	var (
		penv  *level.Env
		wire  *fleet.Wire
		nodes []*node
	)
	run := func(line string) msg.Result {
		GinkgoHelper()
		return servmgr.Run(context.Background(), penv, wire, []string{line}).Result
	}
	must := func(line string) msg.Result {
		GinkgoHelper()
		res := run(line)
		Expect(res.RC).To(Equal(0), "%s\n%s", line, strings.Join(res.Strings(), "\n"))
		return res
	}

	BeforeAll(func() {
		ps, err := world.SamplePrincipal(afero.NewMemMapFs())
		Expect(err).NotTo(HaveOccurred())
		disk, err := ps.Minidisk("MAINTCSM", "0191")
		Expect(err).NotTo(HaveOccurred())
		clock := cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
		penv = &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}
		wire = &fleet.Wire{Transport: transport.NewFTP(transport.FTPOptions{Timeout: 20 * time.Second}), Password: fleetPassword,
			Workers: 16, Pause: func(ctx context.Context) error { time.Sleep(5 * time.Millisecond); return ctx.Err() }}
		for _, l := range []string{
			"initialize 720",
			"srvlvl add 720 vm010102_BLD1 basedon BASE nonesm desc Initial RSU Install",
			"srvlvl service 720 vm010102_bld1 all rsu0801",
			"srvlvl add 720 vm010802_BLD2 basedon vm010102_BLD1 nonesm desc August RSU Install",
			"srvlvl service 720 vm010802_BLD2 all rsu0802",
			"srvlvl package 720 vm010802_BLD2",
		} {
			must(l)
		}
		for i := 1; i <= 54; i++ {
			n := startNode(fmt.Sprintf("VM%02d", i), penv, clock, "VM010102_BLD1")
			nodes = append(nodes, n)
			host, port, _ := strings.Cut(n.Addr(), ":")
			res := must(fmt.Sprintf("system add 720 vm%02d vm010102_bld1 hostname %s (port %s norequire", i, host, port))
			Expect(res.Strings()).To(ContainElement(ContainSubstring("CSM3064I")))
		}
		names := ":TABLE.NAMES :GEN.1\n:NICK.EAST :LIST.VM01 VM02 VM03\n:NICK.ALLVM :LIST.EAST WEST\n:NICK.WEST :LIST.VM04\n"
		w, err := disk.Create(cms.MustParseFileID("MAINTCSM NAMES"))
		Expect(err).NotTo(HaveOccurred())
		_, _ = io.WriteString(w, names)
		Expect(w.Close()).To(Succeed())
	})

	It("SEND TEST, SEND STABLE and PUT2PROD put every node at the new level with identical production", func() {
		res := must("srvlvl send 720 vm010802_BLD2 all (test")
		Expect(res.Strings()).To(ContainElement(ContainSubstring("54 of 54 systems succeeded")))
		res = must("srvlvl send 720 vm010802_BLD2 all (stable")
		Expect(res.Strings()).To(ContainElement(ContainSubstring("CSM3061I")))
		res = must("system put2prod 720 all")
		Expect(res.Strings()).To(ContainElement(ContainSubstring("54 of 54 systems succeeded")))
		q := must("system query 720 all")
		Expect(strings.Count(strings.Join(q.Strings(), "\n"), "VM010802_BLD2")).To(Equal(54))
		first := production(nodes[0])
		Expect(first).NotTo(BeEmpty())
		for _, n := range nodes[1:] {
			Expect(production(n)).To(Equal(first), n.Sys.Name())
		}
		for _, n := range nodes {
			info, err := agent.Info(n.Env)
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Level).To(Equal("VM010802_BLD2"))
		}
	})

	It("SERVCHECK reports no drift, then exactly the node that took local service", func() {
		res := must("system servcheck 720 all")
		Expect(strings.Count(strings.Join(res.Strings(), "\n"), "CSM3058I")).To(Equal(54))
		localService(nodes[6], "CP") // VM07
		res = run("system servcheck 720 all")
		Expect(res.RC).To(Equal(4))
		var drift []string
		for _, l := range res.Strings() {
			if strings.HasPrefix(l, "CSM3059W") {
				drift = append(drift, l)
			}
		}
		Expect(drift).NotTo(BeEmpty())
		Expect(drift).To(HaveEach(HavePrefix("CSM3059W VM07:")))
		Expect(strings.Count(strings.Join(res.Strings(), "\n"), "CSM3058I")).To(Equal(53))
	})

	It("resolves nested nicknames (ALLVM -> EAST, WEST)", func() {
		res := run("system servcheck 720 allvm")
		Expect(strings.Count(strings.Join(res.Strings(), "\n"), "CSM3058I")).To(Equal(4))
	})
})

var _ = Describe("SEND, PUT2PROD and SYSTEM ADD failures over the wire", Ordered, func() {
	var (
		penv  *level.Env
		wire  *fleet.Wire
		nodes []*node
	)
	run := func(line string) msg.Result {
		GinkgoHelper()
		return servmgr.Run(context.Background(), penv, wire, []string{line}).Result
	}
	text := func(res msg.Result) string { return strings.Join(res.Strings(), "\n") }

	BeforeAll(func() {
		ps, err := world.SamplePrincipal(afero.NewMemMapFs())
		Expect(err).NotTo(HaveOccurred())
		clock := cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
		penv = &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}
		wire = &fleet.Wire{Transport: transport.NewFTP(transport.FTPOptions{Timeout: 5 * time.Second, Retries: -1}), Password: fleetPassword,
			Pause: func(ctx context.Context) error { time.Sleep(5 * time.Millisecond); return ctx.Err() }}
		for _, l := range []string{
			"initialize 720",
			"srvlvl add 720 L1 basedon BASE",
			"srvlvl service 720 L1 all rsu0801",
			"srvlvl add 720 L2 basedon L1",
			"srvlvl service 720 L2 all rsu0802",
		} {
			Expect(run(l).RC).To(Equal(0), l)
		}
		// VM01 and VM02 at L1; VM03 at BASE, so a COND send of L2 (based
		// on L1) must be refused there.
		for i, lvl := range []string{"L1", "L1", "BASE"} {
			n := startNode(fmt.Sprintf("VM%02d", i+1), penv, clock, lvl)
			nodes = append(nodes, n)
			host, port, _ := strings.Cut(n.Addr(), ":")
			res := run(fmt.Sprintf("system add 720 vm%02d %s hostname %s (port %s norequire", i+1, lvl, host, port))
			Expect(res.RC).To(Equal(0), text(res))
		}
	})

	It("refuses SEND of a level that is not packaged", func() {
		res := run("srvlvl send 720 L2 all (test")
		Expect(res.RC).To(Equal(8))
		Expect(text(res)).To(ContainSubstring("CSM2760E"))
	})

	It("refuses a COND load on a system not at the based-on level, and loads the others", func() {
		Expect(run("srvlvl package 720 L2").RC).To(Equal(0))
		before := production(nodes[2])
		res := run("srvlvl send 720 L2 all (test cond")
		Expect(text(res)).To(ContainSubstring("2 of 3 systems succeeded"))
		Expect(text(res)).To(MatchRegexp(`CSM3055E VM03: CSMAGENT LOAD ended RC=8: CSM3110E`))
		info, err := agent.Info(nodes[2].Env)
		Expect(err).NotTo(HaveOccurred())
		Expect(info.Level).To(Equal("BASE"))
		Expect(production(nodes[2])).To(Equal(before))
	})

	It("refuses PUT2PROD before a stable load", func() {
		res := run("system put2prod 720 vm01")
		Expect(res.RC).To(Equal(8))
		Expect(text(res)).To(ContainSubstring("CSM3063E VM01"))
	})

	It("does not count a system done whose result SYSSTAT cannot record: the same SEND again does it", func() {
		orig := penv.Sys
		full := errors.New("disk full")
		penv.Sys = cms.Guard(orig, func(_ cms.Write, target string) error {
			if target == level.AdminTop().String() {
				return full
			}
			return nil
		})
		res := run("srvlvl send 720 L2 vm01 (stable budget 1")
		penv.Sys = orig
		Expect(res.RC).To(Equal(12), text(res))
		Expect(text(res)).To(ContainSubstring("VM01 FAILED, wave 1, run 1: CSM0000S Internal error: writing table $CSM SYSSTAT in VMPSFS:MAINTCSM.: disk full"))
		Expect(text(res)).To(ContainSubstring("0 of 1 systems"))
		sys, err := (&fleet.Env{Env: penv}).ReadTable("720", "SYSSTAT")
		Expect(err).NotTo(HaveOccurred())
		Expect(tagOf(sys, "VM01", "STATE")).To(Equal("TEST"), "SYSSTAT still says what it recorded last")

		res = run("srvlvl send 720 L2 vm01 (stable budget 1")
		Expect(res.RC).To(Equal(0), text(res))
		sys, err = (&fleet.Env{Env: penv}).ReadTable("720", "SYSSTAT")
		Expect(err).NotTo(HaveOccurred())
		Expect(tagOf(sys, "VM01", "STATE")).To(Equal("STABLE"))
	})

	It("names host and port of a node that is not listening, and serves the others", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		addr := nodes[1].Addr()
		Expect(nodes[1].Down(ctx)).To(Succeed())
		res := run("system servcheck 720 all")
		Expect(text(res)).To(ContainSubstring("CSM3051E VM02: cannot reach CSMSERVE at " + addr))
		Expect(strings.Count(text(res), "CSM3058I")).To(Equal(2)) // VM01 and VM03
	})

	It("refuses SYSTEM ADD of a node that is an SSI member", func() {
		s, err := world.InitManaged(afero.NewMemMapFs(), world.ManagedOptions{Name: "VM09", SSI: "CLUSTER9"})
		Expect(err).NotTo(HaveOccurred())
		n, err := s.Serve(s.Agent(penv.Clock, table.NewMemLocker()), csmserve.Config{Password: fleetPassword, ListenAddr: "127.0.0.1:0"})
		Expect(err).NotTo(HaveOccurred())
		defer n.Stop(context.Background())
		host, port, _ := strings.Cut(n.Addr(), ":")
		res := run(fmt.Sprintf("system add 720 vm09 L1 hostname %s (port %s norequire", host, port))
		Expect(res.RC).To(Equal(8))
		Expect(text(res)).To(ContainSubstring("CSM2815E System VM09 is a member of SSI cluster CLUSTER9"))
	})
})
