package csmsimtest_test

import (
	"context"
	"fmt"
	"net"
	"net/textproto"
	"regexp"
	"runtime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/csmsimtest"
	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/table"
)

// run runs a SERVMGR line that must succeed.
func run(f *csmsimtest.Fleet, line string) csmsimtest.Result {
	GinkgoHelper()
	res, err := f.Servmgr(context.Background(), line)
	Expect(err).NotTo(HaveOccurred())
	Expect(res.RC).To(BeZero(), "%s:\n%s", line, res)
	return res
}

// ids are the message ids of lines, in order.
func ids(res csmsimtest.Result) []string {
	var out []string
	for _, l := range res.Lines {
		out = append(out, l.ID)
	}
	return out
}

// ftp is a plain FTP control connection, as a team's own code would open
// one: net/textproto, nothing of csmsim's.
type ftp struct{ *textproto.Conn }

func dialFTP(addr string) ftp {
	GinkgoHelper()
	c, err := textproto.Dial("tcp", addr)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = c.Close() }) // a spec may have closed it already
	code, _, err := c.ReadResponse(220)
	Expect(err).NotTo(HaveOccurred(), "the banner: %d", code)
	return ftp{c}
}

// cmd sends one command and returns its reply's code.
func (c ftp) cmd(line string) int {
	GinkgoHelper()
	code, _ := c.reply(line)
	return code
}

// reply sends one command and reads its reply, whatever its code.
func (c ftp) reply(line string) (int, string) {
	GinkgoHelper()
	id, err := c.Cmd("%s", line)
	Expect(err).NotTo(HaveOccurred())
	c.StartResponse(id)
	defer c.EndResponse(id)
	code, msg, err := c.ReadResponse(0)
	Expect(err).NotTo(HaveOccurred())
	return code, msg
}

// sentBytes is the bytes CSM3053I says SEND sent to a system.
func sentBytes(sr csmsimtest.SystemResult) int64 {
	GinkgoHelper()
	for _, l := range sr.Lines {
		if l.ID == "CSM3053I" {
			var n int64
			_, err := fmt.Sscanf(l.Text[strings.Index(l.Text, "files, ")+len("files, "):], "%d bytes", &n)
			Expect(err).NotTo(HaveOccurred(), l.Text)
			return n
		}
	}
	Fail("no CSM3053I for " + sr.System)
	return 0
}

var _ = Describe("a fleet's life", func() {
	It("starts a principal and its systems, each CSMSERVE on loopback, and Close stops every node and every goroutine, once", func() {
		before := runtime.NumGoroutine()
		f, err := csmsimtest.StartFleet(csmsimtest.Systems(2))
		Expect(err).NotTo(HaveOccurred())
		Expect(f.SystemNames()).To(Equal([]string{"VM01", "VM02"}))
		Expect(f.Release()).To(Equal("720"))
		var addrs []string
		for _, name := range f.SystemNames() {
			n := f.Node(name)
			Expect(n.Name()).To(Equal(name))
			Expect(n.Host()).To(Equal("127.0.0.1"))
			Expect(n.Addr()).To(Equal(fmt.Sprintf("127.0.0.1:%d", n.Port())))
			c := dialFTP(n.Addr())
			Expect(c.cmd("QUIT")).To(Equal(221))
			Expect(c.Close()).To(Succeed())
			addrs = append(addrs, n.Addr())
		}
		Expect(addrs[0]).NotTo(Equal(addrs[1]))

		Expect(f.Close()).To(Succeed())
		Expect(f.Close()).To(Succeed(), "a second Close returns what the first did")
		for _, a := range addrs {
			_, err := net.DialTimeout("tcp", a, time.Second)
			Expect(err).To(HaveOccurred(), "%s still accepts connections after Close", a)
		}
		_, err = f.Servmgr(context.Background(), "initialize 720")
		Expect(err).To(MatchError(ContainSubstring("the fleet is closed")))
		Expect(f.Install("VM01", "L1")).To(MatchError(ContainSubstring("the fleet is closed")))
		st, err := f.System("VM01")
		Expect(err).NotTo(HaveOccurred(), "a closed fleet's systems stay readable")
		Expect(st.Level).To(BeEmpty())
		Eventually(runtime.NumGoroutine).WithTimeout(10*time.Second).Should(BeNumerically("<=", before),
			"goroutines of the fleet still run after Close")
	})

	It("with GinkgoT() as its TB, is closed at the spec's cleanup", func() {
		var addr string
		// Cleanups run last-in first-out: this one runs after NewFleet's Close.
		DeferCleanup(func() {
			_, err := net.DialTimeout("tcp", addr, time.Second)
			Expect(err).To(HaveOccurred(), "VM01's CSMSERVE still listens after the spec's cleanup")
		})
		f := csmsimtest.NewFleet(GinkgoT())
		addr = f.Node("VM01").Addr()
		dialFTP(addr)
	})

	It("stops a command that runs when it closes, and waits for it", func() {
		f, err := csmsimtest.StartFleet(csmsimtest.Systems(2), csmsimtest.Installed("L1", "RSU0801"))
		Expect(err).NotTo(HaveOccurred())
		run(f, "srvlvl add 720 L2 basedon L1")
		run(f, "srvlvl service 720 L2 all rsu0802")
		run(f, "srvlvl package 720 L2")
		done := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			_, err := f.Servmgr(context.Background(), "srvlvl send 720 L2 all (test")
			done <- err
		}()
		Expect(f.Close()).To(Succeed())
		// The command either ran to its end before Close, or was stopped
		// or refused by it: never left running.
		Eventually(done).WithTimeout(10 * time.Second).Should(Receive(SatisfyAny(BeNil(), MatchError(ContainSubstring("closed")))))
	})

	It("does not run a command whose context has ended", func() {
		f := csmsimtest.NewFleet(GinkgoT(), csmsimtest.Installed("L1"))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := f.Servmgr(ctx, "srvlvl add 720 L2 basedon L1")
		Expect(err).To(MatchError(context.Canceled))
		svc, err := f.Table("SVCSTAT")
		Expect(err).NotTo(HaveOccurred())
		_, defined := svc.Get("L2")
		Expect(defined).To(BeFalse())
	})
})

