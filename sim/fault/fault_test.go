package fault_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"

	"github.com/csmsim/csmsim/sim/fault"
)

var systems = []string{"VM01", "VM02", "VM03", "VM04", "VM05", "VM06"}

// all resolves ALL to every system, and a system to itself.
func all(s string) ([]string, error) {
	if s == "ALL" {
		return systems, nil
	}
	return []string{s}, nil
}

var t0 = time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)

// firedOn is the systems a kind fires on at pt, asked of every system.
func firedOn(p *fault.Plan, k fault.Kind, pt fault.Point) []string {
	var on []string
	for _, s := range systems {
		pt.System = s
		if len(p.Fire(k, pt, t0, "test")) > 0 {
			on = append(on, s)
		}
	}
	return on
}

var _ = Describe("a fault entry", func() {
	DescribeTable("is refused with what is wrong",
		func(s fault.Spec, want string) { Expect(s.Check()).To(ContainSubstring(want)) },
		Entry("an unknown kind", fault.Spec{Kind: "melt", System: "ALL"}, `kind "melt" is not one of drop, refuse`),
		Entry("a probability over 1", fault.Spec{Kind: fault.Crash, System: "ALL", Probability: 1.5}, "probability 1.5 is not between 0 and 1"),
		Entry("a negative duration", fault.Spec{Kind: fault.Crash, System: "ALL", For: -time.Minute}, "must not be negative"),
		Entry("negative writes", fault.Spec{Kind: fault.IOError, System: "ALL", AfterWrites: -1}, "after_writes must not be negative"),
		Entry("an unknown point", fault.Spec{Kind: fault.Crash, System: "ALL", During: "lunch"}, `during "lunch" is neither a step number`),
		Entry("a node fault without a system", fault.Spec{Kind: fault.Crash}, "a crash fault names a system"),
		Entry("a principal crash naming a system", fault.Spec{Kind: fault.PrincipalCrash, System: "VM01"}, "a principal_crash of the principal names no system"),
		Entry("an unknown disk", fault.Spec{Kind: fault.DiskFull, System: "VM01", Disk: "swap"}, `disk "swap" is not one of`),
		Entry("a skew of nothing", fault.Spec{Kind: fault.Skew, System: "VM01"}, "a skew needs by:"),
		Entry("a drop outside an upload", fault.Spec{Kind: fault.Drop, System: "VM01", During: "load"}, "a drop hits an upload"),
	)

	It("is accepted when whole", func() {
		for _, s := range []fault.Spec{
			{Kind: fault.Crash, System: "ALL", During: "load", For: 10 * time.Minute},
			{Kind: fault.DiskFull, Disk: "VMPSFS", During: "send"},
			{Kind: fault.PrincipalCrash, During: "put2prod", AfterSystems: 2},
			{Kind: fault.Corrupt, System: "VM01", During: "transfer", AfterBytes: 300},
			{Kind: fault.Skew, System: "VM02", By: -30 * time.Minute, During: "7"},
		} {
			Expect(s.Check()).To(BeEmpty(), fmt.Sprint(s))
		}
	})
})

