package cmsfs

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/cms"
)

// The FILEPOOL UNLOAD stream is a POSIX tar:
//
//	.manifest.json     {source, dirs, files, blocks}
//	SUB/               one member per directory below the unloaded one, parents first
//	SUB/FN.FT          files, each after its directory; PAX record CSMSIM.fm = mode number
//	.sha256.json       trailer: SHA-256 of every file by member name
//
// The trailer lets both sides hash in the one pass over the bytes and still
// lets LOAD refuse damaged file data before anything is replaced.
const (
	manifestName = ".manifest.json"
	sumsName     = ".sha256.json"
	paxModeKey   = "CSMSIM.fm"
)

type manifest struct {
	Source string `json:"source"`
	Dirs   int    `json:"dirs"`
	Files  int    `json:"files"`
	Blocks int64  `json:"blocks"`
}

// unloadEntry is one directory or file to unload.
type unloadEntry struct {
	name string // member name
	path string // fs path of a file
	dir  bool
	size int64
	mode int
}

// epoch keeps unload streams byte-identical for identical trees.
var epoch = time.Unix(0, 0)

// Unload is FILEPOOL UNLOAD: it writes d's whole tree to out.
func (p *FilePool) Unload(d cms.DirID, out io.Writer) error {
	entries, man, err := p.planUnload(d)
	if err != nil {
		return err
	}
	if err := p.writeUnload(entries, man, out); err != nil {
		return fmt.Errorf("FILEPOOL UNLOAD of %s: %w", d, err)
	}
	return nil
}

// planUnload lists the tree under d in stream order.
func (p *FilePool) planUnload(d cms.DirID) ([]unloadEntry, manifest, error) {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	man := manifest{Source: d.String()}
	if _, err := p.existingLocked(d); err != nil {
		return nil, man, err
	}
	sub, err := p.subtreeLocked(d)
	if err != nil {
		return nil, man, err
	}
	var entries []unloadEntry
	for _, dir := range append([]cms.DirID{d}, sub...) {
		rel := strings.Join(dir.Names()[d.Depth():], "/")
		if rel != "" {
			rel += "/"
			entries = append(entries, unloadEntry{name: rel, dir: true})
			man.Dirs++
		}
		a := &area{w: p.w, name: dir.String(), dir: p.dirPath(dir)}
		files, err := a.List()
		if err != nil {
			return nil, man, err
		}
		for _, f := range files {
			entries = append(entries, unloadEntry{name: rel + fileName(f.ID), path: a.path(f.ID), size: f.Bytes, mode: f.ModeNumber})
			man.Files++
			man.Blocks += f.Blocks
		}
	}
	return entries, man, nil
}

func (p *FilePool) writeUnload(entries []unloadEntry, man manifest, out io.Writer) error {
	tw := tar.NewWriter(out)
	if err := putJSON(tw, manifestName, man); err != nil {
		return err
	}
	sums := map[string]string{}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, ModTime: epoch, Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			continue
		}
		h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, e.size
		h.PAXRecords = map[string]string{paxModeKey: strconv.Itoa(e.mode)}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := p.w.fs.Open(e.path)
		if err != nil {
			return err
		}
		sum := sha256.New()
		_, err = io.CopyN(io.MultiWriter(tw, sum), f, e.size)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("%s changed while being unloaded: %w", e.name, err)
		}
		sums[e.name] = hex.EncodeToString(sum.Sum(nil))
	}
	if err := putJSON(tw, sumsName, sums); err != nil {
		return err
	}
	return tw.Close()
}

func putJSON(tw *tar.Writer, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b)), ModTime: epoch, Format: tar.FormatPAX}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = tw.Write(b)
	return err
}
