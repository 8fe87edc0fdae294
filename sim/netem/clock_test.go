package netem_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/netem"
)

// noSleep fails the spec: a virtual link must never wait.
func noSleep(d time.Duration) { Fail("a virtual link slept " + d.String()) }

// chunky reads r at most n bytes at a time, as TCP hands a reader
// whatever has arrived.
type chunky struct {
	r io.Reader
	n int
}

func (c *chunky) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

var _ = Describe("a virtual link (Link.Charge)", func() {
	It("waits nothing: it charges the latency once per write to the clock", func() {
		var vc netem.Clock
		s := &sink{}
		c := netem.Link{Latency: 80 * time.Millisecond, Sleep: noSleep, Charge: vc.Charge}.Conn(s)
		data := randomBytes(100_000, 7)
		for _, part := range [][]byte{data[:10], data[10:5000], data[5000:]} {
			_, err := c.Write(part)
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(vc.Elapsed()).To(Equal(240 * time.Millisecond))
		Expect(s.buf.Bytes()).To(Equal(data))
	})

	It("charges bytes/bandwidth for what it reads, however the bytes arrive", func() {
		data := randomBytes(1_000_000, 8)
		want := time.Duration(float64(len(data)) / (10 << 20) * float64(time.Second))
		for _, n := range []int{13, 997, 7777, 16 << 10, 1 << 20} {
			var vc netem.Clock
			c := netem.Link{Bandwidth: 10 << 20, Sleep: noSleep, Charge: vc.Charge}.Conn(&source{r: &chunky{r: bytes.NewReader(data), n: n}})
			got, err := io.ReadAll(c)
			Expect(err).NotTo(HaveOccurred())
			Expect(bytes.Equal(got, data)).To(BeTrue())
			Expect(vc.Elapsed()).To(BeNumerically("~", want, time.Microsecond), "chunks of %d", n)
		}
	})

	It("charges an 80 ms, 10 MiB/s write of 1 MiB its latency plus its bytes/bandwidth", func() {
		var vc netem.Clock
		c := netem.Link{Latency: 80 * time.Millisecond, Bandwidth: 10 << 20, Sleep: noSleep, Charge: vc.Charge}.Conn(&sink{})
		_, err := c.Write(make([]byte, 1<<20))
		Expect(err).NotTo(HaveOccurred())
		Expect(vc.Elapsed()).To(BeNumerically("~", 80*time.Millisecond+100*time.Millisecond, time.Microsecond))
	})

	It("charges a connection the same whatever other connections charge meanwhile", func() {
		var vc netem.Clock
		l := netem.Link{Latency: 10 * time.Millisecond, Bandwidth: 100_000, Sleep: noSleep, Charge: vc.Charge}
		a, b := l.Conn(&sink{}), l.Conn(&sink{})
		var wg sync.WaitGroup
		for _, c := range []io.Writer{a, b} {
			wg.Go(func() {
				for range 50 {
					_, _ = c.Write(make([]byte, 2000))
				}
			})
		}
		wg.Wait()
		// Each: 50 latencies, and 100 KB at 100 KB/s less the latency waits
		// the bucket is credited with (the first write's aside).
		one := 50*10*time.Millisecond + time.Second - 49*10*time.Millisecond
		Expect(vc.Elapsed()).To(BeNumerically("~", 2*one, time.Microsecond))
	})
})

var _ = Describe("Clock", func() {
	It("adds up what is charged", func() {
		var vc netem.Clock
		Expect(vc.Elapsed()).To(BeZero())
		vc.Charge(30 * time.Millisecond)
		vc.Charge(-time.Second) // nothing
		vc.Charge(2 * time.Second)
		Expect(vc.Elapsed()).To(Equal(2030 * time.Millisecond))
	})

	It("ends a WithTimeout context once its time is charged, not with wall time", func() {
		var vc netem.Clock
		vc.Charge(time.Hour)
		ctx, cancel := vc.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, hasDeadline := ctx.Deadline()
		Expect(hasDeadline).To(BeFalse(), "no wall-time deadline for the transport to set on a socket")
		vc.Charge(999 * time.Millisecond)
		Consistently(ctx.Done(), 50*time.Millisecond).ShouldNot(BeClosed())
		Expect(ctx.Err()).NotTo(HaveOccurred())
		vc.Charge(time.Millisecond)
		Expect(ctx.Done()).To(BeClosed())
		Expect(ctx.Err()).To(MatchError(context.DeadlineExceeded))
	})

	It("ends a context whose time is up already, and a cancelled one is Canceled and forgotten", func() {
		var vc netem.Clock
		ctx, cancel := vc.WithTimeout(context.Background(), 0)
		Expect(ctx.Err()).To(MatchError(context.DeadlineExceeded))
		cancel()
		ctx, cancel = vc.WithTimeout(context.Background(), time.Second)
		cancel()
		Expect(ctx.Err()).To(MatchError(context.Canceled))
		vc.Charge(time.Minute)
		Expect(ctx.Err()).To(MatchError(context.Canceled))
	})

	It("passes on its parent's end", func() {
		var vc netem.Clock
		parent, stop := context.WithCancel(context.Background())
		ctx, cancel := vc.WithTimeout(parent, time.Second)
		defer cancel()
		stop()
		Expect(ctx.Err()).To(MatchError(context.Canceled))
	})
})