var _ = Describe("an installed fleet", func() {
	var f *csmsimtest.Fleet
	BeforeEach(func() {
		f = csmsimtest.NewFleet(GinkgoT(), csmsimtest.Systems(3), csmsimtest.Installed("L1", "RSU0801"),
			csmsimtest.Nickname("EAST", "VM01", "VM02"))
		run(f, "srvlvl add 720 L2 basedon L1")
		run(f, "srvlvl service 720 L2 all rsu0802")
	})

	It("has every system at the level, managed, and in SYSSTAT at its node's address", func() {
		sysstat, err := f.Table("sysstat")
		Expect(err).NotTo(HaveOccurred())
		Expect(sysstat.Len()).To(Equal(3))
		for _, name := range f.SystemNames() {
			st, err := f.System(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(st).To(MatchFields(name, "L1", "STABLE", "L1"))
			Expect(st.Managed).To(BeTrue())
			Expect(st.Release).To(Equal("720"))
			Expect(len(st.Components)).To(BeNumerically(">", 1))
			for _, c := range st.Components {
				Expect(c.Level).To(Equal("L1"), c.Name)
				Expect(c.Managed).To(BeTrue(), c.Name)
				Expect(c.LocalService).To(BeFalse(), c.Name)
			}
			en, ok := sysstat.Get(name)
			Expect(ok).To(BeTrue(), name)
			Expect(tagOf(en, "HOST")).To(Equal(f.Node(name).Host()))
			Expect(tagOf(en, "PORT")).To(Equal(fmt.Sprint(f.Node(name).Port())))
			Expect(tagOf(en, "SRVLVL")).To(Equal("L1"))
		}
	})

	It("runs SEND and returns the RC, the lines and each system's outcome, with what SYSSTAT records", func() {
		res := run(f, "srvlvl package 720 L2")
		Expect(res.Systems).To(BeEmpty(), "PACKAGE works on the principal only")
		res = run(f, "SERVMGR srvlvl send 720 L2 east (test")
		Expect(res.Lines[len(res.Lines)-1].ID).To(Equal("CSM0002I"))
		Expect(res.Has("CSM3060I")).To(BeTrue(), res.String())
		Expect(res.Has("csm3056i")).To(BeTrue(), "ids match in any case")
		Expect(res.Has("CSM3061I")).To(BeFalse(), "no STABLE load was made")
		Expect(res.Rollout).To(BeNil())
		Expect(res.Systems).To(HaveLen(2), "EAST is VM01 and VM02")
		for i, name := range []string{"VM01", "VM02"} {
			sr := res.Systems[i]
			Expect(sr.System).To(Equal(name))
			Expect(sr.OK).To(BeTrue())
			Expect(sr.Level).To(Equal("L2"))
			Expect(sr.State).To(Equal("TEST"))
			Expect(sr.Job).NotTo(BeNil())
			Expect(sr.Job.RC).To(BeZero())
			var phases []proto.Phase
			for _, p := range sr.Phases {
				phases = append(phases, p.Name)
				Expect(p.OK).To(BeTrue())
			}
			Expect(phases).To(Equal([]proto.Phase{proto.PhaseTransfer, proto.PhaseValidate, proto.PhaseLoad}))
			Expect(sr.Lines).To(ContainElement(HaveField("ID", "CSM3056I")))
			Expect(sentBytes(sr)).To(BeNumerically(">", 0))
			same, ok := res.System(strings.ToLower(name))
			Expect(ok).To(BeTrue())
			Expect(same.System).To(Equal(name))

			st, err := f.System(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(st).To(MatchFields(name, "L2", "TEST", "L1"), "what the system says agrees with the outcome")
		}
		_, ok := res.System("VM03")
		Expect(ok).To(BeFalse())
		st, err := f.System("vm03")
		Expect(err).NotTo(HaveOccurred())
		Expect(st).To(MatchFields("VM03", "L1", "STABLE", "L1"), "VM03 is not in EAST")
	})

	It("reads a system while a command works on it", func() {
		run(f, "srvlvl package 720 L2")
		done := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			run(f, "srvlvl send 720 L2 all (test")
		}()
		levels := map[string]bool{}
		for reading := true; reading; {
			select {
			case <-done:
				reading = false
			default:
			}
			st, err := f.System("VM02")
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Level).To(BeElementOf("L1", "L2"), "VM02 is at one level or the other, never between")
			levels[st.Level] = true
			sysstat, err := f.Table("SYSSTAT")
			Expect(err).NotTo(HaveOccurred())
			Expect(sysstat.Len()).To(Equal(3))
		}
		Expect(levels).To(HaveKey("L2"))
	})

	It("returns a refused command and a syntax error as Results with RC 8, having changed nothing", func() {
		res, err := f.Servmgr(context.Background(), "srvlvl send 720 L2 all (test")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RC).To(Equal(8))
		Expect(ids(res)).To(Equal([]string{"CSM2760E", "CSM0002I"}))
		Expect(res.Systems).To(BeEmpty(), "the principal refused it before reaching any system")

		res, err = f.Servmgr(context.Background(), "srvlvl frobnicate 720 L2")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RC).To(Equal(8))
		Expect(res.Has("CSM0010E")).To(BeTrue(), res.String())
		for _, name := range f.SystemNames() {
			st, err := f.System(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Level).To(Equal("L1"))
		}
	})

	It("runs a staged roll-out, whose outcome and ROLLOUT rows it returns", func() {
		run(f, "srvlvl package 720 L2")
		res := run(f, "srvlvl send 720 L2 all (test canary VM03 waves 1")
		Expect(res.Rollout).NotTo(BeNil())
		Expect(res.Rollout.Halted).To(BeFalse())
		Expect(res.Systems).To(HaveLen(3))
		rollout, err := f.Table("ROLLOUT")
		Expect(err).NotTo(HaveOccurred())
		for _, name := range f.SystemNames() {
			en, ok := rollout.Get("SEND.TEST.L2.ALL " + name)
			Expect(ok).To(BeTrue(), "%s has no row in ROLLOUT:\n%v", name, rollout.List())
			Expect(tagOf(en, "STATUS")).To(Equal("DONE"))
		}
	})

	It("reads the principal's tables by name, and names the tables there are for one it does not know", func() {
		svc, err := f.Table("SVCSTAT")
		Expect(err).NotTo(HaveOccurred())
		var levels []string
		for _, en := range svc.List() {
			levels = append(levels, en.Key())
		}
		Expect(levels).To(Equal([]string{"BASE", "L1", "L2"}))
		names, err := f.Table("names")
		Expect(err).NotTo(HaveOccurred())
		east, ok := names.Get("EAST")
		Expect(ok).To(BeTrue())
		Expect(tagOf(east, "LIST")).To(Equal("VM01 VM02"))
		_, err = f.Table("SYSFOO")
		Expect(err).To(MatchError(And(ContainSubstring("SYSFOO"), ContainSubstring("SYSSTAT, SVCSTAT, ROLLOUT, NAMES"))))

		svc.Delete("L2")
		again, err := f.Table("SVCSTAT")
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Len()).To(Equal(3), "a table read is a copy")
	})

	It("refuses a system it does not have, naming those it has", func() {
		_, err := f.System("VM09")
		Expect(err).To(MatchError(ContainSubstring("no system VM09; its systems are VM01, VM02, VM03")))
		Expect(f.Install("VM09", "L1")).To(MatchError(ContainSubstring("no system VM09")))
		Expect(func() { f.Node("VM09") }).To(PanicWith(MatchError(ContainSubstring("no system VM09"))))
	})

	It("lets a team's own FTP code log in to a node with the fleet's credentials, and nobody else", func() {
		user, password := f.Credentials()
		Expect(user).To(Equal("CSMWORK"))
		Expect(len(password)).To(BeNumerically(">=", 20))

		c := dialFTP(f.Node("VM02").Addr())
		Expect(c.cmd("USER " + user)).To(Equal(331))
		Expect(c.cmd("PASS " + password)).To(Equal(230))
		code, msg := c.reply("SITE CSMAGENT INFO")
		Expect(code).To(Equal(200))
		Expect(msg).To(Equal("CSMAGENT SYSTEM VM02 RELEASE 720 SSI - LEVEL L1 MANAGED YES"))

		other := csmsimtest.NewFleet(GinkgoT())
		_, otherPassword := other.Credentials()
		Expect(otherPassword).NotTo(Equal(password), "each fleet makes its own password")
		wrong := dialFTP(f.Node("VM02").Addr())
		Expect(wrong.cmd("USER " + user)).To(Equal(331))
		Expect(wrong.cmd("PASS " + otherPassword)).To(Equal(530))
	})
})

