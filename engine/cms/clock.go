package cms

import (
	"sync"
	"time"
)

// Clock is the engine's only source of time, so a seed and a scenario
// reproduce a run exactly.
type Clock interface {
	Now() time.Time
}

// FixedClock always answers T.
type FixedClock struct{ T time.Time }

func (c FixedClock) Now() time.Time { return c.T }

// StepClock answers its start, then start+step, start+2*step, ...: a
// clock that advances by reading, never with wall time. It is safe for
// concurrent use.
type StepClock struct {
	mu   sync.Mutex
	next time.Time
	step time.Duration
}

// NewStepClock returns a StepClock starting at start.
func NewStepClock(start time.Time, step time.Duration) *StepClock {
	return &StepClock{next: start, step: step}
}

func (c *StepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.next
	c.next = c.next.Add(c.step)
	return t
}

// Advance moves the clock on by d, as a scenario's wait step does.
func (c *StepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = c.next.Add(d)
}

// Peek answers what the next Now will, without moving the clock: an
// observer (the fault plan) reads the time without changing the times
// the engine sees.
func (c *StepClock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next
}
