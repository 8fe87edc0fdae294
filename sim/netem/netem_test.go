package netem_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/netem"
)

// clock is a fake clock: Sleep records the delay asked for and moves the
// clock on by it, so pacing is checked without waiting.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newClock() *clock { return &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// idle moves the clock on without a sleep, as time passing between writes.
func (c *clock) idle(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// take returns the sleeps recorded so far and forgets them.
func (c *clock) take() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sleeps
	c.sleeps = nil
	return s
}

func total(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

// sink is a net.Conn that keeps what is written to it, write by write.
type sink struct {
	net.Conn // nil: only Write is used
	mu       sync.Mutex
	buf      bytes.Buffer
	writes   []int
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, len(p))
	return s.buf.Write(p)
}

// source is a net.Conn that only reads, from r.
type source struct {
	net.Conn // nil: only Read is used
	r        io.Reader
}

func (s *source) Read(p []byte) (int, error) { return s.r.Read(p) }

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), 1})
	_, _ = r.Read(b)
	return b
}

var _ = Describe("Link", func() {
	var clk *clock
	BeforeEach(func() { clk = newClock() })

	It("is zero without latency and bandwidth, and then hands back the same conn and listener", func() {
		l := netem.Link{Sleep: clk.Sleep, Now: clk.Now}
		Expect(l.IsZero()).To(BeTrue())
		Expect(l.String()).To(Equal("unshaped"))
		c := &sink{}
		Expect(l.Conn(c)).To(BeIdenticalTo(c))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer ln.Close()
		Expect(l.Listener(ln)).To(BeIdenticalTo(ln))
		Expect(netem.Link{Latency: time.Millisecond}.IsZero()).To(BeFalse())
		Expect(netem.Link{Bandwidth: 1}.IsZero()).To(BeFalse())
	})

	It("describes itself", func() {
		Expect(netem.Link{Latency: 40 * time.Millisecond, Bandwidth: 1_000_000}.String()).To(Equal("latency 40ms, bandwidth 1.0 MB/s"))
		Expect(netem.Link{Latency: 250 * time.Millisecond}.String()).To(Equal("latency 250ms"))
		Expect(netem.Link{Bandwidth: 512_000}.String()).To(Equal("bandwidth 512.0 KB/s"))
		Expect(netem.Link{Bandwidth: 1_250_000_000}.String()).To(Equal("bandwidth 1.2 GB/s"))
		Expect(netem.Link{Bandwidth: 300}.String()).To(Equal("bandwidth 300 B/s"))
	})

	It("waits the latency once per write, whatever its size, and passes the bytes unchanged", func() {
		s := &sink{}
		c := netem.Link{Latency: 40 * time.Millisecond, Sleep: clk.Sleep, Now: clk.Now}.Conn(s)
		Expect(c).NotTo(BeIdenticalTo(s))
		data := randomBytes(300_000, 1)
		for _, part := range [][]byte{data[:1], data[1:1000], data[1000:]} {
			n, err := c.Write(part)
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(Equal(len(part)))
		}
		Expect(clk.take()).To(Equal([]time.Duration{40 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond}))
		Expect(s.buf.Bytes()).To(Equal(data))
	})

	It("paces a 1 MB write at 100 KB/s to about 10 s, in chunks of at most 16 KiB", func() {
		s := &sink{}
		c := netem.Link{Bandwidth: 100_000, Sleep: clk.Sleep, Now: clk.Now}.Conn(s)
		data := randomBytes(1_000_000, 2)
		n, err := c.Write(data)
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(Equal(len(data)))
		sleeps := clk.take()
		Expect(total(sleeps)).To(BeNumerically("~", 10*time.Second, 200*time.Millisecond))
		Expect(len(sleeps)).To(BeNumerically(">=", 1_000_000/(16<<10)), "pacing is smooth, not one long sleep")
		Expect(s.buf.Bytes()).To(Equal(data))
		Expect(len(s.writes)).To(BeNumerically(">=", 62))
		for _, w := range s.writes {
			Expect(w).To(BeNumerically("<=", 16<<10))
		}
	})

	It("adds latency once to a paced write", func() {
		c := netem.Link{Latency: 30 * time.Millisecond, Bandwidth: 1_000_000, Sleep: clk.Sleep, Now: clk.Now}.Conn(&sink{})
		_, err := c.Write(make([]byte, 500_000))
		Expect(err).NotTo(HaveOccurred())
		sleeps := clk.take()
		Expect(sleeps[0]).To(Equal(30 * time.Millisecond))
		Expect(sleeps[1:]).NotTo(ContainElement(30 * time.Millisecond))
		Expect(total(sleeps)).To(BeNumerically("~", 530*time.Millisecond, 10*time.Millisecond))
	})

	It("lets an idle connection send a burst of 64 KiB at once, but no more", func() {
		c := netem.Link{Bandwidth: 100_000, Sleep: clk.Sleep, Now: clk.Now}.Conn(&sink{})
		_, err := c.Write(make([]byte, 1000)) // starts the bucket: 1000 bytes take 10ms
		Expect(err).NotTo(HaveOccurred())
		Expect(total(clk.take())).To(BeNumerically("~", 10*time.Millisecond, time.Millisecond))

		clk.idle(time.Minute) // far more than the burst's worth of credit
		_, err = c.Write(make([]byte, 64<<10))
		Expect(err).NotTo(HaveOccurred())
		Expect(total(clk.take())).To(BeNumerically("<", time.Millisecond))

		clk.idle(time.Minute)
		_, err = c.Write(make([]byte, 200_000+64<<10))
		Expect(err).NotTo(HaveOccurred())
		Expect(total(clk.take())).To(BeNumerically("~", 2*time.Second, 20*time.Millisecond))
	})

	It("uses a burst of a tenth of a second when that is more than 64 KiB", func() {
		c := netem.Link{Bandwidth: 10_000_000, Sleep: clk.Sleep, Now: clk.Now}.Conn(&sink{})
		_, err := c.Write(make([]byte, 1))
		Expect(err).NotTo(HaveOccurred())
		clk.take()
		clk.idle(time.Minute)
		_, err = c.Write(make([]byte, 1_000_000))
		Expect(err).NotTo(HaveOccurred())
		Expect(total(clk.take())).To(BeNumerically("<", time.Millisecond))
	})

	It("keeps a bucket per connection", func() {
		l := netem.Link{Bandwidth: 100_000, Sleep: clk.Sleep, Now: clk.Now}
		a, b := l.Conn(&sink{}), l.Conn(&sink{})
		_, err := a.Write(make([]byte, 500_000))
		Expect(err).NotTo(HaveOccurred())
		Expect(total(clk.take())).To(BeNumerically("~", 5*time.Second, 100*time.Millisecond))
		_, err = b.Write(make([]byte, 10_000))
		Expect(err).NotTo(HaveOccurred())
		Expect(total(clk.take())).To(BeNumerically("~", 100*time.Millisecond, 2*time.Millisecond), "b does not pay for a's bytes")
	})

	It("carries data byte-identical both ways over loopback TCP, reading while writing", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		l := netem.Link{Latency: 5 * time.Millisecond, Bandwidth: 2_000_000, Sleep: clk.Sleep, Now: clk.Now}
		sl := l.Listener(ln)
		defer sl.Close()
		Expect(sl.Addr()).To(Equal(ln.Addr()))

		down, up := randomBytes(1_500_000, 3), randomBytes(700_000, 4)
		var wg sync.WaitGroup
		var gotUp []byte
		var serverErr, upErr error
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			sc, err := sl.Accept()
			if err != nil {
				serverErr = err
				return
			}
			defer sc.Close()
			Expect(sc).NotTo(BeAssignableToTypeOf(&net.TCPConn{}))
			read := make(chan struct{})
			go func() { // Read runs while Write is paced
				defer close(read)
				gotUp, upErr = io.ReadAll(io.LimitReader(sc, int64(len(up))))
			}()
			for off := 0; off < len(down); off += 100_000 {
				if _, err := sc.Write(down[off:min(off+100_000, len(down))]); err != nil {
					serverErr = err
					return
				}
			}
			<-read
		}()

		cc, err := net.Dial("tcp", ln.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer cc.Close()
		wrote := make(chan error, 1)
		go func() { _, err := cc.Write(up); wrote <- err }()
		gotDown, err := io.ReadAll(io.LimitReader(cc, int64(len(down))))
		Expect(err).NotTo(HaveOccurred())
		Expect(<-wrote).To(Succeed())
		wg.Wait()
		Expect(serverErr).NotTo(HaveOccurred())
		Expect(upErr).NotTo(HaveOccurred())
		Expect(bytes.Equal(gotDown, down)).To(BeTrue(), "server to client bytes differ")
		Expect(bytes.Equal(gotUp, up)).To(BeTrue(), "client to server bytes differ")

		sleeps := clk.take()
		Expect(sleeps).To(HaveEach(BeNumerically(">", 0)))
		latencies := 0
		for _, d := range sleeps {
			if d == 5*time.Millisecond {
				latencies++
			}
		}
		Expect(latencies).To(Equal(15), "one latency per server write; reads wait no latency")
		// 1.5 MB down at 2 MB/s is 750ms; the link is idle while a write
		// waits its latency, so only the first write's latency adds to that.
		// The 0.7 MB the server reads are paced too, in their own bucket, up
		// to 350ms more. Reader and writer share the fake clock, so each may
		// earn credit while the other sleeps, at most one burst (200 KB,
		// 100ms) each: the sleeps add up to at least 750ms - 100ms.
		Expect(total(sleeps)).To(BeNumerically(">=", 650*time.Millisecond))
		Expect(total(sleeps)).To(BeNumerically("<=", 1110*time.Millisecond))
	})

	It("paces what it reads to the bandwidth, so a sender to a slow node slows down", func() {
		l := netem.Link{Bandwidth: 100_000, Sleep: clk.Sleep, Now: clk.Now}
		data := randomBytes(1_000_000, 5)
		c := l.Conn(&source{r: bytes.NewReader(data)})
		got, err := io.ReadAll(c)
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(got, data)).To(BeTrue())
		// The bucket starts empty: 1 MB at 100 KB/s is 10 s of waiting.
		Expect(total(clk.take())).To(BeNumerically("~", 10*time.Second, 200*time.Millisecond))
	})
})

