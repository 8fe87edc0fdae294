package fleet

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
)

// Wire is what the managed-side operands need besides the principal: the
// transport, CSMWORK's credentials, how to wait between polls and who
// listens to the systems' phases. A nil Wire (or Transport) means no
// transport is configured.
type Wire struct {
	Transport transport.Transport
	Password  string // CSMWORK's; never logged
	CAFile    string // for systems added with REQUIRE
	// Workers is how many systems are served at once; 0 means 8. In
	// SRVLVL SEND it bounds the transfers: a system whose package has
	// arrived waits for its node's validate and load without holding a
	// worker, so the next system's transfer overlaps that job, and up to
	// Workers more systems may be waiting for their jobs meanwhile.
	Workers int
	// Serial keeps every system in its worker from the dial to the end of
	// its job: no transfer overlaps another system's job. The simulator
	// sets it (with Workers 1) so that the systems are served one at a
	// time and the links' time is charged in the same order on every run.
	Serial bool
	// Pause waits between STATUS polls of a running job; the caller
	// supplies the time source.
	Pause func(ctx context.Context) error
	// Deadline makes a roll-out wave's deadline; nil means
	// context.WithTimeout. The caller owns time.
	Deadline func(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
	// Observe, with Now, hears each system's phases start and end
	// (progress bars); both nil means nobody listens. Now also times the
	// phases of the outcome.
	Observe func(Phase)
	Now     func() time.Time
}

func (w *Wire) ready() bool { return w != nil && w.Transport != nil }

func (w *Wire) workers() int {
	if w.Workers <= 0 {
		return 8
	}
	return w.Workers
}

// target is a system's CSMSERVE from its SYSSTAT entry.
func (w *Wire) target(en table.Entry) transport.Target {
	port, _ := strconv.Atoi(get(en, tagPort))
	return transport.Target{System: en.Key(), Host: get(en, tagHost), Port: port, Require: get(en, tagSecure) == "REQUIRE",
		CAFile: w.CAFile, User: "CSMWORK", Password: w.Password}
}

// fanOut runs do for each system, at most n at once, and returns the
// outcomes in the systems' order. One system's failure does not stop the
// others.
func fanOut(systems []string, n int, do func(system string) SystemOutcome) []SystemOutcome {
	out := make([]SystemOutcome, len(systems))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, s := range systems {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = do(s)
		}()
	}
	wg.Wait()
	return out
}

func (w *Wire) pause(ctx context.Context) error {
	if w.Pause == nil {
		return ctx.Err()
	}
	return w.Pause(ctx)
}
