package cmstest

import (
	"errors"
	"sync/atomic"

	"github.com/csmsim/csmsim/engine/cms"
)

// ErrKilled is what a killed system's writes get.
var ErrKilled = errors.New("the process was killed")

// Killer stops a system's writes after a number of them, as a process
// killed there leaves its files: every write (cms.Guard's) after the first
// After fails with ErrKilled. Engine specs use it to stop a command midway
// and see what the next one finds.
type Killer struct {
	After int64 // writes let through
	made  atomic.Int64
}

// System is sys with its writes counted and stopped.
func (k *Killer) System(sys cms.System) cms.System {
	return cms.Guard(sys, func(cms.Write, string) error {
		if k.made.Add(1) > k.After {
			return ErrKilled
		}
		return nil
	})
}

// Made is how many writes were let through or tried.
func (k *Killer) Made() int64 { return k.made.Load() }
