package harness

import (
	"context"
	"runtime/pprof"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// parkedForever blocks until release closes: the leak the check must see.
func parkedForever(release <-chan struct{}, started chan<- struct{}) {
	close(started)
	<-release
}

var _ = ginkgo.Describe("the leak check", func() {
	ginkgo.It("counts the goroutines a run left behind, by the run's label, and names one", func() {
		release, started := make(chan struct{}), make(chan struct{})
		pprof.Do(context.Background(), pprof.Labels(runLabel, "leaky"), func(context.Context) {
			go parkedForever(release, started)
		})
		<-started
		n, first := leaked("leaky", 50*time.Millisecond)
		Expect(n).To(Equal(1))
		Expect(first).To(HaveSuffix("harness.parkedForever"))
		Expect(leaked("another-run", 0)).To(Equal(0), "another run's goroutines are not this one's")
		close(release)
		Expect(leaked("leaky", 5*time.Second)).To(Equal(0))
	})
})