// tagOf is an entry's tag value, "" for a tag it lacks.
func tagOf(en table.Entry, tag string) string {
	v, _ := en.Get(tag)
	return v
}

// MatchFields matches a SystemState's name, level, state and production.
func MatchFields(name, level, state, prod string) OmegaMatcher {
	return And(HaveField("Name", name), HaveField("Level", level), HaveField("State", state), HaveField("Prod", prod))
}

var _ = Describe("a fleet without Installed", func() {
	It("has a fresh principal and bare systems; Install puts them at a level SYSTEM ADD can then record", func() {
		f := csmsimtest.NewFleet(GinkgoT(), csmsimtest.Systems(2))
		_, err := f.Table("SVCSTAT")
		Expect(err).To(MatchError(ContainSubstring("CSM0020E")), "release 720 is not initialized")
		st, err := f.System("VM01")
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Components).To(BeEmpty())
		Expect(st.Managed).To(BeFalse())

		run(f, "initialize 720")
		run(f, "srvlvl add 720 L1 basedon BASE")
		res, err := f.Servmgr(context.Background(), fmt.Sprintf("system add 720 vm01 L1 hostname 127.0.0.1 (port %d norequire", f.Node("VM01").Port()))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RC).To(Equal(8), "VM01 is at no level yet:\n%s", res)

		Expect(f.Install("ALL", "l1")).To(Succeed())
		for _, name := range f.SystemNames() {
			st, err := f.System(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(st).To(MatchFields(name, "L1", "STABLE", "L1"))
			Expect(st.Managed).To(BeFalse(), "no SYSTEM ADD has managed it yet")
		}
		sysstat, err := f.Table("SYSSTAT")
		Expect(err).NotTo(HaveOccurred())
		Expect(sysstat.Len()).To(BeZero(), "Install records nothing on the principal")
		run(f, fmt.Sprintf("system add 720 vm01 L1 hostname 127.0.0.1 (port %d norequire", f.Node("VM01").Port()))
		st, err = f.System("VM01")
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Managed).To(BeTrue())
		Expect(f.Install("VM01", "L9")).To(MatchError(ContainSubstring("installing level L9 of release 720 on VM01")))
	})

	It("serves another release, with envelopes generated for it", func() {
		f := csmsimtest.NewFleet(GinkgoT(), csmsimtest.Release("730"), csmsimtest.Seed(7),
			csmsimtest.Envelopes(csmsimtest.Envelope{Name: "RSU7301", Parts: 4},
				csmsimtest.Envelope{Name: "cor0001", Kind: "cor", Component: "cp", Parts: 1}),
			csmsimtest.Installed("L730A", "RSU7301"))
		st, err := f.System("VM01")
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Release).To(Equal("730"))
		Expect(st).To(MatchFields("VM01", "L730A", "STABLE", "L730A"))
		run(f, "srvlvl add 730 L730B basedon L730A")
		res := run(f, "srvlvl service 730 L730B cp cor0001")
		Expect(res.Lines).To(ContainElement(HaveField("Text", ContainSubstring("Envelope COR0001 applied to component CP"))))
		res, err = f.Servmgr(context.Background(), "srvlvl service 730 L730B all rsu0802")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Has("CSM2721E")).To(BeTrue(), "the sample's RSU0802 is of release 720:\n%s", res)
	})
})

