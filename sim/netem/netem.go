// Package netem emulates a distant system's network link on real
// connections (loopback in the simulator): one-way latency per write and a
// bandwidth limit, so simulated managed systems are not unrealistically
// close and fast. A link waits in wall time, or, given Charge (scenarios),
// charges each delay to a virtual Clock and waits nothing.
package netem

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// Link shapes the traffic a connection writes. Each Write waits Latency
// once before its bytes go out, and writes are paced to Bandwidth bytes
// per second (0: unlimited) by a token bucket. Only writes are shaped:
// wrapping both ends of a link (or the node's side only) is the caller's
// choice. The zero Link passes traffic unchanged.
type Link struct {
	Latency   time.Duration
	Bandwidth int64 // bytes per second; 0 unlimited

	// Sleep waits; nil means time.Sleep. Injected so tests need not wait.
	Sleep func(time.Duration)
	// Now is the token bucket's clock; nil means time.Now.
	Now func() time.Time

	// Charge, if set, makes the link virtual (a simulation's in-memory
	// world): no delay is waited, each is handed to Charge instead (a
	// virtual clock, see Clock), and Sleep and Now are not used. Each
	// direction's token bucket then runs on the time charged for that
	// direction alone, so what a transfer costs depends on its bytes, its
	// writes and the link, never on wall time nor on the order in which
	// other connections' delays were charged. An idle connection earns no
	// burst credit meanwhile: only its own latency waits credit it.
	Charge func(time.Duration)
}

const (
	chunk    = 16 << 10 // pacing unit: large writes trickle out smoothly rather than in one burst
	minBurst = 64 << 10
)

// IsZero says the link shapes nothing.
func (l Link) IsZero() bool { return l.Latency <= 0 && l.Bandwidth <= 0 }

// Conn wraps c so that its writes are shaped; it is c itself for the zero
// Link. Each wrapped connection has its own token bucket.
func (l Link) Conn(c net.Conn) net.Conn {
	if l.IsZero() {
		return c
	}
	if l.Charge != nil {
		l.Sleep, l.Now = nil, nil
	} else {
		if l.Sleep == nil {
			l.Sleep = time.Sleep
		}
		if l.Now == nil {
			l.Now = time.Now
		}
	}
	burst := float64(max(minBurst, l.Bandwidth/10))
	return &conn{Conn: c, l: l, burst: burst}
}

// Listener wraps ln so that the connections it accepts are shaped; it is
// ln itself for the zero Link.
func (l Link) Listener(ln net.Listener) net.Listener {
	if l.IsZero() {
		return ln
	}
	return &listener{Listener: ln, l: l}
}

// String describes the link for logs, e.g. "latency 40ms, bandwidth 1.0 MB/s".
func (l Link) String() string {
	if l.IsZero() {
		return "unshaped"
	}
	s := ""
	if l.Latency > 0 {
		s = "latency " + l.Latency.String()
	}
	if l.Bandwidth > 0 {
		if s != "" {
			s += ", "
		}
		s += "bandwidth " + formatRate(l.Bandwidth)
	}
	return s
}

func formatRate(b int64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.1f GB/s", float64(b)/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.1f MB/s", float64(b)/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.1f KB/s", float64(b)/1e3)
	}
	return fmt.Sprintf("%d B/s", b)
}

type listener struct {
	net.Listener
	l Link
}

func (ln *listener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return ln.l.Conn(c), nil
}

// conn shapes Write (latency and bandwidth) and Read (bandwidth): the
// node's side of a link then limits both directions, so uploads to a node
// (STOR) are as slow as downloads. Close, deadlines and addresses pass
// through.
type conn struct {
	net.Conn
	l Link

	// mu serialises writes, so concurrent writers neither interleave their
	// bytes nor race on the bucket; reads never take it.
	mu    sync.Mutex
	out   bucket
	rmu   sync.Mutex
	in    bucket
	burst float64
}

// bucket is one direction's token bucket.
type bucket struct {
	tokens float64   // bytes that may go now; negative is debt being slept off
	last   time.Time // when tokens was last refilled; zero before first use
	// charged is a virtual link's time for this direction: the delays
	// charged so far (Link.Charge).
	charged time.Duration
}

// virtualEpoch is where a virtual bucket's time starts; any fixed time does.
var virtualEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// now is the bucket's clock: wall (or injected) time, or for a virtual
// link the time charged for its direction.
func (c *conn) now(b *bucket) time.Time {
	if c.l.Charge != nil {
		return virtualEpoch.Add(b.charged)
	}
	return c.l.Now()
}

// wait waits d, or charges it for a virtual link.
func (c *conn) wait(b *bucket, d time.Duration) {
	if c.l.Charge != nil {
		b.charged += d
		c.l.Charge(d)
		return
	}
	c.l.Sleep(d)
}

func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.l.Latency > 0 {
		c.wait(&c.out, c.l.Latency)
	}
	if c.l.Bandwidth <= 0 {
		return c.Conn.Write(p)
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), chunk)
		c.pace(&c.out, k)
		m, err := c.Conn.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// Read paces what arrives: holding back the next read lets TCP's window
// fill, so the sender slows to the link's bandwidth.
func (c *conn) Read(p []byte) (int, error) {
	if c.l.Bandwidth <= 0 {
		return c.Conn.Read(p)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	n, err := c.Conn.Read(p[:min(len(p), chunk)])
	if n > 0 {
		c.pace(&c.in, n)
	}
	return n, err
}

// pace takes n bytes from the bucket and sleeps off any debt. The bucket
// starts empty, so a connection's first bytes take n/Bandwidth as on a
// real link; the burst only caps the credit an idle connection saves up.
// The time slept (and any oversleep) is credited at the next refill, so
// the debt is never paid twice and pacing corrects itself. The latency
// wait is credited too, as the link is idle meanwhile: a stream of large
// writes then runs at about Bandwidth, not slower by a latency per write.
func (c *conn) pace(b *bucket, n int) {
	now := c.now(b)
	if !b.last.IsZero() {
		b.tokens = min(c.burst, b.tokens+now.Sub(b.last).Seconds()*float64(c.l.Bandwidth))
	}
	b.last = now
	b.tokens -= float64(n)
	if b.tokens < 0 {
		c.wait(b, time.Duration(-b.tokens/float64(c.l.Bandwidth)*float64(time.Second)))
	}
}
