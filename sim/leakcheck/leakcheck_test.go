package leakcheck_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/leakcheck"
)

// parkedForever blocks until release closes: the leak the check must see.
func parkedForever(release <-chan struct{}, started chan<- struct{}) {
	close(started)
	<-release
}

var _ = Describe("the leak check", func() {
	It("counts the goroutines a work left behind, by the work's label, and names one", func() {
		release, started := make(chan struct{}), make(chan struct{})
		leakcheck.Do(context.Background(), "leaky", func(context.Context) {
			go parkedForever(release, started)
		})
		<-started
		n, first := leakcheck.Wait("leaky", 50*time.Millisecond)
		Expect(n).To(Equal(1))
		Expect(first).To(HaveSuffix("leakcheck_test.parkedForever"))
		Expect(leakcheck.Count("another-run")).To(Equal(0), "another work's goroutines are not this one's")
		close(release)
		Expect(leakcheck.Wait("leaky", 5*time.Second)).To(Equal(0))
	})

	It("counts the goroutines that the work's goroutines start, which inherit the label", func() {
		release, started := make(chan struct{}), make(chan struct{})
		leakcheck.Do(context.Background(), "nested", func(context.Context) {
			go func() { go parkedForever(release, started) }()
		})
		<-started
		n, first := leakcheck.Wait("nested", 50*time.Millisecond)
		Expect(n).To(Equal(1))
		Expect(first).To(HaveSuffix("leakcheck_test.parkedForever"))
		close(release)
		Expect(leakcheck.Wait("nested", 5*time.Second)).To(Equal(0))
	})
})
