package cmsfs_test

import (
	"bytes"
	"io"
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/cmsfs"
	"github.com/csmsim/csmsim/sim/hostfs"
)

// backends runs body once over MemMapFs and once over a disk-backed
// BasePathFs; newFs must be called inside a node.
func backends(body func(newFs func() afero.Fs)) {
	Context("on MemMapFs", func() {
		body(func() afero.Fs { return afero.NewMemMapFs() })
	})
	Context("on BasePathFs over a temp dir", func() {
		body(func() afero.Fs { return afero.NewBasePathFs(afero.NewOsFs(), GinkgoT().TempDir()) })
	})
	Context("on a host directory, where minidisk files are split as they are written", func() {
		body(func() afero.Fs { return hostfs.New(GinkgoT().TempDir()) })
	})
}

func newWorld(fs afero.Fs) *cmsfs.World {
	GinkgoHelper()
	w, err := cmsfs.New(fs)
	Expect(err).NotTo(HaveOccurred())
	return w
}

// snapshot maps every path in fs to its content ("<dir>" for directories),
// metadata and temporaries included, so any change at all shows.
func snapshot(fs afero.Fs, root string) map[string]string {
	GinkgoHelper()
	snap := map[string]string{}
	Expect(afero.Walk(fs, root, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel := path[len(root):]
		if fi.IsDir() {
			snap[rel] = "<dir>"
			return nil
		}
		b, err := afero.ReadFile(fs, path)
		snap[rel] = string(b)
		return err
	})).To(Succeed())
	return snap
}

func id(s string) cms.FileID { return cms.MustParseFileID(s) }

func dir(s string) cms.DirID { return cms.MustParseDirID(s) }

// put writes data to a file in one Write and commits it.
func put(a cms.FileArea, name string, data []byte) error {
	wr, err := a.Create(id(name))
	if err != nil {
		return err
	}
	if _, err := wr.Write(data); err != nil {
		return err
	}
	return wr.Close()
}

func get(a cms.FileArea, name string) []byte {
	GinkgoHelper()
	r, err := a.Open(id(name))
	Expect(err).NotTo(HaveOccurred())
	defer r.Close()
	b, err := io.ReadAll(r)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// pattern is n bytes of recognizable content.
func pattern(n int, seed byte) []byte {
	b := bytes.Repeat([]byte{seed}, n)
	for i := range b {
		b[i] += byte(i * 7)
	}
	return b
}

func names(infos []cms.FileInfo) []string {
	var out []string
	for _, fi := range infos {
		out = append(out, fi.ID.String())
	}
	return out
}
