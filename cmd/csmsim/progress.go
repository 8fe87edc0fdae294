package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/csmsim/csmsim/engine/fleet"
)

// progress shows each system's phases while a scenario runs SEND and
// PUT2PROD: one mpb bar per system on a terminal, plain lines otherwise
// (CI logs must not fill with cursor movements). It is also the writer of
// the harness's step lines, so on a terminal they do not tear the bars.
type progress struct {
	out io.Writer
	tty bool

	mu      sync.Mutex
	step    int
	bars    *mpb.Progress
	systems map[string]*systemProgress
	order   []string
}

type systemProgress struct {
	bar *mpb.Bar
	// phase is read by mpb's render goroutine, which must not wait for
	// mu: observe holds mu while it calls into mpb.
	phase  atomic.Value // string
	done   []string     // "transfer 0.012s"
	failed bool
}

func newProgress(out io.Writer, tty bool) *progress {
	return &progress{out: out, tty: tty, systems: map[string]*systemProgress{}}
}

// isTerminal says whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) observe(step int, ph fleet.Phase) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if step != p.step {
		p.endStep()
		p.step = step
	}
	sp := p.systems[ph.System]
	if sp == nil {
		sp = &systemProgress{}
		p.systems[ph.System] = sp
		p.order = append(p.order, ph.System)
		if p.tty {
			if p.bars == nil {
				p.bars = mpb.New(mpb.WithOutput(p.out), mpb.WithWidth(40), mpb.WithRefreshRate(100*time.Millisecond))
			}
			sp.phase.Store(string(ph.Name))
			sp.bar = p.bars.AddBar(int64(ph.Of),
				mpb.PrependDecorators(decor.Name(ph.System, decor.WC{C: decor.DindentRight | decor.DextraSpace}),
					decor.Any(func(decor.Statistics) string { return sp.phase.Load().(string) }, decor.WC{W: 16, C: decor.DindentRight})),
				mpb.AppendDecorators(decor.OnComplete(decor.Elapsed(decor.ET_STYLE_GO), "done")))
		}
	}
	if ph.End.IsZero() {
		sp.phase.Store(string(ph.Name))
		return
	}
	sp.done = append(sp.done, fmt.Sprintf("%s %.3fs", ph.Name, ph.End.Sub(ph.Begin).Seconds()))
	last := !ph.OK || ph.Last()
	if !ph.OK {
		sp.failed = true
		sp.phase.Store(string(ph.Name) + " FAILED")
	}
	if sp.bar != nil {
		if ph.OK {
			sp.bar.Increment()
		} else {
			sp.bar.Abort(false)
		}
	}
	if last && !p.tty {
		verdict := "ok"
		if sp.failed {
			verdict = "FAILED"
			if ph.Detail != "" {
				verdict += ": " + ph.Detail
			}
		}
		fmt.Fprintf(p.out, "step %d %s: %s %s\n", step, ph.System, strings.Join(sp.done, ", "), verdict)
	}
}

// endStep completes the step's bars and waits for their last render.
func (p *progress) endStep() {
	if p.bars != nil {
		for _, s := range p.order {
			if b := p.systems[s].bar; b != nil && !b.Completed() && !b.Aborted() {
				b.Abort(false)
			}
		}
		p.bars.Wait()
		p.bars = nil
	}
	p.systems, p.order = map[string]*systemProgress{}, nil
}

// Write takes the harness's step lines: the step's bars end first.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endStep()
	return p.out.Write(b)
}
