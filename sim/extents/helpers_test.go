package extents_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/extents"
	"github.com/csmsim/csmsim/sim/hostfs"
)

// member is one member of a test tar stream.
type member struct {
	name string
	size int
	typ  byte
}

// stream is a tar stream of members with content from seed.
func stream(seed uint64, members ...member) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range members {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		Expect(tw.WriteHeader(&tar.Header{Name: m.name, Size: int64(m.size), Mode: 0o644, Typeflag: typ})).To(Succeed())
		data := make([]byte, m.size)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		_, err := tw.Write(data)
		Expect(err).NotTo(HaveOccurred())
	}
	Expect(tw.Close()).To(Succeed())
	return b.Bytes()
}

// world is a host directory with a disk directory whose files split.
type world struct {
	root string
	fs   afero.Fs
}

func newWorld(dir string) world {
	Expect(os.MkdirAll(filepath.Join(dir, "disk"), 0o755)).To(Succeed())
	Expect(os.MkdirAll(filepath.Join(dir, "other"), 0o755)).To(Succeed())
	return world{root: dir, fs: extents.New(hostfs.New(dir), func(name string) bool {
		return filepath.Dir(filepath.Clean("/"+name)) == "/disk"
	})}
}

func (w world) host(name string) string { return filepath.Join(w.root, name) }

// write stores data as name in chunks of chunk bytes, with Sync before
// Close, as CSMSERVE's upload does.
func (w world) write(name string, data []byte, chunk int) {
	f, err := w.fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	Expect(err).NotTo(HaveOccurred())
	for len(data) > 0 {
		n := min(chunk, len(data))
		Expect(f.Write(data[:n])).To(Equal(n))
		data = data[n:]
	}
	Expect(f.Sync()).To(Succeed())
	Expect(f.Close()).To(Succeed())
}

func (w world) read(name string) []byte {
	f, err := w.fs.Open(name)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	b, err := io.ReadAll(f)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// extentFiles lists the files in disk/.extents.
func (w world) extentFiles() []string {
	names, err := extents.Names(w.host("disk"))
	Expect(err).NotTo(HaveOccurred())
	return names
}

// index is the file's extended attribute, "" if it has none.
func index(path string) string {
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(path, extents.Attr, buf)
	if errors.Is(err, unix.ENODATA) {
		return ""
	}
	Expect(err).NotTo(HaveOccurred())
	return string(buf[:n])
}

// allocated is the bytes the host file system holds for path.
func allocated(path string) int64 {
	fi, err := os.Stat(path)
	Expect(err).NotTo(HaveOccurred())
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}

func links(path string) uint64 {
	fi, err := os.Stat(path)
	Expect(err).NotTo(HaveOccurred())
	return uint64(fi.Sys().(*syscall.Stat_t).Nlink)
}
