package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/spf13/afero"
	"golang.org/x/sync/errgroup"
)

// BenchmarkSwarmSweep measures seeds per second of the 6-system swarm
// roll-out (scenarios/swarm-rollout.yaml), GOMAXPROCS seeds at a time:
// csmsim sweep, in one process, beside its peer in the same run, one
// csmsim run process per seed as xargs -P would start them. Each reports
// seeds/s and the minutes 1,000 seeds would take (the goal: 5).
func BenchmarkSwarmSweep(b *testing.B) {
	file, err := filepath.Abs("../../scenarios/swarm-rollout.yaml")
	if err != nil {
		b.Fatal(err)
	}
	jobs := runtime.GOMAXPROCS(0)
	report := func(b *testing.B, seeds int, took time.Duration) {
		rate := float64(seeds) / took.Seconds()
		b.ReportMetric(rate, "seeds/s")
		b.ReportMetric(1000/rate/60, "min/1000seeds")
	}

	b.Run("sweep", func(b *testing.B) {
		sw := sweep{fs: afero.NewOsFs(), swarm: true, first: 1, last: uint64(b.N)}
		start := time.Now()
		rep, _, err := sw.run(context.Background(), []string{file}, jobs)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Failed > 0 {
			b.Fatalf("%d seeds failed", rep.Failed)
		}
		report(b, b.N, time.Since(start))
	})

	b.Run("processes", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "csmsim")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
		b.ResetTimer()
		start := time.Now()
		var g errgroup.Group
		g.SetLimit(jobs)
		for seed := 1; seed <= b.N; seed++ {
			g.Go(func() error {
				out, err := exec.Command(bin, "run", file, "--seed", fmt.Sprint(seed), "--swarm", "--quiet").CombinedOutput()
				if err != nil {
					return fmt.Errorf("seed %d: %v\n%s", seed, err, out)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		report(b, b.N, time.Since(start))
	})
}
