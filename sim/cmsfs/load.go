package cmsfs

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
)

// Load is FILEPOOL LOAD. It stages every file of the stream in a hidden
// directory of the target's file space, holding the manifest's blocks as a
// reservation, and moves the files into place only once the whole stream,
// its names, its counts and its checksums have proved good.
func (p *FilePool) Load(r io.Reader, target cms.DirID) error {
	ld := &loader{p: p, target: target, dirSeen: map[cms.DirID]bool{}, seen: map[string]bool{}}
	ld.in.r = r
	ld.tr = tar.NewReader(&ld.in)
	err := ld.run()
	if ld.stage != "" {
		_ = p.w.fs.RemoveAll(ld.stage)
	}
	p.w.mu.Lock()
	_ = charge(ld.ledgers, "", "", -ld.reserved)
	p.w.mu.Unlock()
	return err
}

// countingReader counts the bytes archive/tar has consumed; tar reads
// exactly the blocks it needs, so the count locates each member.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

type stagedFile struct {
	member string
	offset int64
	dir    cms.DirID
	id     cms.FileID
	mode   int
	blocks int64
	tmp    string
	sum    string
}

type loader struct {
	p        *FilePool
	target   cms.DirID
	ledgers  []*ledger
	in       countingReader
	tr       *tar.Reader
	man      manifest
	reserved int64  // blocks held for files not yet in place
	stage    string // staging directory
	dirs     []cms.DirID
	dirSeen  map[cms.DirID]bool
	nDirs    int // directory members
	files    []stagedFile
	seen     map[string]bool // member names
	blocks   int64
}

func (ld *loader) fail(member string, off int64, err error) error {
	return &cms.LoadError{Target: ld.target.String(), Member: member, Offset: off, Err: err}
}

func badStream(format string, a ...any) error {
	return fmt.Errorf("%w: %s", cms.ErrBadStream, fmt.Sprintf(format, a...))
}

// next reads the next header and where it starts: a member's data is
// always read whole, so only padding separates it from the next header.
func (ld *loader) next() (*tar.Header, int64, error) {
	off := (ld.in.n + 511) &^ 511 // tar headers start on 512-byte blocks
	h, err := ld.tr.Next()
	if err != nil && err != io.EOF {
		err = ld.fail("", off, fmt.Errorf("%w: %w", cms.ErrBadStream, err))
	}
	return h, off, err
}

func (ld *loader) run() error {
	if err := ld.checkTarget(); err != nil {
		return err
	}
	if err := ld.readManifest(); err != nil {
		return err
	}
	stage, err := afero.TempDir(ld.p.w.fs, filepath.Join(ld.p.root, ld.target.Space()), tmpPrefix+"-load-")
	if err != nil {
		return err
	}
	ld.stage = stage
	for {
		h, off, err := ld.next()
		if err == io.EOF {
			return ld.fail("", off, badStream("the stream ends without its %s trailer (truncated?)", sumsName))
		} else if err != nil {
			return err
		}
		if h.Name == sumsName {
			if err := ld.checkTrailer(h, off); err != nil {
				return err
			}
			break
		}
		if err := ld.member(h, off); err != nil {
			return ld.fail(h.Name, off, err)
		}
	}
	if h, off, err := ld.next(); err != io.EOF {
		if err == nil {
			err = ld.fail(h.Name, off, badStream("member after the %s trailer", sumsName))
		}
		return err
	}
	return ld.commit()
}

func (ld *loader) checkTarget() error {
	ld.p.w.mu.Lock()
	defer ld.p.w.mu.Unlock()
	ls, err := ld.p.lookupLocked(ld.target)
	if err != nil {
		return err
	}
	if parent, ok := ld.target.Parent(); ok && !ld.p.dirExists(parent) {
		return &cms.Error{Object: parent.String(), Err: cms.ErrNotFound, Detail: "FILEPOOL LOAD creates only the target directory itself"}
	}
	ld.ledgers = ls
	return nil
}

