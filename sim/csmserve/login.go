package csmserve

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// logins counts failed logins per client address, against password
// guessing: each failure is answered later than the one before, and too
// many within a window lock the address out for a while.
type logins struct {
	cfg *Config // the delays, limits and clock

	mu  sync.Mutex
	ips map[string]*failures
}

// failures are an address's failed logins since first; until is the end
// of its lockout, zero when it is not locked out.
type failures struct {
	n            int
	first, until time.Time
}

func newLogins(cfg *Config) *logins { return &logins{cfg: cfg, ips: map[string]*failures{}} }

// lockedOut says why ip may not log in now, "" if it may.
func (l *logins) lockedOut(ip string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.ips[ip]
	now := l.cfg.Now()
	if f == nil || !now.Before(f.until) {
		return ""
	}
	return fmt.Sprintf("too many failed logins from %s; try again in %s", ip, f.until.Sub(now).Round(time.Second))
}

// failed records a failed login from ip: the delay before it is answered,
// how many failures ip has now, and whether that locked it out.
func (l *logins) failed(ip string) (delay time.Duration, n int, locked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	l.forget(now)
	f := l.ips[ip]
	if f == nil {
		f = &failures{first: now}
		l.ips[ip] = f
	}
	f.n++
	delay = l.cfg.LoginDelay
	for i := 1; i < f.n && delay < l.cfg.LoginDelayMax; i++ {
		delay *= 2
	}
	delay = min(delay, l.cfg.LoginDelayMax)
	if f.n >= l.cfg.MaxLoginFailures {
		f.until = now.Add(l.cfg.LoginLockout)
		locked = true
	}
	return delay, f.n, locked
}

// succeeded forgets ip's failures.
func (l *logins) succeeded(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.ips, ip)
}

// forget drops the failures that no longer count: older than the window
// and not locked out, or whose lockout has ended. l.mu must be held.
func (l *logins) forget(now time.Time) {
	for ip, f := range l.ips {
		if f.until.IsZero() && now.Sub(f.first) > l.cfg.LoginFailureWindow || !f.until.IsZero() && !now.Before(f.until) {
			delete(l.ips, ip)
		}
	}
}

// hostOf is the IP address of a connection's peer.
func hostOf(a net.Addr) string {
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}
