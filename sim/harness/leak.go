package harness

import (
	"bufio"
	"bytes"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// runLabel is the pprof label every goroutine of a run carries (goroutines
// inherit their creator's labels), so that the leak check counts only its
// own run's goroutines when runs share a process, as a sweep's jobs do.
const runLabel = "csmsim-run"

// leakGrace is how long goroutines of a stopped world get to finish
// (closing connections end asynchronously) before they count as leaked.
const leakGrace = 5 * time.Second

// leaked counts the goroutines labelled run id still running after grace,
// and names the first one's function. The wait is wall time, and only a
// leak spends it: a clean run finds none at once.
func leaked(id string, grace time.Duration) (int, string) {
	deadline := time.Now().Add(grace)
	for {
		n, first := labelled(id)
		if n == 0 || time.Now().After(deadline) {
			return n, first
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// labelled reads the goroutine profile (debug=1: goroutines grouped by
// stack and labels, "N @ pcs", "# labels: {...}", then "#\tpc\tfunc+off\tfile:line")
// and counts those carrying runLabel id.
func labelled(id string) (int, string) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return 0, ""
	}
	want := strconv.Quote(runLabel) + ":" + strconv.Quote(id)
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
