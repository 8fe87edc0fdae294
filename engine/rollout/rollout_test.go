package rollout_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/rollout"
)

// memStore is a Store in memory that counts saves.
type memStore struct {
	mu   sync.Mutex
	recs map[string]map[string]rollout.Record
}

func newStore() *memStore { return &memStore{recs: map[string]map[string]rollout.Record{}} }

func (s *memStore) Load(id string) ([]rollout.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []rollout.Record
	for _, r := range s.recs[id] {
		out = append(out, r)
	}
	return out, nil
}

func (s *memStore) Save(id string, r rollout.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs[id] == nil {
		s.recs[id] = map[string]rollout.Record{}
	}
	s.recs[id][r.System] = r
	return nil
}

func (s *memStore) Reset(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.recs, id)
	return nil
}

func systems(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("VM%02d", i+1)
	}
	return out
}

// fleet is a Do that fails the systems in bad and counts every call.
type fleet struct {
	mu    sync.Mutex
	bad   map[string]string
	calls map[string]int
	order []string
}

func newFleet(bad ...string) *fleet {
	f := &fleet{bad: map[string]string{}, calls: map[string]int{}}
	for _, b := range bad {
		f.bad[b] = "CSM3051E"
	}
	return f
}

func (f *fleet) do(ctx context.Context, s string, _ int) rollout.Outcome {
	f.mu.Lock()
	f.calls[s]++
	f.order = append(f.order, s)
	id, bad := f.bad[s]
	f.mu.Unlock()
	if bad {
		return rollout.Outcome{Message: id, Reason: s + " unreachable"}
	}
	return rollout.Outcome{OK: true}
}

func statuses(res rollout.Result) map[rollout.Status][]string {
	out := map[rollout.Status][]string{}
	for _, r := range res.Records {
		out[r.Status] = append(out[r.Status], r.System)
	}
	return out
}

var _ = Describe("sizes", func() {
	DescribeTable("parse and apply", func(in string, total, want int) {
		s, err := rollout.ParseSize(in)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Of(total)).To(Equal(want))
		Expect(s.String()).To(Equal(in))
	},
		Entry("a count", "5", 54, 5),
		Entry("a percentage rounds up", "10%", 54, 6),
		Entry("100%", "100%", 54, 54),
		Entry("1% of few is one system", "1%", 3, 1),
	)
	DescribeTable("refuse what is not a size", func(in string) {
		_, err := rollout.ParseSize(in)
		Expect(err).To(MatchError(ContainSubstring(in)))
	}, Entry("zero", "0"), Entry("negative", "-1"), Entry("words", "half"), Entry("over 100%", "150%"), Entry("empty", ""), Entry("sign", "+5"))
})

var _ = Describe("Plan", func() {
	It("puts the canary first, then waves whose last size repeats", func() {
		w, err := rollout.Plan(systems(10), rollout.Policy{Canary: []string{"VM03"}, Waves: []rollout.Size{{N: 2}, {N: 50, Percent: true}}})
		Expect(err).NotTo(HaveOccurred())
		Expect(w).To(Equal([][]string{{"VM03"}, {"VM01", "VM02"}, {"VM04", "VM05", "VM06", "VM07", "VM08"}, {"VM09", "VM10"}}))
	})
	It("without waves, puts all the rest in one wave", func() {
		w, err := rollout.Plan(systems(3), rollout.Policy{})
		Expect(err).NotTo(HaveOccurred())
		Expect(w).To(Equal([][]string{{}, {"VM01", "VM02", "VM03"}}))
	})
	It("refuses a canary outside the roll-out", func() {
		_, err := rollout.Plan(systems(3), rollout.Policy{Canary: []string{"VM09"}})
		Expect(err).To(MatchError(ContainSubstring("VM09 is not one of")))
	})
})

