package cmsfs_test

import (
	"fmt"
	"testing"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/cmsfs"
)

// BenchmarkTableUpdate measures CSM table updates (read, change, keep the
// previous generation, write, each write synced with its directory) on a
// minidisk in memory and on disk: the price of durability is the on-disk
// figure, the peer in the same run is the in-memory one.
func BenchmarkTableUpdate(b *testing.B) {
	for _, c := range []struct {
		name string
		fs   func() afero.Fs
	}{
		{"memory", afero.NewMemMapFs},
		{"disk", func() afero.Fs { return afero.NewBasePathFs(afero.NewOsFs(), b.TempDir()) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			w, err := cmsfs.New(c.fs())
			if err != nil {
				b.Fatal(err)
			}
			disk, err := w.DefineMinidisk(cmsfs.MinidiskDef{Owner: "MAINTCSM", Vaddr: "0191", DevType: "3390", Cylinders: 100})
			if err != nil {
				b.Fatal(err)
			}
			st := table.NewStore(disk, table.NewMemLocker())
			if err := table.SysStat().Create(st); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if _, err := table.SysStat().Apply(st, func(t *table.Table) error {
					name := fmt.Sprintf("VM%02d", i%54)
					if _, ok := t.Get(name); ok {
						return t.Set(name, map[string]string{"STATUS": fmt.Sprint(i)})
					}
					return t.Add(table.NewEntry("SYSTEM", name, "STATUS", fmt.Sprint(i)))
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "updates/s")
		})
	}
}
