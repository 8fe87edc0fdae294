package prof

import (
	"context"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/csmsim/csmsim/sim/harness"
)

func TestPhases(t *testing.T) {
	sc, err := harness.Load(os.Getenv("SCEN"))
	if err != nil {
		t.Fatal(err)
	}
	opts := harness.Options{Workdir: os.Getenv("WORKDIR")}
	t0 := time.Now()
	rep, err := harness.Run(context.Background(), sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	sum := map[string]time.Duration{}
	for _, s := range rep.Timeline {
		sum[s.Phase] += s.End - s.Start
	}
	t.Logf("wall %v phases %v", time.Since(t0), sum)
}

func TestCPU(t *testing.T) {
	sc, err := harness.Load(os.Getenv("SCEN"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/prof/cpu2.out")
	pprof.StartCPUProfile(f)
	_, err = harness.Run(context.Background(), sc, harness.Options{Workdir: os.Getenv("WORKDIR")})
	pprof.StopCPUProfile()
	if err != nil {
		t.Fatal(err)
	}
}
