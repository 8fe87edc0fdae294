package fleet_test

import (
	"context"
	"errors"
	"io"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
)

// principalLog is the $CSMCMD $MSGLOG of a principal's SFS directory.
func principalLog(penv *level.Env, dir cms.DirID) []string {
	GinkgoHelper()
	p, err := penv.Pool()
	Expect(err).NotTo(HaveOccurred())
	a, err := p.Dir(dir)
	Expect(err).NotTo(HaveOccurred())
	var b strings.Builder
	err = cms.ReadFile(a, msg.LogFileID(), func(r io.Reader) error {
		_, err := io.Copy(&b, r)
		return err
	})
	if errors.Is(err, cms.ErrNotFound) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// lastRecord is the last command's record of a log: from its last
// CSM0001I line on.
func lastRecord(log []string) []string {
	for i := len(log) - 1; i >= 0; i-- {
		if strings.Contains(log[i], " CSM0001I ") {
			return log[i:]
		}
	}
	return nil
}

var _ = Describe("$CSMCMD $MSGLOG of commands that reach a managed system", func() {
	var (
		penv *level.Env
		wire *fleet.Wire
	)
	BeforeEach(func() { penv, wire = principalWithVM01() })

	It("logs a SEND typed as the seed types it once in CSM720 and once in MAINTCSM.VM01, with the agent's lines timed and signed", func() {
		out := servmgr.Run(context.Background(), penv, wire, []string{"srvlvl send L2 vm01 (stable"})
		Expect(out.RC).To(Equal(0), strings.Join(out.Strings(), "\n"))
		Expect(out.Fleet).NotTo(BeNil())
		so, ok := out.Fleet.System("VM01")
		Expect(ok).To(BeTrue())
		Expect(so.Job).NotTo(BeNil())
		Expect(so.Job.Lines).NotTo(BeEmpty())

		rel := lastRecord(principalLog(penv, level.ReleaseTop("720")))
		Expect(rel).NotTo(BeEmpty(), "the SEND that changed L2 is in CSM720's log")
		Expect(rel[0]).To(HaveSuffix("MAINTCSM CSM0001I SERVMGR SRVLVL SEND L2 VM01 (STABLE) started"))
		Expect(rel).To(ContainElement(HaveSuffix("CSM3061I Service level L2 of release 720 is now STABLE and locked")))

		sys := principalLog(penv, level.SystemDir("VM01"))
		rec := lastRecord(sys)
		Expect(rec[0]).To(HaveSuffix("MAINTCSM CSM0001I SERVMGR SRVLVL SEND L2 VM01 (STABLE) started"))
		// One record: nothing of it before its start line, one end.
		Expect(strings.Contains(sys[len(sys)-len(rec)-1], " CSM0002I ")).To(BeTrue(), "the line before the record ends the previous one: %q", sys[len(sys)-len(rec)-1])
		ends := 0
		for _, l := range rec {
			Expect(l).To(MatchRegexp(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (MAINTCSM|MAINT720) CSM\d{4}[IWES] `), "every line has its time and user")
			if strings.Contains(l, " CSM0002I ") {
				ends++
			}
		}
		Expect(ends).To(Equal(1))
		Expect(rec[len(rec)-1]).To(HaveSuffix("MAINTCSM CSM0002I SERVMGR SRVLVL SEND L2 VM01 (STABLE) ended RC=0"))
		for _, l := range so.Job.Lines {
			Expect(rec).To(ContainElement(HaveSuffix("MAINT720 "+l.String())), "the agent's line, as MAINT720 issued it on VM01")
		}
	})
})
