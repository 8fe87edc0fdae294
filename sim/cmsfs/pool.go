package cmsfs

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
)

// poolMeta is what .pool.json keeps: the server's configuration and the
// enrolled file spaces. Usage is recounted from the files.
type poolMeta struct {
	Capacity int64            `json:"capacity_blocks"`
	Admins   []string         `json:"admins"`
	Spaces   map[string]int64 `json:"spaces"` // file space -> quota in blocks
}

// FilePool is an SFS file pool. It implements cms.FilePool.
type FilePool struct {
	w    *World
	name string
	root string // /sfs/<POOL>
	// Guarded by w.mu:
	meta   poolMeta
	ledger *ledger            // the pool's capacity
	spaces map[string]*ledger // quota of each file space
}

var _ cms.FilePool = (*FilePool)(nil)

func (p *FilePool) metaPath() string { return filepath.Join(p.root, ".pool.json") }

func newPool(w *World, name string, meta poolMeta) *FilePool {
	if meta.Spaces == nil {
		meta.Spaces = map[string]int64{}
	}
	p := &FilePool{w: w, name: name, root: filepath.Join(sfsRoot, name), meta: meta, spaces: map[string]*ledger{}}
	p.ledger = &ledger{label: "file pool " + name, limit: meta.Capacity, full: cms.ErrDiskFull,
		hint: "ask the file pool administrator to add storage to the file pool"}
	for s, q := range meta.Spaces {
		p.spaces[s] = p.spaceLedger(s, q)
	}
	return p
}

func (p *FilePool) spaceLedger(space string, quota int64) *ledger {
	return &ledger{label: "file space " + space, limit: quota, full: cms.ErrQuotaExceeded,
		hint: "ask the file pool administrator to raise the quota (MODIFY USER)"}
}

