// Package cmstest gives engine tests a CMS file area in memory, so they
// need not import sim (the emulated world) to exercise engine code.
package cmstest

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"sync"

	"github.com/csmsim/csmsim/engine/cms"
)

// MemArea is a cms.FileArea in memory with a limit in 4K blocks, committed
// on Close like CMS: a failed or aborted write leaves the old file.
type MemArea struct {
	Name   string
	Limit  int64 // blocks; 0 means no limit
	mu     sync.Mutex
	files  map[string][]byte
	blocks int64
}

// NewMemArea is an empty area of limit blocks (0: unlimited).
func NewMemArea(name string, limit int64) *MemArea {
	return &MemArea{Name: name, Limit: limit, files: map[string][]byte{}}
}

var _ cms.FileArea = (*MemArea)(nil)

func (a *MemArea) String() string { return a.Name }

func (a *MemArea) missing(id cms.FileID) error {
	return &cms.Error{Object: id.Name() + " in " + a.Name, Err: cms.ErrNotFound}
}

// Create starts writing id.
func (a *MemArea) Create(id cms.FileID) (cms.FileWriter, error) { return &memWriter{a: a, id: id}, nil }

// Open reads id.
func (a *MemArea) Open(id cms.FileID) (io.ReadCloser, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.files[id.Name()]
	if !ok {
		return nil, a.missing(id)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Stat describes id.
func (a *MemArea) Stat(id cms.FileID) (cms.FileInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.files[id.Name()]
	if !ok {
		return cms.FileInfo{}, a.missing(id)
	}
	return cms.FileInfo{ID: id, ModeNumber: 1, Bytes: int64(len(b)), Blocks: cms.BlocksFor(int64(len(b)))}, nil
}

// List returns the files sorted by name.
func (a *MemArea) List() ([]cms.FileInfo, error) {
	a.mu.Lock()
	names := make([]string, 0, len(a.files))
	for n := range a.files {
		names = append(names, n)
	}
	a.mu.Unlock()
	sort.Strings(names)
	out := make([]cms.FileInfo, 0, len(names))
	for _, n := range names {
		fi, err := a.Stat(cms.MustParseFileID(n))
		if err != nil {
			return nil, err
		}
		out = append(out, fi)
	}
	return out, nil
}

// Erase removes id.
func (a *MemArea) Erase(id cms.FileID) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.files[id.Name()]
	if !ok {
		return a.missing(id)
	}
	a.blocks -= cms.BlocksFor(int64(len(b)))
	delete(a.files, id.Name())
	return nil
}

// Rename renames from to to, which must not exist.
func (a *MemArea) Rename(from, to cms.FileID) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.files[from.Name()]
	if !ok {
		return a.missing(from)
	}
	if _, ok := a.files[to.Name()]; ok {
		return &cms.Error{Object: to.Name() + " in " + a.Name, Err: cms.ErrExists}
	}
	delete(a.files, from.Name())
	a.files[to.Name()] = b
	return nil
}

type memWriter struct {
	a    *MemArea
	id   cms.FileID
	buf  bytes.Buffer
	err  error
	done bool
}

func (w *memWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.buf.Write(p)
	return len(p), nil
}

// Close commits the file if it fits the limit (net of the file it replaces).
func (w *memWriter) Close() error {
	if w.done {
		return errors.New("cmstest: writer already closed")
	}
	w.done = true
	if w.err != nil {
		return w.err
	}
	a := w.a
	a.mu.Lock()
	defer a.mu.Unlock()
	need := cms.BlocksFor(int64(w.buf.Len()))
	if old, ok := a.files[w.id.Name()]; ok {
		need -= cms.BlocksFor(int64(len(old)))
	}
	if a.Limit > 0 && a.blocks+need > a.Limit {
		return &cms.Error{Object: a.Name, Err: cms.ErrQuotaExceeded, Detail: "writing " + w.id.Name()}
	}
	a.blocks += need
	a.files[w.id.Name()] = bytes.Clone(w.buf.Bytes())
	return nil
}

func (w *memWriter) Abort() error {
	w.done, w.err = true, errors.New("cmstest: write aborted")
	return nil
}
