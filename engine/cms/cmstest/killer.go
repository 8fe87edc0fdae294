package cmstest

import (
	"errors"
	"sync/atomic"

	"github.com/csmsim/csmsim/engine/cms"
)

// ErrKilled is what a Killer's file writes get once it has "died".
var ErrKilled = errors.New("the process was killed")

// Killer is a cms.System whose SFS file writes stop after a number of
// them, as a process killed there leaves its files: every Create in a
// file pool directory after the first After fails with ErrKilled. Engine
// specs use it to stop a command midway and see what the next one finds.
type Killer struct {
	cms.System
	After int64 // creates let through
	made  atomic.Int64
}

// Made is how many creates were let through (or tried, once killed).
func (k *Killer) Made() int64 { return k.made.Load() }

func (k *Killer) FilePool(name string) (cms.FilePool, error) {
	p, err := k.System.FilePool(name)
	if err != nil {
		return nil, err
	}
	return killerPool{p, k}, nil
}

type killerPool struct {
	cms.FilePool
	k *Killer
}

func (p killerPool) Dir(d cms.DirID) (cms.FileArea, error) {
	a, err := p.FilePool.Dir(d)
	if err != nil {
		return nil, err
	}
	return killerArea{a, p.k}, nil
}

type killerArea struct {
	cms.FileArea
	k *Killer
}

func (a killerArea) Create(id cms.FileID) (cms.FileWriter, error) {
	if a.k.made.Add(1) > a.k.After {
		return nil, ErrKilled
	}
	return a.FileArea.Create(id)
}
