package cms_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
)

var t0 = time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)

var _ = Describe("clocks", func() {
	It("FixedClock always answers its time", func() {
		c := cms.FixedClock{T: t0}
		Expect(c.Now()).To(Equal(t0))
		Expect(c.Now()).To(Equal(t0))
	})

	It("StepClock answers start, then one step more each time", func() {
		c := cms.NewStepClock(t0, 2*time.Second)
		Expect(c.Now()).To(Equal(t0))
		Expect(c.Now()).To(Equal(t0.Add(2 * time.Second)))
		Expect(c.Now()).To(Equal(t0.Add(4 * time.Second)))
	})

	It("StepClock's Peek shows the next time without taking it", func() {
		c := cms.NewStepClock(t0, time.Second)
		Expect(c.Peek()).To(Equal(t0))
		Expect(c.Peek()).To(Equal(t0))
		Expect(c.Now()).To(Equal(t0))
		Expect(c.Peek()).To(Equal(t0.Add(time.Second)))
	})

	It("StepClock hands out distinct times to concurrent callers", func() {
		c := cms.NewStepClock(t0, time.Second)
		var mu sync.Mutex
		seen := map[time.Time]bool{}
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := c.Now()
				mu.Lock()
				seen[t] = true
				mu.Unlock()
			}()
		}
		wg.Wait()
		Expect(seen).To(HaveLen(50))
	})
})

var _ = Describe("StepClock.Advance", func() {
	It("moves the next reading on by the duration, and nothing else", func() {
		c := cms.NewStepClock(t0, time.Second)
		Expect(c.Now()).To(Equal(t0))
		c.Advance(10 * time.Minute)
		Expect(c.Now()).To(Equal(t0.Add(time.Second + 10*time.Minute)))
		Expect(c.Now()).To(Equal(t0.Add(2*time.Second + 10*time.Minute)))
	})
})
