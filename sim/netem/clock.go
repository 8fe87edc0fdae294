package netem

import (
	"context"
	"sync"
	"time"
)

// Clock is virtual time for virtual links (Link.Charge): nothing waits;
// each delay a link charges moves the clock on, and a context made with
// WithTimeout ends when the clock passes its deadline. What the clock
// shows is then the sum of the delays charged, in whatever order they
// were charged: with one system served at a time, a roll-out's delays
// add up the same on every run and on any machine. The zero Clock is
// ready at zero. It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	elapsed time.Duration
	timers  map[*timer]struct{}
}

type timer struct {
	at     time.Duration
	cancel context.CancelCauseFunc
}

// Charge moves the clock on by d, ending the contexts whose deadline it
// reaches. It is a Link's Charge.
func (c *Clock) Charge(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.elapsed += d
	var due []*timer
	for t := range c.timers {
		if t.at <= c.elapsed {
			due = append(due, t)
			delete(c.timers, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.cancel(context.DeadlineExceeded)
	}
}

// Elapsed is the time charged so far.
func (c *Clock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.elapsed
}

// WithTimeout is context.WithTimeout on the clock: the context ends, with
// Err context.DeadlineExceeded, once d more has been charged. Wall time
// does not end it, and it reports no wall-time Deadline.
func (c *Clock) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	t := &timer{cancel: cancel}
	c.mu.Lock()
	t.at = c.elapsed + d
	due := t.at <= c.elapsed
	if !due {
		if c.timers == nil {
			c.timers = map[*timer]struct{}{}
		}
		c.timers[t] = struct{}{}
	}
	c.mu.Unlock()
	if due {
		cancel(context.DeadlineExceeded)
	}
	stop := func() {
		c.mu.Lock()
		delete(c.timers, t)
		c.mu.Unlock()
		cancel(context.Canceled)
	}
	return &deadlineCtx{ctx}, stop
}

// deadlineCtx answers context.DeadlineExceeded once its virtual deadline
// passed, as a context of context.WithTimeout does.
type deadlineCtx struct{ context.Context }

func (c *deadlineCtx) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return err
}
