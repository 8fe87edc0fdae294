package world

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
)

// ErrKilled is what the writes of a crashed node's running job get: the
// process is gone, its files stay as they were.
var ErrKilled = errors.New("the node was killed")

// ErrIO is a write that a failing disk refuses.
var ErrIO = errors.New("I/O error on the disk")

// Disk classes a fault may fill: a node's staging disk, its test build
// (0490 and the service directories) or its production (0190 and the
// production sides).
const (
	DiskStaging = "staging"
	DiskTest    = "test"
	DiskProd    = "prod"
)

// Faults are the faults in force on a node, across its restarts: disks
// full, writes to fail, a stall of its agent, a skew of its clock. The
// simulator sets and heals them; the node's guarded system, clock and
// staging area obey them.
type Faults struct {
	// Hook, if set before the node serves, hears each phase a job enters,
	// in the job, before a stall holds it: the simulator fires faults there.
	Hook func(phase proto.Phase)

	mu       sync.Mutex
	full     map[string]bool // disk classes
	failNext int             // writes to fail with ErrIO
	failSkip int             // writes to let through before the next failure
	stalled  chan struct{}   // closed when the stall is healed; nil: none
	began    chan struct{}   // closed when a stall begins; nil: nobody waits for one
	skew     time.Duration
}

// Full fills (or, on heal, frees) a disk class.
func (f *Faults) Full(disk string, full bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full == nil {
		f.full = map[string]bool{}
	}
	f.full[disk] = full
}

// FailWriteAfter lets n of the node's writes through and makes the one
// after them fail with ErrIO: an I/O error in the middle of a job's
// writes, not only at its first.
func (f *Faults) FailWriteAfter(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext++
	f.failSkip = n
}

// Stall makes the node's agent stop at the next phase a job enters, until
// the stall is healed.
func (f *Faults) Stall(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case on && f.stalled == nil:
		f.stalled = make(chan struct{})
		if f.began != nil {
			close(f.began)
			f.began = nil
		}
	case !on && f.stalled != nil:
		close(f.stalled)
		f.stalled = nil
	}
}

// Skew sets how far the node's clock is off.
func (f *Faults) Skew(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.skew = d
}

// diskOf classifies what a write goes to.
func diskOf(target string) string {
	switch {
	case strings.HasPrefix(target, agent.StagingOwner+" "):
		return DiskStaging
	case strings.Contains(target, " "+agent.ProdDisk), strings.Contains(target, ".PRODA"), strings.Contains(target, ".PRODB"):
		return DiskProd
	case strings.Contains(target, " "+agent.TestBuildDisk), strings.HasPrefix(target, agent.Pool+":"):
		return DiskTest
	}
	return ""
}

// check is the node's guard: a write goes through unless the incarnation
// was killed, its disk is full, or a failure is due.
func (f *Faults) check(killed *bool, mu *sync.Mutex) func(cms.Write, string) error {
	return func(op cms.Write, target string) error {
		mu.Lock()
		dead := *killed
		mu.Unlock()
		if dead {
			return ErrKilled
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failNext > 0 && op != cms.WriteErase {
			if f.failSkip == 0 {
				f.failNext--
				return fmt.Errorf("%s: %w", target, ErrIO)
			}
			f.failSkip--
		}
		if op != cms.WriteErase && f.full[diskOf(target)] {
			return &cms.Error{Object: target, Err: cms.ErrDiskFull, Detail: "the disk is full (a fault of the simulation)"}
		}
		return nil
	}
}

// watch stalls a job at the phase it enters while a stall is in force.
func (f *Faults) watch(phase proto.Phase) {
	if f.Hook != nil {
		f.Hook(phase)
	}
	f.mu.Lock()
	ch := f.stalled
	f.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

// awaitChange wraps a node's CSMSERVE AwaitChange: while a stall is in
// force a long poll answers at once, and one under way answers when a
// stall begins. A stalled job does not move on; the simulation's clock
// does, one step per poll (the principal's Pause), until the stall heals.
func (f *Faults) awaitChange(wait func(changed, stop <-chan struct{})) func(changed, stop <-chan struct{}) {
	return func(changed, stop <-chan struct{}) {
		f.mu.Lock()
		if f.stalled != nil {
			f.mu.Unlock()
			return
		}
		if f.began == nil {
			f.began = make(chan struct{})
		}
		began := f.began
		f.mu.Unlock()
		wake, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(wake)
			select {
			case <-changed:
			case <-began:
			case <-done:
			}
		}()
		wait(wake, stop)
		close(done)
	}
}

// skewed is a clock off by the faults' skew.
type skewed struct {
	cms.Clock
	f *Faults
}

func (c skewed) Now() time.Time {
	c.f.mu.Lock()
	d := c.f.skew
	c.f.mu.Unlock()
	return c.Clock.Now().Add(d)
}

// stagingFs is the staging area with a full disk's refusals.
type stagingFs struct {
	afero.Fs
	f      *Faults
	killed func() bool
}

func (s stagingFs) refuse(flag int) error {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) == 0 {
		return nil
	}
	if s.killed() {
		return ErrKilled
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if s.f.full[DiskStaging] {
		return &cms.Error{Object: agent.StagingOwner + " " + agent.StagingVaddr, Err: cms.ErrDiskFull,
			Detail: "the disk is full (a fault of the simulation)"}
	}
	return nil
}

func (s stagingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if err := s.refuse(flag); err != nil {
		return nil, err
	}
	return s.Fs.OpenFile(name, flag, perm)
}

func (s stagingFs) Create(name string) (afero.File, error) {
	return s.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// FreeBlocks is the staging disk's free space, as CSMSERVE reports it:
// none while a fault fills it.
func (s stagingFs) FreeBlocks() int64 {
	s.f.mu.Lock()
	full := s.f.full[DiskStaging]
	s.f.mu.Unlock()
	if full {
		return 0
	}
	if fb, ok := s.Fs.(interface{ FreeBlocks() int64 }); ok {
		return fb.FreeBlocks()
	}
	return -1
}
