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

// NewNotifying is New that calls waiting before it blocks on a lock that
// another process holds, so a command can say what it waits for.
func NewNotifying(dir string, waiting func(resource string)) table.Locker {
	return &locker{dir: dir, local: table.NewMemLocker(), waiting: waiting}
}

type locker struct {
	dir     string
	waiting func(resource string)
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
	err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		if l.waiting != nil {
			l.waiting(resource)
		}
		err = flock(f, unix.LOCK_EX)
	}
	if err != nil {
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

// Share holds resource for as long as the returned release is not called
// (a process: until it exits), shared with other holders. If no other
// process holds it, alone runs first under an exclusive hold: what must
// not happen while another process works in the same place (tidying what
// crashed writers left). It reports whether alone ran.
func Share(dir, resource string, alone func() error) (ran bool, release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, nil, fmt.Errorf("lock directory: %w", err)
	}
	path := filepath.Join(dir, FileName(resource))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return false, nil, fmt.Errorf("lock file for %q: %w", resource, err)
	}
	release = sync.OnceFunc(func() { _ = f.Close() })
	err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		if err := alone(); err != nil {
			release()
			return false, nil, err
		}
		ran = true
	} else if !errors.Is(err, unix.EWOULDBLOCK) {
		release()
		return false, nil, fmt.Errorf("locking %s for %q: %w", path, resource, err)
	}
	// Converting (or taking) the shared hold waits only for another
	// process's exclusive one, which is short.
	if err := flock(f, unix.LOCK_SH); err != nil {
		release()
		return false, nil, fmt.Errorf("locking %s for %q: %w", path, resource, err)
	}
	return ran, release, nil
}