var _ = Describe("a fleet's links", func() {
	It("charges a distant system's latency and bandwidth to the link clock, and waits none of it", func() {
		const latency, bandwidth = 500 * time.Millisecond, 32 << 10
		f := csmsimtest.NewFleet(GinkgoT(), csmsimtest.Systems(3), csmsimtest.Installed("L1", "RSU0801"),
			csmsimtest.Link(0, bandwidth, "VM01"), csmsimtest.Link(latency, 0, "vm02"))
		Expect(f.LinkTime("VM02")).To(BeNumerically(">", 0), "SYSTEM ADD reached VM02 over its link")
		Expect(f.LinkTime("VM03")).To(BeZero(), "VM03's link is not shaped")
		run(f, "srvlvl add 720 L2 basedon L1")
		run(f, "srvlvl service 720 L2 all rsu0802")
		run(f, "srvlvl package 720 L2")
		before := map[string]time.Duration{}
		for _, name := range f.SystemNames() {
			before[name] = f.LinkTime(name)
		}
		wall := time.Now()
		res := run(f, "srvlvl send 720 L2 all (test")
		elapsed := time.Since(wall)

		far := f.LinkTime("VM02") - before["VM02"]
		Expect(far%latency).To(BeZero(), "latency alone: one wait per write of the node")
		Expect(far).To(BeNumerically(">=", 12*latency), "an FTP session takes a dozen replies before the first byte")
		Expect(elapsed).To(BeNumerically("<", far), "the link's time is charged, not slept")

		vm01, _ := res.System("VM01")
		narrow := f.LinkTime("VM01") - before["VM01"]
		Expect(narrow).To(BeNumerically(">=", time.Duration(sentBytes(vm01))*time.Second/bandwidth))
		Expect(f.LinkTime("VM03")).To(BeZero())

		// The phases run on the link clock: VM02's transfer lasts its
		// latencies, VM03's none.
		vm02, _ := res.System("VM02")
		vm03, _ := res.System("VM03")
		Expect(vm02.Phases[0].End.Sub(vm02.Phases[0].Begin)).To(BeNumerically(">=", 10*latency))
		Expect(vm03.Phases[0].End.Sub(vm03.Phases[0].Begin)).To(BeNumerically("<", latency))
	})

	It("ends a roll-out wave at its DEADLINE on the link clock", func() {
		f := csmsimtest.NewFleet(GinkgoT(), csmsimtest.Systems(2), csmsimtest.Installed("L1", "RSU0801"),
			csmsimtest.Link(time.Second, 0, "VM02"))
		run(f, "srvlvl add 720 L2 basedon L1")
		run(f, "srvlvl service 720 L2 all rsu0802")
		run(f, "srvlvl package 720 L2")
		res, err := f.Servmgr(context.Background(), "srvlvl send 720 L2 all (test waves 1 deadline 5s")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RC).To(Equal(8), res.String())
		Expect(res.Has("CSM3074E")).To(BeTrue(), res.String())
		Expect(res.Rollout).NotTo(BeNil())
		Expect(res.Rollout.Halted).To(BeTrue())
		vm01, _ := res.System("VM01")
		vm02, _ := res.System("VM02")
		Expect(vm01.OK).To(BeTrue(), "VM01's link takes no time")
		Expect(vm02.OK).To(BeFalse(), "VM02's dozen replies at 1 s outlast the 5 s")
		Expect(f.System("VM02")).To(HaveField("Level", "L1"))
	})
})

