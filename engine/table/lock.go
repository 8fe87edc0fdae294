package table

import "sync"

// Locker serializes updates of a resource (a table file). Lock blocks until
// the resource is free and returns the function that frees it; calling that
// function more than once is harmless.
type Locker interface {
	Lock(resource string) (unlock func(), err error)
}

// NewMemLocker is a Locker for one process: one mutex per resource name.
// Processes sharing a disk-backed world need a cross-process Locker.
func NewMemLocker() Locker { return &memLocker{mus: map[string]*sync.Mutex{}} }

type memLocker struct {
	mu  sync.Mutex
	mus map[string]*sync.Mutex // never shrinks: there are few tables
}

func (l *memLocker) Lock(resource string) (func(), error) {
	l.mu.Lock()
	m, ok := l.mus[resource]
	if !ok {
		m = &sync.Mutex{}
		l.mus[resource] = m
	}
	l.mu.Unlock()
	m.Lock()
	return sync.OnceFunc(m.Unlock), nil
}