// readManifest reads the first member and reserves the blocks it declares,
// so a load that cannot fit fails before the rest of the stream is read.
func (ld *loader) readManifest() error {
	h, off, err := ld.next()
	if err == io.EOF {
		return ld.fail("", off, badStream("empty stream"))
	} else if err != nil {
		return err
	}
	if h.Name != manifestName || h.Typeflag != tar.TypeReg || h.Size > 1<<16 {
		return ld.fail(h.Name, off, badStream("the first member must be %s", manifestName))
	}
	b, err := io.ReadAll(ld.tr)
	if err != nil {
		return ld.fail(h.Name, off, fmt.Errorf("%w: %w", cms.ErrBadStream, err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	m := &ld.man
	if err := dec.Decode(m); err != nil {
		return ld.fail(h.Name, off, badStream("%v", err))
	}
	if _, err := cms.ParseDirID(m.Source); err != nil {
		return ld.fail(h.Name, off, badStream("source: %v", err))
	}
	if m.Dirs < 0 || m.Files < 0 || m.Blocks < int64(m.Files) {
		return ld.fail(h.Name, off, badStream("impossible counts: %d directories, %d files, %d blocks", m.Dirs, m.Files, m.Blocks))
	}
	ld.p.w.mu.Lock()
	defer ld.p.w.mu.Unlock()
	what := fmt.Sprintf("FILEPOOL LOAD of %d files from %s", m.Files, m.Source)
	if err := charge(ld.ledgers, ld.target.String(), what, m.Blocks); err != nil {
		return ld.fail(h.Name, off, err)
	}
	ld.reserved = m.Blocks
	return nil
}

// resolve maps a member's directory part ("A/B" or "") to a DirID below the
// target, noting directories to create, parents first.
func (ld *loader) resolve(rel string) (cms.DirID, error) {
	d := ld.target
	if rel == "" {
		return d, nil
	}
	for _, name := range strings.Split(rel, "/") {
		var err error
		if d, err = d.Child(name); err != nil {
			return d, err
		}
		if !ld.dirSeen[d] {
			ld.dirSeen[d] = true
			ld.dirs = append(ld.dirs, d)
		}
	}
	return d, nil
}

func (ld *loader) member(h *tar.Header, off int64) error {
	if ld.seen[h.Name] {
		return badStream("member appears twice")
	}
	ld.seen[h.Name] = true
	if strings.HasPrefix(h.Name, "/") || strings.Trim(h.Name, "/") == "" {
		return badStream("member name is not a relative path")
	}
	switch h.Typeflag {
	case tar.TypeDir:
		ld.nDirs++
		_, err := ld.resolve(strings.TrimSuffix(h.Name, "/"))
		return err
	case tar.TypeReg:
	default:
		return badStream("member type %q not allowed: only directories and files", h.Typeflag)
	}
	dirPart, name := path.Split(h.Name)
	d, err := ld.resolve(strings.TrimSuffix(dirPart, "/"))
	if err != nil {
		return err
	}
	id, err := parseFileName(name)
	if err != nil {
		return err
	}
	mode := 1
	if v, ok := h.PAXRecords[paxModeKey]; ok {
		if mode, err = strconv.Atoi(v); err != nil || mode < 0 || mode > 6 || len(v) != 1 {
			return badStream("mode number %q is not a digit 0-6", v)
		}
	}
	f := stagedFile{member: h.Name, offset: off, dir: d, id: id, mode: mode, blocks: cms.BlocksFor(h.Size),
		tmp: filepath.Join(ld.stage, strconv.Itoa(len(ld.files)))}
	if ld.blocks += f.blocks; ld.blocks > ld.man.Blocks {
		return badStream("files hold more than the %d blocks the manifest declares", ld.man.Blocks)
	}
	out, err := ld.p.w.fs.Create(f.tmp)
	if err != nil {
		return err
	}
	sum := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, sum), ld.tr)
	if cerr := out.Close(); err == nil && cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("%w: file data: %w", cms.ErrBadStream, err)
	}
	f.sum = hex.EncodeToString(sum.Sum(nil))
	ld.files = append(ld.files, f)
	return nil
}

// checkTrailer compares the stream with its manifest and checksums.
func (ld *loader) checkTrailer(h *tar.Header, off int64) error {
	m := ld.man
	if ld.nDirs != m.Dirs || len(ld.files) != m.Files || ld.blocks != m.Blocks {
		return ld.fail(manifestName, 0, badStream("manifest declares %d directories, %d files, %d blocks; stream holds %d, %d, %d",
			m.Dirs, m.Files, m.Blocks, ld.nDirs, len(ld.files), ld.blocks))
	}
	b, err := io.ReadAll(io.LimitReader(ld.tr, 64<<20))
	if err != nil {
		return ld.fail(h.Name, off, fmt.Errorf("%w: %w", cms.ErrBadStream, err))
	}
	var sums map[string]string
	if err := json.Unmarshal(b, &sums); err != nil {
		return ld.fail(h.Name, off, badStream("%v", err))
	}
	if len(sums) != len(ld.files) {
		return ld.fail(h.Name, off, badStream("%d checksums for %d files", len(sums), len(ld.files)))
	}
	for _, f := range ld.files {
		if sums[f.member] != f.sum {
			return ld.fail(f.member, f.offset, badStream("SHA-256 differs from the trailer's: the data is damaged"))
		}
	}
	return nil
}

// commit moves the staged tree into place. Replaced files give their
// blocks back; the new files' blocks were reserved from the manifest.
func (ld *loader) commit() error {
	p := ld.p
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if parent, ok := ld.target.Parent(); ok && !p.dirExists(parent) {
		return &cms.Error{Object: parent.String(), Err: cms.ErrNotFound, Detail: "erased during FILEPOOL LOAD"}
	}
	for _, d := range append([]cms.DirID{ld.target}, ld.dirs...) {
		if err := p.w.fs.MkdirAll(p.dirPath(d), 0o755); err != nil {
			return err
		}
	}
	var replaced int64
	defer func() { _ = charge(ld.ledgers, "", "", -replaced) }()
	modes := map[string]map[string]int{} // area dir -> "FN.FT" -> mode number
	for _, f := range ld.files {
		dir := p.dirPath(f.dir)
		final := filepath.Join(dir, fileName(f.id))
		old, statErr := p.w.fs.Stat(final)
		if err := p.w.fs.Rename(f.tmp, final); err != nil {
			return err
		}
		if statErr == nil {
			replaced += cms.BlocksFor(old.Size())
		}
		ld.reserved -= f.blocks
		if modes[dir] == nil {
			modes[dir] = map[string]int{}
		}
		modes[dir][fileName(f.id)] = f.mode
	}
	var errs []error
	for dir, m := range modes {
		errs = append(errs, p.w.setModes(dir, m))
	}
	return errors.Join(errs...)
}