var _ = DescribeTable("ParseBandwidth",
	func(in string, want int64) {
		got, err := netem.ParseBandwidth(in)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(want))
	},
	Entry(nil, "0", int64(0)),
	Entry(nil, " 0 ", int64(0)),
	Entry(nil, "512KB/s", int64(512_000)),
	Entry(nil, "10MB/s", int64(10_000_000)),
	Entry(nil, "1.5MB/s", int64(1_500_000)),
	Entry(nil, "2GB/s", int64(2_000_000_000)),
	Entry(nil, "64KiB/s", int64(65_536)),
	Entry(nil, "1.5MiB/s", int64(1_572_864)),
	Entry(nil, "1GiB/s", int64(1<<30)),
	Entry(nil, "100kbit/s", int64(12_500)),
	Entry(nil, "8mbit/s", int64(1_000_000)),
	Entry(nil, "1gbit/s", int64(125_000_000)),
	Entry(nil, "800B/s", int64(800)),
	Entry(nil, "10 mb/S", int64(10_000_000)),
	Entry(nil, "100KBIT/s", int64(12_500)),
	Entry(nil, "0MB/s", int64(0)),
)

var _ = DescribeTable("ParseBandwidth errors",
	func(in, why string) {
		_, err := netem.ParseBandwidth(in)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(why))
		Expect(err.Error()).To(ContainSubstring(`e.g. "10MB/s"`))
	},
	Entry(nil, "", "empty"),
	Entry(nil, "10MB", `no "/s"`),
	Entry(nil, "10", `no "/s"`),
	Entry(nil, "10/s", "no unit"),
	Entry(nil, "MB/s", "no number"),
	Entry(nil, "1.2.3MB/s", `bad number "1.2.3"`),
	Entry(nil, "10XB/s", `unknown unit "xb"`),
	Entry(nil, "1e6B/s", `unknown unit "e6b"`),
	Entry(nil, "-5MB/s", "negative"),
	Entry(nil, "1bit/s", "less than 1 byte per second"),
	Entry(nil, "99999999999GB/s", "too large"),
)
