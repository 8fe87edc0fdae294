// Package cmsfs emulates CMS minidisks and SFS file pools on any afero.Fs,
// implementing the interfaces of engine/cms.
//
// Layout inside the fs (names starting with '.' can never be CMS names, so
// metadata and temporaries never collide with files):
//
//	/sfs/<POOL>/.pool.json              capacity, administrators, file spaces and quotas
//	/sfs/<POOL>/<SPACE>/<DIR>/.../<FN>.<FT>
//	/mdisk/<OWNER>.<VADDR>/.minidisk.json geometry and extent
//	/mdisk/<OWNER>.<VADDR>/<FN>.<FT>
//	<any area>/.fm.json                 mode numbers other than 1, by "FN.FT"
//	.tmp*                               writes in progress; removed by New
//	/mdisk/<OWNER>.<VADDR>/.extents/    on a host file system, the large members of
//	                                    tar streams written to the disk (sim/extents)
//
// Block usage is not stored: New recounts it from the files, so it cannot
// drift. One World should own an fs at a time.
package cmsfs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/extents"
)

const (
	sfsRoot   = "/sfs"
	mdiskRoot = "/mdisk"
	tmpPrefix = ".tmp"
	modesFile = ".fm.json"
)

// World is the CMS file world of one z/VM system: its file pools and
// minidisks, kept in an afero.Fs.
type World struct {
	fs afero.Fs
	// mu serializes block accounting, metadata updates and the commit of
	// writes, so concurrent writers can never jointly overrun a limit.
	mu    sync.Mutex
	pools map[string]*FilePool
	disks map[string]*Minidisk // by "OWNER.VADDR"
	links atomic.Int64         // names LinkRange's temporaries
	// linkMu guards linked: directories with links that are not durable
	// yet (LinkRange), made so by the next commit.
	linkMu sync.Mutex
	linked map[string]bool
}

// New opens the world kept in fsys, or an empty one. It removes temporaries
// left by interrupted writes and recounts block usage.
func New(fsys afero.Fs) (*World, error) { return open(fsys, true) }

// Join opens the world kept in fsys while another process works in it:
// as New, but the temporaries may be that process's writes in progress,
// so they stay.
func Join(fsys afero.Fs) (*World, error) { return open(fsys, false) }

