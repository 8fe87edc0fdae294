package flock_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/cmsfs"
	"github.com/csmsim/csmsim/sim/flock"
)

// A child's job is in childEnv: "add <n>" or "probe <resource>"; the
// directories are in dirEnv and lockDirEnv.
const (
	childEnv   = "CSMSIM_TABLE_CHILD"
	dirEnv     = "CSMSIM_TABLE_DIR"
	lockDirEnv = "CSMSIM_TABLE_LOCKDIR"
)

var tableDir = cms.MustParseDirID("VMPSFS:MAINTCSM.")

// child starts this test binary on job. -test.run=^$ keeps it from running
// the suite again should the job not be recognized.
func child(ctx context.Context, job, dir, lockDir string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+job, dirEnv+"="+dir, lockDirEnv+"="+lockDir)
	return cmd
}

func runChild(job string) error {
	verb, arg, _ := strings.Cut(job, " ")
	lk := flock.New(os.Getenv(lockDirEnv))
	switch verb {
	case "probe": // take the lock, say so, let it go
		unlock, err := lk.Lock(arg)
		if err != nil {
			return err
		}
		fmt.Println("locked")
		unlock()
		return nil
	case "add":
		return addSystem(lk, os.Getenv(dirEnv), "VM"+arg)
	}
	return fmt.Errorf("unknown child job %q", job)
}

// addSystem opens the disk-backed world in dir and adds one system to
// CSM SYSSTAT. cmsfs.New removes every temporary it finds, which may be
// another process's table write in progress, so the world is opened under
// the table's lock: writes happen only while it is held.
func addSystem(lk table.Locker, dir, system string) error {
	unlock, err := lk.Lock(table.Resource(tableDir.String(), table.SysStat().File))
	if err != nil {
		return err
	}
	w, err := cmsfs.New(afero.NewBasePathFs(afero.NewOsFs(), dir))
	unlock()
	if err != nil {
		return err
	}
	pool, err := w.FilePool(tableDir.Pool())
	if err != nil {
		return err
	}
	area, err := pool.Dir(tableDir)
	if err != nil {
		return err
	}
	if area.String() != tableDir.String() {
		return fmt.Errorf("area %q is not named %q: the lock above was the wrong one", area, tableDir)
	}
	_, err = table.SysStat().Apply(table.NewStore(area, lk), func(t *table.Table) error {
		return t.Add(table.NewEntry("SYSTEM", system, "PID", fmt.Sprint(os.Getpid())))
	})
	return err
}