// DefineFilePool creates a file pool of capacityBlocks 4K blocks with its
// first administrators (the ADMIN entries of the server's DMSPARMS).
func (w *World) DefineFilePool(name string, capacityBlocks int64, admins ...string) (*FilePool, error) {
	name, err := cms.ParseFilePool(name)
	if err != nil {
		return nil, err
	}
	if capacityBlocks <= 0 {
		return nil, fmt.Errorf("file pool %s: capacity must be positive, not %d blocks", name, capacityBlocks)
	}
	if len(admins) == 0 {
		return nil, fmt.Errorf("file pool %s: needs at least one administrator", name)
	}
	meta := poolMeta{Capacity: capacityBlocks, Spaces: map[string]int64{}}
	for _, a := range admins {
		u, err := cms.ParseUserID(a)
		if err != nil {
			return nil, err
		}
		meta.Admins = append(meta.Admins, u)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.pools[name]; ok {
		return nil, &cms.Error{Object: "file pool " + name, Err: cms.ErrExists}
	}
	p := newPool(w, name, meta)
	if err := w.fs.MkdirAll(p.root, 0o755); err != nil {
		return nil, err
	}
	if err := w.writeJSON(p.metaPath(), meta); err != nil {
		return nil, err
	}
	w.pools[name] = p
	return p, nil
}

// FilePool looks up a defined file pool.
func (w *World) FilePool(name string) (*FilePool, error) {
	n, err := cms.ParseFilePool(name)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.pools[n]
	if !ok {
		return nil, &cms.Error{Object: "file pool " + n, Err: cms.ErrNoFilePool,
			Detail: fmt.Sprintf("defined file pools: %s", strings.Join(sortedKeys(w.pools), " "))}
	}
	return p, nil
}

func (w *World) loadPools() error {
	names, err := w.subdirs(sfsRoot)
	if err != nil {
		return err
	}
	for _, name := range names {
		var meta poolMeta
		if err := w.readJSON(filepath.Join(sfsRoot, name, ".pool.json"), &meta); err != nil {
			return err
		}
		p := newPool(w, name, meta)
		for s, l := range p.spaces {
			if l.used, err = w.treeBlocks(filepath.Join(p.root, s)); err != nil {
				return err
			}
			p.ledger.used += l.used
		}
		w.pools[name] = p
	}
	return nil
}

// Name is the file pool's name.
func (p *FilePool) Name() string { return p.name }

// updateMeta applies change to a copy of the metadata, saves it, and only
// then makes it current. p.w.mu must be held.
func (p *FilePool) updateMeta(change func(m *poolMeta)) error {
	m := poolMeta{Capacity: p.meta.Capacity, Admins: slices.Clone(p.meta.Admins), Spaces: maps.Clone(p.meta.Spaces)}
	change(&m)
	if err := p.w.writeJSON(p.metaPath(), m); err != nil {
		return err
	}
	p.meta = m
	return nil
}

func (p *FilePool) isAdminLocked(user string) bool {
	return slices.Contains(p.meta.Admins, strings.ToUpper(user))
}

// IsAdmin reports whether user is a file pool administrator.
func (p *FilePool) IsAdmin(user string) bool {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.isAdminLocked(user)
}

func (p *FilePool) needAdmin(user, cmd string) error {
	if p.isAdminLocked(user) {
		return nil
	}
	return &cms.Error{Object: "file pool " + p.name, Err: cms.ErrNotAuthorized,
		Detail: fmt.Sprintf("%s is not a file pool administrator; only administrators may %s", strings.ToUpper(user), cmd)}
}

// EnrollAdmin is ENROLL ADMIN: by, an administrator, makes user one too.
func (p *FilePool) EnrollAdmin(by, user string) error {
	u, err := cms.ParseUserID(user)
	if err != nil {
		return err
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if err := p.needAdmin(by, "ENROLL ADMIN"); err != nil || p.isAdminLocked(u) {
		return err
	}
	return p.updateMeta(func(m *poolMeta) { m.Admins = append(m.Admins, u) })
}

// Enroll is ENROLL USER: it gives user a file space of blocks 4K blocks.
func (p *FilePool) Enroll(admin, user string, blocks int64) error {
	u, err := cms.ParseUserID(user)
	if err != nil {
		return err
	}
	if blocks < 0 {
		return fmt.Errorf("ENROLL USER %s %s: blocks must not be negative", u, p.name)
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if err := p.needAdmin(admin, "ENROLL USER"); err != nil {
		return err
	}
	if _, ok := p.spaces[u]; ok {
		return &cms.Error{Object: p.name + ":" + u + ".", Err: cms.ErrExists, Detail: "already enrolled; use MODIFY USER to change its quota"}
	}
	dir := filepath.Join(p.root, u)
	if err := p.w.fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := p.updateMeta(func(m *poolMeta) { m.Spaces[u] = blocks }); err != nil {
		_ = p.w.fs.RemoveAll(dir)
		return err
	}
	p.spaces[u] = p.spaceLedger(u, blocks)
	return nil
}

// ModifyUser is MODIFY USER: it sets an enrolled file space's quota. A
// quota below current use only stops further growth.
func (p *FilePool) ModifyUser(admin, user string, blocks int64) error {
	if blocks < 0 {
		return fmt.Errorf("MODIFY USER %s %s: blocks must not be negative", user, p.name)
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if err := p.needAdmin(admin, "MODIFY USER"); err != nil {
		return err
	}
	l, err := p.spaceLocked(user)
	if err != nil {
		return err
	}
	u := strings.ToUpper(user)
	if err := p.updateMeta(func(m *poolMeta) { m.Spaces[u] = blocks }); err != nil {
		return err
	}
	l.limit = blocks
	return nil
}

// spaceLocked finds an enrolled file space's ledger. p.w.mu must be held.
func (p *FilePool) spaceLocked(space string) (*ledger, error) {
	u, err := cms.ParseUserID(space)
	if err != nil {
		return nil, err
	}
	l, ok := p.spaces[u]
	if !ok {
		return nil, &cms.Error{Object: p.name + ":" + u + ".", Err: cms.ErrNotEnrolled,
			Detail: fmt.Sprintf("ask a file pool administrator to ENROLL USER %s %s:", u, p.name)}
	}
	return l, nil
}

// Quota is a file space's limit and the blocks it uses, counting writes in
// progress.
func (p *FilePool) Quota(space string) (limit, used int64, err error) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	l, err := p.spaceLocked(space)
	if err != nil {
		return 0, 0, err
	}
	return l.limit, l.used, nil
}

// FreeBlocks is the pool's capacity minus what all file spaces use.
func (p *FilePool) FreeBlocks() int64 {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.ledger.limit - p.ledger.used
}

// Spaces lists the enrolled file spaces, sorted.
func (p *FilePool) Spaces() []string {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return slices.Sorted(maps.Keys(p.meta.Spaces))
}

// Capacity is the pool's size in 4K blocks.
func (p *FilePool) Capacity() int64 {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	return p.ledger.limit
}
