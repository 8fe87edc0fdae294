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
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
)

var _ = Describe("SEND STABLE against a level changed while it was sent", func() {
	var (
		penv *level.Env
		wire *fleet.Wire
	)
	run := func(line string) msg.Result {
		GinkgoHelper()
		return servmgr.Run(context.Background(), penv, wire, []string{line}).Result
	}
	text := func(res msg.Result) string { return strings.Join(res.Strings(), "\n") }
	levels := func() *table.Table {
		GinkgoHelper()
		t, err := (&fleet.Env{Env: penv}).ReadTable("720", "SVCSTAT")
		Expect(err).NotTo(HaveOccurred())
		return t
	}

	BeforeEach(func() { penv, wire = principalWithVM01() })

	It("does not mark STABLE a level serviced again by another session after the SEND read it", func() {
		// A second MAINTCSM session services L2 again while VM01 loads the
		// package the SEND read: what VM01 loaded is no longer L2.
		var once sync.Once
		var second msg.Result
		wire.Now = time.Now
		wire.Observe = func(p fleet.Phase) {
			if p.Name == proto.PhaseLoad && !p.End.IsZero() {
				once.Do(func() {
					second = servmgr.Run(context.Background(), penv, nil, []string{"srvlvl service 720 L2 all rsu0802"}).Result
				})
			}
		}
		res := run("srvlvl send 720 L2 vm01 (stable")
		wire.Observe, wire.Now = nil, nil
		Expect(second.RC).To(Equal(0), text(second))
		Expect(res.RC).To(Equal(8), text(res))
		Expect(text(res)).To(MatchRegexp(`CSM3001E Table CSM SVCSTAT changed since it was read \(generation \d+, now \d+\): reason code 0902; nothing was overwritten`))
		Expect(text(res)).NotTo(ContainSubstring("CSM3061I"))

		t := levels()
		Expect(tagOf(t, "L2", "STATE")).To(Equal("TEST"), "L2 is not what VM01 loaded: it is not STABLE")
		Expect(tagOf(t, "L2", "LOCK")).To(Equal("OFF"))
		Expect(tagOf(t, "L2", "PACKAGE")).To(BeEmpty(), "the second session's SERVICE dropped the stale package, and that is kept")

		// What VM01 did is recorded all the same.
		sys, err := (&fleet.Env{Env: penv}).ReadTable("720", "SYSSTAT")
		Expect(err).NotTo(HaveOccurred())
		Expect(tagOf(sys, "VM01", "SRVLVL")).To(Equal("L2"))
		Expect(tagOf(sys, "VM01", "STATUS")).To(Equal("LOADED"))

		// Packaged again and sent again, L2 becomes STABLE.
		Expect(run("srvlvl package 720 L2").RC).To(Equal(0))
		res = run("srvlvl send 720 L2 vm01 (stable")
		Expect(res.RC).To(Equal(0), text(res))
		Expect(text(res)).To(ContainSubstring("CSM3061I Service level L2 of release 720 is now STABLE and locked"))
	})
})
