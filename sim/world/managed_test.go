package world_test

import (
	"bytes"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
	"github.com/csmsim/csmsim/sim/world"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var _ = Describe("InitManaged", func() {
	var (
		mem afero.Fs
		sys *world.System
	)
	BeforeEach(func() {
		mem = afero.NewMemMapFs()
		var err error
		sys, err = world.InitManaged(mem, world.ManagedOptions{Name: "VM07", Seed: 7})
		Expect(err).NotTo(HaveOccurred())
	})

	It("makes a managed system with the agent's layout", func() {
		Expect(sys.Config()).To(Equal(world.Config{Name: "VM07", Role: "managed", Release: "720", Seed: 7}))
		Expect(sys.SSIName()).To(BeEmpty())
		p, err := sys.FilePool(agent.Pool)
		Expect(err).NotTo(HaveOccurred())
		Expect(p.IsAdmin("MAINT720")).To(BeTrue())
		limit, used, err := p.Quota("MAINT720")
		Expect(err).NotTo(HaveOccurred())
		Expect(limit).To(Equal(int64(world.MaintSpaceBlocks)))
		Expect(used).To(BeNumerically("<", 10))
		for _, d := range [][2]string{{"CSMSERVE", "0191"}, {"MAINT720", "051D"}, {"MAINT720", "0191"}} {
			md, err := sys.Minidisk(d[0], d[1])
			Expect(err).NotTo(HaveOccurred())
			_, isDASD := md.(cms.DASDMinidisk)
			Expect(isDASD).To(BeFalse(), "%s is file-level only", md)
		}
		sysuf, err := sys.Minidisk("MAINT720", "051D")
		Expect(err).NotTo(HaveOccurred())
		t, err := agent.Sysuf().Read(table.NewStore(sysuf, table.NewMemLocker()))
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Len()).To(Equal(0))
	})

	It("defines 0490 and 0190 on a CKD volume, reachable with DDR, recomp area at the end", func() {
		v, err := ckd.OpenReadOnly(mem, world.ResVolume())
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Cylinders()).To(Equal(world.ResCylinders))
		Expect(v.Volser()).To(Equal(world.ResVolser))
		Expect(v.Close()).To(Succeed())
		for i, vaddr := range []string{"0490", "0190"} {
			md, err := sys.Minidisk("maint720", vaddr)
			Expect(err).NotTo(HaveOccurred())
			d, ok := md.(cms.DASDMinidisk)
			Expect(ok).To(BeTrue(), vaddr)
			start, count := d.RecompCylinders()
			Expect(count).To(Equal(agent.RecompCylinders))
			Expect(start).To(Equal(world.NucleusDiskCylinders - agent.RecompCylinders))
			Expect(d.CapacityBlocks()).To(Equal(int64(start * 180)))
			io := md.(*world.DASDMinidisk).IO()
			Expect(io.Start).To(Equal(1 + i*world.NucleusDiskCylinders))
			Expect(io.Cylinders).To(Equal(world.NucleusDiskCylinders))
		}

		// A nucleus written into 0490's recomp area, dumped and restored onto
		// 0190's, lands there and nowhere else.
		src, _ := sys.Minidisk("MAINT720", "0490")
		dst, _ := sys.Minidisk("MAINT720", "0190")
		s, d := src.(cms.DASDMinidisk), dst.(cms.DASDMinidisk)
		from, _ := s.RecompCylinders()
		used, err := s.WriteBlocks(from, bytes.NewReader(bytes.Repeat([]byte("NUC!"), 150_000)))
		Expect(err).NotTo(HaveOccurred())
		Expect(used).To(Equal(1))
		var dump bytes.Buffer
		Expect(s.DumpCylinders(from, from, &dump)).To(Succeed())
		before, err := afero.ReadFile(mem, world.ResVolume())
		Expect(err).NotTo(HaveOccurred())
		to, _ := d.RecompCylinders()
		Expect(d.RestoreCylinders(bytes.NewReader(dump.Bytes()), to)).To(Succeed())
		after, err := afero.ReadFile(mem, world.ResVolume())
		Expect(err).NotTo(HaveOccurred())
		abs := 1 + world.NucleusDiskCylinders + to
		lo, hi := 512+abs*15*56832, 512+(abs+1)*15*56832
		Expect(after[:lo]).To(Equal(before[:lo]))
		Expect(after[hi:]).To(Equal(before[hi:]))
		Expect(after[lo:hi]).NotTo(Equal(before[lo:hi]))
		h, err := ddr.Verify(bytes.NewReader(dump.Bytes()))
		Expect(err).NotTo(HaveOccurred())
		Expect(h.FirstAbsCyl).To(Equal(1 + from))
	})

	It("keeps its minidisks' DDR capability when reopened", func() {
		again, err := world.Open(mem)
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Config().Role).To(Equal("managed"))
		md, err := again.Minidisk("MAINT720", "0490")
		Expect(err).NotTo(HaveOccurred())
		_, ok := md.(cms.DASDMinidisk)
		Expect(ok).To(BeTrue())
	})

	It("refuses a second system in the same fs", func() {
		_, err := world.InitManaged(mem, world.ManagedOptions{})
		Expect(err).To(MatchError(ContainSubstring("already exists")))
	})

	It("gives the CSMAGENT environment", func() {
		env := sys.Agent(fixedClock{time.Unix(0, 0)}, nil)
		Expect(env.Release).To(Equal("720"))
		Expect(env.Sys).To(BeIdenticalTo(sys))
		Expect(env.Locker).NotTo(BeNil())
		info, err := agent.Info(env)
		Expect(err).NotTo(HaveOccurred())
		Expect(info.String()).To(Equal("CSMAGENT SYSTEM VM07 RELEASE 720 SSI - LEVEL - MANAGED NO"))
		res, err := agent.Install(env, "BASE")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Strings()).To(Equal([]string{"CSM3103I Service level BASE recorded as installed on system VM07: 0 components, 0 parts, production side A"}))
	})
})

var _ = Describe("the principal", func() {
	It("has no DDR-capable minidisks: they are file-level only", func() {
		s, err := world.InitPrincipal(afero.NewMemMapFs(), world.PrincipalOptions{})
		Expect(err).NotTo(HaveOccurred())
		md, err := s.Minidisk("MAINTCSM", "0191")
		Expect(err).NotTo(HaveOccurred())
		_, ok := md.(cms.DASDMinidisk)
		Expect(ok).To(BeFalse())
	})
})