var _ = Describe("a fleet's determinism", func() {
	It("gives the same lines and tables for the same commands on every fleet, but for the nodes' ports", func() {
		port := regexp.MustCompile(`127\.0\.0\.1:\d+|:PORT\.\d+`)
		transcript := func() []string {
			f := csmsimtest.NewFleet(GinkgoT(), csmsimtest.Systems(2), csmsimtest.Installed("L1", "RSU0801"))
			var out []string
			for _, line := range []string{"srvlvl add 720 L2 basedon L1", "srvlvl service 720 L2 all rsu0802",
				"srvlvl package 720 L2", "srvlvl send 720 L2 all (test", "srvlvl setlock 720 L2 on", "srvlvl send 720 L2 all (stable",
				"system put2prod 720 all", "system servcheck 720 all"} {
				out = append(out, strings.Split(run(f, line).String(), "\n")...)
			}
			for _, name := range []string{"SYSSTAT", "SVCSTAT"} {
				t, err := f.Table(name)
				Expect(err).NotTo(HaveOccurred())
				for _, en := range t.List() {
					out = append(out, en.String())
				}
			}
			for i := range out {
				out[i] = port.ReplaceAllString(out[i], "PORT")
			}
			return out
		}
		first := transcript()
		Expect(strings.Join(first, "\n")).To(ContainSubstring("CSM3057I"), "PUT2PROD ran")
		Expect(transcript()).To(Equal(first))
	})
})

