package prof

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/csmsim/csmsim/sim/harness"
)

func TestProf(t *testing.T) {
	sc, err := harness.Load(os.Getenv("SCEN"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/prof/cpu.out")
	pprof.StartCPUProfile(f)
	rep, err := harness.Run(context.Background(), sc, harness.Options{})
	pprof.StopCPUProfile()
	if err != nil {
		t.Fatal(err)
	}
	_ = rep
	runtime.GC()
	h, _ := os.Create("/tmp/prof/heap.out")
	pprof.Lookup("heap").WriteTo(h, 0)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("heapinuse=%d MiB totalalloc=%d MiB sys=%d MiB", ms.HeapInuse>>20, ms.TotalAlloc>>20, ms.Sys>>20)
}