var _ = Describe("Run", func() {
	var store *memStore
	BeforeEach(func() { store = newStore() })
	cfg := func(f *fleet, p rollout.Policy, n int) rollout.Config {
		return rollout.Config{ID: "SEND.TEST.L2.ALL", Systems: systems(n), Policy: p, Store: store, Workers: 1, Do: f.do}
	}

	It("does every system once, canary first", func() {
		f := newFleet()
		res, err := rollout.Run(context.Background(), cfg(f, rollout.Policy{Canary: []string{"VM05"}, Waves: []rollout.Size{{N: 2}}}, 6))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Halted).To(BeFalse())
		Expect(f.order[0]).To(Equal("VM05"))
		Expect(statuses(res)[rollout.Done]).To(HaveLen(6))
		Expect(res.Waved).To(HaveLen(4))
		for _, n := range f.calls {
			Expect(n).To(Equal(1))
		}
	})

	It("halts when failures reach the budget across waves, not per wave", func() {
		// One failure in wave 1 and one in wave 2: a per-wave budget of 2
		// would never halt; the roll-out's budget of 2 halts after wave 2.
		f := newFleet("VM02", "VM04")
		res, err := rollout.Run(context.Background(), cfg(f, rollout.Policy{Waves: []rollout.Size{{N: 2}}, Budget: rollout.Size{N: 2}}, 8))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Halted).To(BeTrue())
		Expect(res.HaltWave).To(Equal(2))
		Expect(res.Reason).To(Equal("2 failures reached the failure budget of 2"))
		st := statuses(res)
		Expect(st[rollout.Done]).To(Equal([]string{"VM01", "VM03"}))
		Expect(st[rollout.Failed]).To(Equal([]string{"VM02", "VM04"}))
		Expect(st[rollout.Untouched]).To(Equal([]string{"VM05", "VM06", "VM07", "VM08"}))
		Expect(f.calls).NotTo(HaveKey("VM05"))
	})

	It("stops starting systems within a wave once the budget is reached", func() {
		f := newFleet("VM01")
		res, err := rollout.Run(context.Background(), cfg(f, rollout.Policy{}, 5))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Halted).To(BeTrue())
		Expect(f.order).To(Equal([]string{"VM01"}))
		Expect(statuses(res)[rollout.Untouched]).To(HaveLen(4))
	})

	It("takes a percentage budget of the whole roll-out", func() {
		f := newFleet("VM01", "VM02")
		res, err := rollout.Run(context.Background(), cfg(f, rollout.Policy{Budget: rollout.Size{N: 50, Percent: true}}, 10))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Budget).To(Equal(5))
		Expect(res.Halted).To(BeFalse())
		Expect(res.Count(rollout.Done)).To(Equal(8))
		Expect(res.Count(rollout.Failed)).To(Equal(2))
	})

	It("resumes after a halt: the failed are retried, the done never redone", func() {
		f := newFleet("VM03")
		p := rollout.Policy{Waves: []rollout.Size{{N: 2}}}
		first, err := rollout.Run(context.Background(), cfg(f, p, 6))
		Expect(err).NotTo(HaveOccurred())
		Expect(first.Halted).To(BeTrue())
		delete(f.bad, "VM03") // the sysprog fixed VM03
		second, err := rollout.Run(context.Background(), cfg(f, p, 6))
		Expect(err).NotTo(HaveOccurred())
		Expect(second.Run).To(Equal(2))
		Expect(second.Halted).To(BeFalse())
		Expect(second.Skipped).To(Equal([]string{"VM01", "VM02"}))
		Expect(second.Count(rollout.Done)).To(Equal(6))
		for s, n := range f.calls {
			want := 1
			if s == "VM03" {
				want = 2
			}
			Expect(n).To(Equal(want), s)
		}
		third, err := rollout.Run(context.Background(), cfg(f, p, 6))
		Expect(err).NotTo(HaveOccurred())
		Expect(third.Skipped).To(HaveLen(6))
		Expect(f.calls["VM01"]).To(Equal(1))
	})

	It("records what finished when the principal stops mid-wave, and resumes from there", func() {
		ctx, cancel := context.WithCancel(context.Background())
		f := newFleet()
		do := func(c context.Context, s string, w int) rollout.Outcome {
			o := f.do(c, s, w)
			if s == "VM03" {
				cancel() // the principal stops after VM03's work finished
			}
			return o
		}
		c := cfg(f, rollout.Policy{}, 6)
		c.Do = do
		res, err := rollout.Run(ctx, c)
		Expect(err).To(MatchError(rollout.ErrInterrupted))
		Expect(statuses(res)[rollout.Done]).To(Equal([]string{"VM01", "VM02", "VM03"}))
		res, err = rollout.Run(context.Background(), cfg(f, rollout.Policy{}, 6))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Skipped).To(Equal([]string{"VM01", "VM02", "VM03"}))
		Expect(res.Count(rollout.Done)).To(Equal(6))
		for s, n := range f.calls {
			Expect(n).To(Equal(1), s)
		}
	})

	It("fails a wave that misses its deadline, with the reason, and halts", func() {
		// The deadline is a context the test controls: no wall time.
		deadline, fire := context.WithCancelCause(context.Background())
		c := cfg(newFleet(), rollout.Policy{Waves: []rollout.Size{{N: 3}}, Deadline: time.Minute, Budget: rollout.Size{N: 10}}, 6)
		c.Workers = 3
		c.WithTimeout = func(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
			Expect(d).To(Equal(time.Minute))
			return deadline, func() {}
		}
		c.Do = func(ctx context.Context, s string, _ int) rollout.Outcome {
			if s == "VM02" { // hangs until the deadline
				fire(context.DeadlineExceeded)
				<-ctx.Done()
				return rollout.Outcome{Message: "CSM3052E", Reason: ctx.Err().Error()}
			}
			return rollout.Outcome{OK: true}
		}
		res, err := rollout.Run(context.Background(), c)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Halted).To(BeTrue())
		Expect(res.Reason).To(Equal("wave 1 did not finish within its deadline of 1m0s"))
		r := res.Records[1]
		Expect(r.Status).To(Equal(rollout.Failed))
		Expect(r.Message).To(Equal("CSM3074E"))
		Expect(statuses(res)[rollout.Untouched]).To(Equal([]string{"VM04", "VM05", "VM06"}))
	})

	It("forgets earlier runs with Restart", func() {
		f := newFleet()
		_, err := rollout.Run(context.Background(), cfg(f, rollout.Policy{}, 2))
		Expect(err).NotTo(HaveOccurred())
		c := cfg(f, rollout.Policy{}, 2)
		c.Restart = true
		res, err := rollout.Run(context.Background(), c)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Run).To(Equal(1))
		Expect(f.calls["VM01"]).To(Equal(2))
	})
})