var _ = Describe("a plan", func() {
	It("fires an entry where its during says, on as many systems as its times, at most", func() {
		p, err := fault.NewPlan([]fault.Spec{{Kind: fault.Crash, System: "ALL", During: "load", Times: 2}}, 1, false, all)
		Expect(err).NotTo(HaveOccurred())
		Expect(firedOn(p, fault.Crash, fault.Point{Step: 3, Command: "send", Phase: "validate"})).To(BeEmpty())
		Expect(firedOn(p, fault.Refuse, fault.Point{Step: 3, Command: "send", Phase: "load"})).To(BeEmpty(), "another kind")
		hit := firedOn(p, fault.Crash, fault.Point{Step: 3, Command: "send", Phase: "load"})
		Expect(hit).To(HaveLen(2))
		Expect(firedOn(p, fault.Crash, fault.Point{Step: 4, Command: "send", Phase: "load"})).To(BeEmpty(), "spent")
		Expect(p.FiredAll()).To(HaveLen(2))
		Expect(p.FiredAll()[0]).To(MatchFields(IgnoreExtras, Fields{"Kind": Equal(fault.Crash), "Step": Equal(3), "Point": Equal("test")}))
	})

	It("picks its victims from the seed, not from who arrives first: the same seed the same systems, other seeds others", func() {
		spec := []fault.Spec{{Kind: fault.Crash, System: "ALL", During: "load"}}
		victim := func(seed uint64, order []string) string {
			p, err := fault.NewPlan(spec, seed, false, all)
			Expect(err).NotTo(HaveOccurred())
			for _, s := range order {
				if len(p.Fire(fault.Crash, fault.Point{System: s, Phase: "load"}, t0, "test")) > 0 {
					return s
				}
			}
			return ""
		}
		reversed := []string{"VM06", "VM05", "VM04", "VM03", "VM02", "VM01"}
		seen := map[string]bool{}
		for seed := uint64(1); seed <= 40; seed++ {
			v := victim(seed, systems)
			Expect(v).NotTo(BeEmpty())
			Expect(victim(seed, reversed)).To(Equal(v), "seed %d", seed)
			seen[v] = true
		}
		Expect(len(seen)).To(BeNumerically(">", 3), "40 seeds pick more than a few systems")
	})

	It("arms an entry with the probability it gives, drawn from the seed", func() {
		armed := 0
		for seed := uint64(1); seed <= 400; seed++ {
			p, err := fault.NewPlan([]fault.Spec{{Kind: fault.Refuse, System: "VM01", Probability: 0.25}}, seed, false, all)
			Expect(err).NotTo(HaveOccurred())
			again, _ := fault.NewPlan([]fault.Spec{{Kind: fault.Refuse, System: "VM01", Probability: 0.25}}, seed, false, all)
			Expect(again.Armed()).To(Equal(p.Armed()), "seed %d", seed)
			armed += len(p.Armed())
		}
		Expect(armed).To(BeNumerically("~", 100, 30))
	})

	It("in swarm mode switches kinds on and off by the seed: seeds differ in the mix they arm", func() {
		var specs []fault.Spec
		for _, k := range []fault.Kind{fault.Crash, fault.Refuse, fault.Stall, fault.IOError} {
			specs = append(specs, fault.Spec{Kind: k, System: "ALL", For: time.Minute})
		}
		mixes := map[string]bool{}
		for seed := uint64(1); seed <= 50; seed++ {
			p, err := fault.NewPlan(specs, seed, true, all)
			Expect(err).NotTo(HaveOccurred())
			var kinds []fault.Kind
			for _, s := range p.Armed() {
				kinds = append(kinds, s.Kind)
			}
			mixes[fmt.Sprint(kinds)] = true
		}
		Expect(len(mixes)).To(BeNumerically(">=", 8))
		plain, _ := fault.NewPlan(specs, 1, false, all)
		Expect(plain.Armed()).To(HaveLen(4), "without swarm every entry of probability 1 is armed")
	})

	It("in swarm mode lands an io_error at a write drawn by the seed, unless the entry says which, and lists where it armed it", func() {
		specs := []fault.Spec{{Kind: fault.Crash, System: "ALL"}, {Kind: fault.IOError, System: "ALL"}, {Kind: fault.IOError, System: "VM01", AfterWrites: 7}}
		drawn := map[int]bool{}
		for seed := uint64(1); seed <= 60; seed++ {
			p, err := fault.NewPlan(specs, seed, true, all)
			Expect(err).NotTo(HaveOccurred())
			again, _ := fault.NewPlan(specs, seed, true, all)
			Expect(again.Armed()).To(Equal(p.Armed()), "the same seed draws the same")
			for j, i := range p.ArmedEntries() {
				a := p.Armed()[j]
				Expect(a.Kind).To(Equal(specs[i].Kind))
				switch i {
				case 1:
					Expect(a.AfterWrites).To(BeNumerically("<=", 12))
					drawn[a.AfterWrites] = true
				case 2:
					Expect(a.AfterWrites).To(Equal(7), "an entry's own after_writes stands")
				}
			}
		}
		Expect(len(drawn)).To(BeNumerically(">=", 4), "seeds land it at different writes")
		plain, _ := fault.NewPlan(specs, 1, false, all)
		Expect(plain.Armed()[1].AfterWrites).To(BeZero(), "without swarm: the next write")
	})

	It("fires a principal crash only once enough systems finished", func() {
		p, _ := fault.NewPlan([]fault.Spec{{Kind: fault.PrincipalCrash, During: "send", AfterSystems: 3}}, 1, false, all)
		Expect(p.Fire(fault.PrincipalCrash, fault.Point{Command: "send", System: "VM02", Finished: 2}, t0, "test")).To(BeEmpty())
		Expect(p.Fire(fault.PrincipalCrash, fault.Point{Command: "send", System: "VM04", Finished: 3}, t0, "test")).To(HaveLen(1))
	})

	It("heals a lasting fault when its time is up, and after the steps heals all and fires no more", func() {
		p, _ := fault.NewPlan([]fault.Spec{
			{Kind: fault.Refuse, System: "VM01", For: 10 * time.Minute, Times: 2},
			{Kind: fault.Crash, System: "VM02"},
		}, 1, false, all)
		Expect(p.Fire(fault.Refuse, fault.Point{System: "VM01"}, t0, "test")).To(HaveLen(1))
		Expect(p.Fire(fault.Crash, fault.Point{System: "VM02"}, t0, "test")).To(HaveLen(1))
		Expect(p.Heal(t0.Add(9*time.Minute), false)).To(BeEmpty())
		Expect(p.Heal(t0.Add(10*time.Minute), false)).To(ConsistOf(HaveField("Kind", fault.Refuse)))
		Expect(p.Heal(t0.Add(10*time.Minute), true)).To(ConsistOf(HaveField("Kind", fault.Crash)), "a fault without for lasts until the end")
		Expect(p.Fire(fault.Refuse, fault.Point{System: "VM01"}, t0.Add(11*time.Minute), "test")).To(BeEmpty(),
			"once healed at the end, the second time does not fire: the liveness retries run healed")
	})

	It("names the entry whose system does not resolve", func() {
		_, err := fault.NewPlan([]fault.Spec{{Kind: fault.Crash, System: "NOSUCH"}}, 1, false,
			func(s string) ([]string, error) { return nil, fmt.Errorf("%s is not a system or nickname", s) })
		Expect(err).To(MatchError("fault 1 (crash): NOSUCH is not a system or nickname"))
	})
})