func open(fsys afero.Fs, tidy bool) (*World, error) {
	w := &World{fs: extents.New(fsys, minidiskFile), pools: map[string]*FilePool{}, disks: map[string]*Minidisk{}}
	for _, root := range []string{sfsRoot, mdiskRoot} {
		if err := w.fs.MkdirAll(root, 0o755); err != nil {
			return nil, err
		}
		if !tidy {
			continue
		}
		if err := w.removeTemps(root); err != nil {
			return nil, err
		}
	}
	if err := w.loadPools(); err != nil {
		return nil, err
	}
	if err := w.loadMinidisks(); err != nil {
		return nil, err
	}
	if x := w.extents(); x != nil && tidy {
		for _, m := range w.disks {
			if err := x.Tidy(m.dir); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// minidiskFile says which files are split as they are written, on a host
// file system: the files of minidisks, where CSMSERVE stores what it
// receives (SERVLINKs) and LOAD links their parts from.
func minidiskFile(name string) bool {
	rest, ok := strings.CutPrefix(filepath.ToSlash(filepath.Clean("/"+name)), mdiskRoot+"/")
	if !ok {
		return false
	}
	disk, file, ok := strings.Cut(rest, "/")
	return ok && disk != "" && file != "" && !strings.Contains(file, "/") &&
		file != ".minidisk.json" && file != modesFile && file != extents.DirName
}

func (w *World) removeTemps(root string) error {
	var stale []string
	err := afero.Walk(w.fs, root, func(path string, fi os.FileInfo, err error) error {
		if err != nil || !strings.HasPrefix(fi.Name(), tmpPrefix) {
			return err
		}
		stale = append(stale, path)
		if fi.IsDir() {
			return filepath.SkipDir // SkipDir from a file would skip its siblings
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range stale {
		if err := w.fs.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

// subdirs lists the directories in dir whose names are not hidden.
func (w *World) subdirs(dir string) ([]string, error) {
	infos, err := afero.ReadDir(w.fs, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, fi := range infos {
		if fi.IsDir() && !strings.HasPrefix(fi.Name(), ".") {
			names = append(names, fi.Name())
		}
	}
	return names, nil
}

// treeBlocks counts the blocks of all CMS files under dir.
func (w *World) treeBlocks(dir string) (int64, error) {
	var n int64
	err := afero.Walk(w.fs, dir, func(path string, fi os.FileInfo, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path != dir {
			return nil // renamed or removed by another process since the directory was read
		}
		if err != nil {
			return err
		}
		if strings.HasPrefix(fi.Name(), ".") {
			if fi.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if fi.Mode().IsRegular() {
			n += cms.BlocksFor(fi.Size())
		}
		return nil
	})
	return n, err
}

func (w *World) readJSON(name string, v any) error {
	f, err := w.fs.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	const most = 1 << 20 // modes, pool and disk definitions: small
	b, err := io.ReadAll(io.LimitReader(f, most+1))
	if err == nil && len(b) > most {
		err = fmt.Errorf("%s is larger than %d bytes: the state is damaged", name, most)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// writeJSON replaces name atomically: written aside, then renamed.
func (w *World) writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := afero.TempFile(w.fs, filepath.Dir(name), tmpPrefix+"-meta-*")
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.fs.Rename(f.Name(), name)
	}
	if err == nil {
		err = w.syncDir(filepath.Dir(name))
	}
	if err != nil {
		_ = w.fs.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// syncDir makes a rename in dir durable: until the directory itself is
// on disk, a crash may bring back the old file, or none. The links not
// yet durable go first, so that whatever a commit records (a level in VM
// SYSSUF) never outlives the parts it names.
func (w *World) syncDir(dir string) error {
	w.linkMu.Lock()
	delete(w.linked, dir) // last, below: once for its links and the commit
	dirs := append(sortedKeys(w.linked), dir)
	w.linked = nil
	w.linkMu.Unlock()
	for i, d := range dirs {
		if err := w.fsyncDir(d); err != nil {
			w.deferSync(dirs[i:]...) // a later commit tries again
			return err
		}
	}
	return nil
}

// deferSync notes directories whose new links the next commit makes
// durable: one journal commit for a LOAD's parts, not one each.
func (w *World) deferSync(dirs ...string) {
	w.linkMu.Lock()
	defer w.linkMu.Unlock()
	if w.linked == nil {
		w.linked = map[string]bool{}
	}
	for _, d := range dirs {
		w.linked[d] = true
	}
}

func (w *World) fsyncDir(dir string) error {
	d, err := w.fs.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// modes reads the mode numbers other than 1 kept for an area directory.
func (w *World) modes(dir string) (map[string]int, error) {
	m := map[string]int{}
	err := w.readJSON(filepath.Join(dir, modesFile), &m)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	return m, err
}

// setModes records mode numbers by "FN.FT"; 1, the default, is not stored.
// w.mu must be held.
func (w *World) setModes(dir string, set map[string]int) error {
	m, err := w.modes(dir)
	if err != nil {
		return err
	}
	changed := false
	for k, n := range set {
		if old, ok := m[k]; n == 1 && ok {
			delete(m, k)
			changed = true
		} else if n != 1 && (!ok || old != n) {
			m[k] = n
			changed = true
		}
	}
	switch {
	case !changed:
		return nil
	case len(m) == 0:
		return w.fs.Remove(filepath.Join(dir, modesFile))
	}
	return w.writeJSON(filepath.Join(dir, modesFile), m)
}

// sortedKeys lists a map's keys for messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
