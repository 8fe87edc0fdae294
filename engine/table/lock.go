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
func NewMemLocker() Locker { return &memLocker{held: map[string]*heldLock{}} }

type memLocker struct {
	mu   sync.Mutex
	held map[string]*heldLock // only resources someone holds or waits for
}

type heldLock struct {
	sync.Mutex
	refs int // holders and waiters
}

func (l *memLocker) Lock(resource string) (func(), error) {
	l.mu.Lock()
	h, ok := l.held[resource]
	if !ok {
		h = &heldLock{}
		l.held[resource] = h
	}
	h.refs++
	l.mu.Unlock()
	h.Lock()
	return sync.OnceFunc(func() {
		h.Unlock()
		l.mu.Lock()
		if h.refs--; h.refs == 0 {
			delete(l.held, resource)
		}
		l.mu.Unlock()
	}), nil
}