var _ = Describe("a fleet's options", func() {
	DescribeTable("refuse what cannot make a fleet, saying why",
		func(want string, opts ...csmsimtest.Option) {
			f, err := csmsimtest.StartFleet(opts...)
			Expect(f).To(BeNil())
			Expect(err).To(MatchError(And(HavePrefix("csmsimtest: "), ContainSubstring(want))))
		},
		Entry("too many systems", "a fleet has 0 to 99 managed systems", csmsimtest.Systems(100)),
		Entry("a negative count", "a fleet has 0 to 99", csmsimtest.Systems(-1)),
		Entry("counts that disagree", "Systems(3) and Names with 2 names disagree", csmsimtest.Systems(3), csmsimtest.Names("A", "B")),
		Entry("a name given twice", "system VM01 is named twice", csmsimtest.Names("vm01", "VM01")),
		Entry("a name SERVMGR cannot type", `system "TOOLONGNAME" cannot be named`, csmsimtest.Names("toolongname")),
		Entry("ALL as a name", `system "ALL" cannot be named`, csmsimtest.Names("all")),
		Entry("a release CSM does not serve", "CSM0021E", csmsimtest.Release("710")),
		Entry("a link to a system not in the fleet", "Link names system VM07, which is not in the fleet (VM01)",
			csmsimtest.Link(time.Second, 0, "VM07")),
		Entry("a negative latency", "cannot be negative", csmsimtest.Link(-time.Second, 0)),
		Entry("an envelope without a name", "an envelope has no Name", csmsimtest.Envelopes(csmsimtest.Envelope{})),
		Entry("an envelope of no known kind", `Kind "PTF"; use RSU or COR`, csmsimtest.Envelopes(csmsimtest.Envelope{Name: "X", Kind: "PTF"})),
		Entry("a COR without a component", "COR C1 has no Component", csmsimtest.Envelopes(csmsimtest.Envelope{Name: "C1", Kind: "COR"})),
		Entry("a nickname of itself", "must not contain itself", csmsimtest.Nickname("LOOP", "LOOP2"), csmsimtest.Nickname("LOOP2", "LOOP")),
		Entry("a nickname of strangers", "Nickname EAST lists VM07, which is neither a system of the fleet (VM01) nor a nickname",
			csmsimtest.Nickname("EAST", "VM07")),
	)

	It("stops what it started when Installed's commands fail, naming the command and its messages", func() {
		before := runtime.NumGoroutine()
		f, err := csmsimtest.StartFleet(csmsimtest.Systems(2), csmsimtest.Installed("L1", "RSU9999"))
		Expect(f).To(BeNil())
		Expect(err).To(MatchError(And(ContainSubstring("SERVMGR srvlvl service 720 L1 all RSU9999 ended RC=8"),
			ContainSubstring("CSM2720E Envelope RSU9999 SERVLINK not found"))))
		Expect(err.Error()).NotTo(ContainSubstring("goroutines"), "the nodes it started stopped cleanly")
		Eventually(runtime.NumGoroutine).WithTimeout(10 * time.Second).Should(BeNumerically("<=", before))
	})

	It("makes a fleet of no managed systems, a principal alone", func() {
		f := csmsimtest.NewFleet(GinkgoT(), csmsimtest.Names())
		Expect(f.SystemNames()).To(BeEmpty())
		run(f, "initialize 720")
	})
})
