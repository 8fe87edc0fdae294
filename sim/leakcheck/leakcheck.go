// Package leakcheck finds the goroutines a piece of work left running.
// The work runs under a pprof label (Do); goroutines inherit their
// creator's labels, so every goroutine it starts, and every goroutine
// those start, carries the label, and the goroutine profile counts those
// still running (Wait). Works of one process are told apart by their id,
// as a sweep's jobs or several simulated fleets in one test binary are.
package leakcheck

import (
	"bufio"
	"bytes"
	"context"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// Label is the pprof label key every goroutine of a work carries, its
// value the work's id.
const Label = "csmsim-run"

// Do runs f with the labels of ctx and Label id: the goroutines f starts
// are the work's.
func Do(ctx context.Context, id string, f func(context.Context)) {
	pprof.Do(ctx, pprof.Labels(Label, id), f)
}

// Wait counts the goroutines of work id still running after grace, and
// names the first one's function. The wait is wall time, and only a leak
// spends it: a work that left nothing behind is found clean at once.
func Wait(id string, grace time.Duration) (int, string) {
	deadline := time.Now().Add(grace)
	for {
		n, first := Count(id)
		if n == 0 || time.Now().After(deadline) {
			return n, first
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Count reads the goroutine profile (debug=1: goroutines grouped by
// stack and labels, "N @ pcs", "# labels: {...}", then "#\tpc\tfunc+off\tfile:line")
// and counts those carrying Label id, naming the first one's function.
func Count(id string) (int, string) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return 0, ""
	}
	want := strconv.Quote(Label) + ":" + strconv.Quote(id)
	total, first := 0, ""
	for block := range strings.SplitSeq(buf.String(), "\n\n") {
		sc := bufio.NewScanner(strings.NewReader(block))
		count, ours, fn := 0, false, ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case count == 0 && strings.Contains(line, " @ "):
				count, _ = strconv.Atoi(strings.Fields(line)[0])
			case strings.HasPrefix(line, "# labels: "):
				ours = strings.Contains(line, want)
			case fn == "" && strings.HasPrefix(line, "#\t"):
				if f := strings.Fields(line); len(f) >= 3 && !strings.HasPrefix(f[2], "runtime.") {
					fn, _, _ = strings.Cut(f[2], "+0x")
				}
			}
		}
		if ours {
			total += count
			if first == "" {
				first = fn
			}
		}
	}
	return total, first
}
