// Package tabletest helps specs interleave writers of a CSM table.
package tabletest

import (
	"strings"
	"sync"

	"github.com/csmsim/csmsim/engine/table"
)

// BetweenLocker runs Second once, just before the lock of a table whose
// resource ends with File is taken: after a command read the table, before
// it writes it, which is the window a conditional update guards. Second
// typically runs another session over the same state and the same locks.
type BetweenLocker struct {
	table.Locker
	File   string
	Second func()

	once  sync.Once
	fired bool
}

func (b *BetweenLocker) Lock(resource string) (func(), error) {
	if strings.HasSuffix(resource, " "+b.File) {
		b.once.Do(func() { b.fired = true; b.Second() })
	}
	return b.Locker.Lock(resource)
}

// Fired says Second ran.
func (b *BetweenLocker) Fired() bool { return b.fired }
