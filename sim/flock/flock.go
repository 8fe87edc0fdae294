// Package flock is a table.Locker that also excludes other processes, for
// worlds kept on disk that several csmsim processes share.
//
// Each resource has a lock file in a directory, named by a hash of the
// resource so any resource string is a safe file name. Lock files are never
// removed: removing a file someone may be about to lock would let two
// holders lock different files under one name.
package flock

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/csmsim/csmsim/engine/table"
)

// New is a Locker whose lock files live in dir, created when first needed.
// Lock blocks until the resource is free, with no timeout: a holder that
// hangs holds everyone up, but one that dies frees its lock (the kernel
// drops a flock when its file is closed).
func New(dir string) table.Locker { return &locker{dir: dir, local: table.NewMemLocker()} }

type locker struct {
	dir string
	// local serializes this locker's goroutines per lock file, so waiters
	// park on a mutex instead of each pinning an OS thread in a blocked
	// flock(2). flock itself orders the processes (and other lockers).
	local table.Locker
}

// FileName is the lock file's name for resource.
func FileName(resource string) string {
	sum := sha256.Sum256([]byte(resource))
	return hex.EncodeToString(sum[:16]) + ".lock"
}

func (l *locker) Lock(resource string) (func(), error) {
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(l.dir, FileName(resource)))
	if err != nil {
		return nil, err
	}
	unlockLocal, err := l.local.Lock(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		unlockLocal()
		return nil, fmt.Errorf("lock file for %q: %w", resource, err)
	}
	if err := flock(f, unix.LOCK_EX); err != nil {
		_ = f.Close()
		unlockLocal()
		return nil, fmt.Errorf("locking %s for %q: %w", path, resource, err)
	}
	return sync.OnceFunc(func() {
		_ = flock(f, unix.LOCK_UN)
		_ = f.Close() // would drop the lock anyway
		unlockLocal()
	}), nil
}

// flock retries when a signal interrupts the wait.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
