package harness

import (
	"context"
	"io"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
)

// A two-system roll-out run step by step, then a world broken behind the
// engine's back: each invariant must see what was planted.
const invariantsScenario = `name: invariants
world: {count: 2}
steps:
  - servmgr: initialize 720
  - servmgr: srvlvl add 720 L1 basedon BASE
  - servmgr: srvlvl service 720 L1 all rsu0801
  - install: {system: ALL, level: L1}
  - servmgr: system add 720 vm${NN} L1 hostname ${HOST:VM${NN}} (port ${PORT:VM${NN}} norequire
    repeat: {from: 1, to: 2}
  - servmgr: srvlvl add 720 L2 basedon L1
  - servmgr: srvlvl service 720 L2 all rsu0802
  - servmgr: srvlvl package 720 L2
  - servmgr: srvlvl send 720 L2 all (stable
  - servmgr: system put2prod 720 all
`

var _ = ginkgo.Describe("the invariants", ginkgo.Ordered, func() {
	var r *runner
	ctx := context.Background()

	ginkgo.BeforeAll(func() {
		sc, err := Parse("invariants.yaml", []byte(invariantsScenario))
		Expect(err).NotTo(HaveOccurred())
		r = &runner{sc: sc, seed: sc.Seed, nodes: map[string]*node{}}
		ginkgo.DeferCleanup(r.stop)
		Expect(r.build(ctx)).To(Succeed())
		n := 0
		for i, st := range sc.Steps {
			reports, err := r.step(ctx, i, st)
			Expect(err).NotTo(HaveOccurred())
			for _, sr := range reports {
				n++
				Expect(sr.Status).To(Equal("pass"), "%s: %s", sr.Line, sr.Reason)
				r.checkInvariants(n, sr.outcome)
			}
		}
		Expect(r.violations).To(BeEmpty(), "the run as the engine left it holds")
	})

	// broken runs check after the world was broken and returns the names
	// of the invariants it found violated, leaving none recorded.
	broken := func(out *stepOutcome) []string {
		ginkgo.GinkgoHelper()
		r.checkInvariants(99, out)
		var names []string
		for _, v := range r.violations {
			Expect(v.Step).To(Equal(99))
			Expect(v.Detail).NotTo(BeEmpty())
			names = append(names, v.Invariant)
		}
		r.violations = nil
		return names
	}
	// rewrite replaces a file's content and returns a function that puts
	// it back.
	rewrite := func(a cms.FileArea, id cms.FileID, mangle func([]byte) []byte) func() {
		ginkgo.GinkgoHelper()
		var was []byte
		Expect(cms.ReadFile(a, id, func(rd io.Reader) (err error) { was, err = io.ReadAll(rd); return })).To(Succeed())
		put := func(b []byte) {
			Expect(cms.WriteFile(a, id, func(w io.Writer) error { _, err := w.Write(b); return err })).To(Succeed())
		}
		put(mangle(slices.Clone(was)))
		return func() { put(was) }
	}
	flip := func(b []byte) []byte { b[0] ^= 1; return b }
	pool := func(system string) cms.FilePool {
		ginkgo.GinkgoHelper()
		p, err := r.nodes[system].Sys.FilePool(agent.Pool)
		Expect(err).NotTo(HaveOccurred())
		return p
	}
	// testPart is a part of VM01's test build: its area and file.
	testPart := func() (cms.FileArea, cms.FileID) {
		ginkgo.GinkgoHelper()
		st, err := r.readNode("VM01")
		Expect(err).NotTo(HaveOccurred())
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range st.test {
				if !yield(k) {
					return
				}
			}
		})
		Expect(keys).NotTo(BeEmpty())
		f := strings.Fields(keys[0]) // COMP AREA FN FT
		a, err := pool("VM01").Dir(agent.AreaDir(r.sc.Release, f[0], f[1]))
		Expect(err).NotTo(HaveOccurred())
		return a, cms.MustParseFileID(f[2] + " " + f[3])
	}
	sysstat := func() *table.Store {
		ginkgo.GinkgoHelper()
		st, _, err := (&fleet.Env{Env: r.penv}).TableStore(r.sc.Release, "SYSSTAT")
		Expect(err).NotTo(HaveOccurred())
		return st
	}
	refusal := msg.Line{ID: "CSM3063E", Sev: msg.Error, Text: "PUT2PROD refused"}

	ginkgo.It("test-build-whole: a part of the test build changed, with no LOAD marked unfinished", func() {
		a, id := testPart()
		restore := rewrite(a, id, flip)
		Expect(broken(nil)).To(ConsistOf(InvTestBuildWhole))
		restore()
		Expect(broken(nil)).To(BeEmpty())
	})

	ginkgo.It("production-whole: a file of the production side changed", func() {
		st, err := r.readNode("VM02")
		Expect(err).NotTo(HaveOccurred())
		a, err := pool("VM02").Dir(agent.ProdDir(r.sc.Release, st.side, "CMS"))
		Expect(err).NotTo(HaveOccurred())
		files, err := a.List()
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty())
		restore := rewrite(a, files[0].ID, flip)
		Expect(broken(nil)).To(ConsistOf(InvProductionWhole))
		restore()
		Expect(broken(nil)).To(BeEmpty())
	})

	ginkgo.It("tables-parse: a table cut short", func() {
		a, err := (&fleet.Env{Env: r.penv}).Area(level.AdminTop())
		Expect(err).NotTo(HaveOccurred())
		restore := rewrite(a, table.SysStat().File, func(b []byte) []byte { return b[:len(b)-3] })
		Expect(broken(nil)).To(ContainElement(InvTablesParse))
		restore()
		Expect(broken(nil)).To(BeEmpty())
	})

	ginkgo.It("refused-nothing: a command refused for one system that changed it; not when a fault hit it", func() {
		refused := func(faulted map[string]bool) *stepOutcome {
			return &stepOutcome{result: msg.Result{RC: 8, Lines: []msg.Line{refusal}}, faulted: faulted,
				fleet: &fleet.Outcome{Targets: []string{"VM01"}, Systems: []fleet.SystemOutcome{{System: "VM01", Lines: []msg.Line{refusal}}}}}
		}
		Expect(broken(refused(nil))).To(BeEmpty(), "refused, and nothing changed")
		a, id := testPart()
		restore := rewrite(a, id, flip)
		Expect(broken(refused(nil))).To(ConsistOf(InvTestBuildWhole, InvRefusedNothing))
		restore()
		Expect(broken(nil)).To(BeEmpty())
		restore = rewrite(a, id, flip)
		Expect(broken(refused(map[string]bool{"VM01": true}))).To(ConsistOf(InvTestBuildWhole))
		restore()
		Expect(broken(nil)).To(BeEmpty())
	})

	ginkgo.It("refused-nothing: a principal command refused that changed a table", func() {
		_, err := table.SysStat().Apply(sysstat(), func(t *table.Table) error {
			return t.Set("VM01", map[string]string{"STATUS": "PLANTED"})
		})
		Expect(err).NotTo(HaveOccurred())
		out := &stepOutcome{result: msg.Result{RC: 8, Lines: []msg.Line{refusal}}}
		Expect(broken(out)).To(ConsistOf(InvRefusedNothing))
	})

	ginkgo.It("sysstat-agrees: SYSSTAT records another level than the system has", func() {
		_, err := table.SysStat().Apply(sysstat(), func(t *table.Table) error {
			return t.Set("VM01", map[string]string{"SRVLVL": "L1"})
		})
		Expect(err).NotTo(HaveOccurred())
		ok := &stepOutcome{result: msg.Result{}, fleet: &fleet.Outcome{Targets: []string{"VM01"}, Systems: []fleet.SystemOutcome{{System: "VM01", OK: true}}}}
		Expect(broken(ok)).To(ConsistOf(InvSysstatAgrees))
		_, err = table.SysStat().Apply(sysstat(), func(t *table.Table) error {
			return t.Set("VM01", map[string]string{"SRVLVL": "L2"})
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(broken(ok)).To(BeEmpty())
	})

	ginkgo.It("failure-named and no-panic: a failure with no error message, a panic in a job", func() {
		info := msg.Line{ID: "CSM3060I", Sev: msg.Info, Text: "SRVLVL SEND: 0 of 1 systems succeeded"}
		Expect(broken(&stepOutcome{result: msg.Result{RC: 8, Lines: []msg.Line{info}}})).To(ConsistOf(InvFailureNamed))
		Expect(broken(&stepOutcome{result: msg.Result{RC: 12, Lines: []msg.Line{
			{ID: "CSM3055E", Sev: msg.Error, Text: "VM01: CSMAGENT failed: panic: index out of range"}}}})).To(ConsistOf(InvNoPanic))
	})
})
