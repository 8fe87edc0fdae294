package cmsfs_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/cmsfs"
	"github.com/csmsim/csmsim/sim/extents"
	"github.com/csmsim/csmsim/sim/hostfs"
)

var _ = Describe("a staging disk on a host directory: a SERVLINK received once, its parts linked into place", func() {
	var (
		root  string
		w     *cmsfs.World
		disk  *cmsfs.Minidisk
		pool  *cmsfs.FilePool
		build cms.FileArea
		data  []byte
		parts [][2]int64 // content offset and size of each member
	)
	const part = 3 * extents.MinExtent
	BeforeEach(func() {
		root = GinkgoT().TempDir()
		w = newWorld(hostfs.New(root))
		var err error
		disk, err = w.DefineMinidisk(cmsfs.MinidiskDef{Owner: "CSMSERVE", Vaddr: "0191", DevType: "3390", Cylinders: 10})
		Expect(err).NotTo(HaveOccurred())
		pool, err = w.DefineFilePool("VMPSFS", 100000, "MAINTCSM")
		Expect(err).NotTo(HaveOccurred())
		Expect(pool.Enroll("MAINTCSM", "MAINT720", 1000)).To(Succeed())
		Expect(pool.CreateDir(dir("VMPSFS:MAINT720.CMS"), "MAINT720")).To(Succeed())
		build, err = pool.Dir(dir("VMPSFS:MAINT720.CMS"))
		Expect(err).NotTo(HaveOccurred())

		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		parts = nil
		for i, size := range []int{100, part, part + 7} {
			Expect(tw.WriteHeader(&tar.Header{Name: string(rune('A' + i)), Size: int64(size), Mode: 0o644})).To(Succeed())
			parts = append(parts, [2]int64{int64(b.Len()), int64(size)})
			Expect(tw.Write(bytes.Repeat([]byte{byte('a' + i)}, size))).To(Equal(size))
		}
		Expect(tw.Close()).To(Succeed())
		data = b.Bytes()

		By("CSMSERVE's upload: a temporary, synced, renamed into place")
		raw := disk.RawFs()
		f, err := afero.TempFile(raw, "/", ".tmp-csmserve-CMS.SERVLINK-*")
		Expect(err).NotTo(HaveOccurred())
		for at := 0; at < len(data); at += 32 << 10 {
			Expect(f.Write(data[at:min(at+32<<10, len(data))])).NotTo(BeZero())
		}
		Expect(f.Sync()).To(Succeed())
		Expect(f.Close()).To(Succeed())
		Expect(raw.Rename(f.Name(), "/CMS.SERVLINK")).To(Succeed())
	})
	staged := cms.MustParseFileID("CMS SERVLINK")

	It("stores the stream once, reads it back whole, and charges the disk for it once", func() {
		var got []byte
		Expect(cms.ReadFile(disk, staged, func(r io.Reader) (err error) { got, err = io.ReadAll(r); return })).To(Succeed())
		Expect(got).To(Equal(data))
		Expect(disk.UsedBlocks()).To(Equal(cms.BlocksFor(int64(len(data)))))
		ents, err := os.ReadDir(filepath.Join(root, "mdisk", "CSMSERVE.0191", extents.DirName))
		Expect(err).NotTo(HaveOccurred())
		Expect(ents).To(HaveLen(2))

		By("a fresh world counts it the same")
		m, err := newWorld(hostfs.New(root)).Minidisk("CSMSERVE", "0191")
		Expect(err).NotTo(HaveOccurred())
		Expect(m.UsedBlocks()).To(Equal(disk.UsedBlocks()))
	})

	It("links a part into an SFS directory: no copy, the quota charged, the file listed, and it outlives the staged file", func() {
		linker, ok := build.(cms.RangeLinker)
		Expect(ok).To(BeTrue())
		_, used0, err := pool.Quota("MAINT720")
		Expect(err).NotTo(HaveOccurred())
		Expect(cms.ReadFile(disk, staged, func(r io.Reader) error {
			Expect(linker.CanLinkRange(r, parts[0][0], parts[0][1])).To(BeFalse(), "a small part is copied")
			for i, p := range parts[1:] {
				Expect(linker.CanLinkRange(r, p[0], p[1])).To(BeTrue())
				Expect(linker.LinkRange(r, p[0], p[1], cms.MustParseFileID("P"+string(rune('1'+i))+" TEXT"))).To(BeTrue())
			}
			return nil
		})).To(Succeed())
		_, used1, err := pool.Quota("MAINT720")
		Expect(err).NotTo(HaveOccurred())
		Expect(used1 - used0).To(Equal(cms.BlocksFor(parts[1][1]) + cms.BlocksFor(parts[2][1])))
		infos, err := build.List()
		Expect(err).NotTo(HaveOccurred())
		Expect(infos).To(HaveLen(2))
		Expect(infos[0].Bytes).To(Equal(parts[1][1]))
		fi, err := os.Stat(filepath.Join(root, "sfs", "VMPSFS", "MAINT720", "CMS", "P1.TEXT"))
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Sys().(*syscall.Stat_t).Nlink).To(BeEquivalentTo(2), "a hard link of the extent")

		By("the staged file erased, the parts stay as they were")
		Expect(disk.Erase(staged)).To(Succeed())
		var got []byte
		Expect(cms.ReadFile(build, cms.MustParseFileID("P2 TEXT"), func(r io.Reader) (err error) { got, err = io.ReadAll(r); return })).To(Succeed())
		Expect(got).To(Equal(bytes.Repeat([]byte("c"), part+7)))
		Expect(fi.Sys().(*syscall.Stat_t).Nlink).To(BeEquivalentTo(2))
	})

	It("asks a Guard's checks for a link as for a create and a commit, and links nothing when they refuse", func() {
		var asked []cms.Write
		refuse := false
		sys := cms.Guard(cmsSystem{w}, func(op cms.Write, target string) error {
			asked = append(asked, op)
			if refuse {
				return cms.ErrDiskFull
			}
			return nil
		})
		p, err := sys.FilePool("VMPSFS")
		Expect(err).NotTo(HaveOccurred())
		a, err := p.Dir(dir("VMPSFS:MAINT720.CMS"))
		Expect(err).NotTo(HaveOccurred())
		linker := a.(cms.RangeLinker)
		Expect(cms.ReadFile(disk, staged, func(r io.Reader) error {
			Expect(linker.LinkRange(r, parts[0][0], parts[0][1], cms.MustParseFileID("SMALL TEXT"))).To(BeFalse())
			Expect(asked).To(BeEmpty(), "a range that is not linked asks nothing: the copy will")
			Expect(linker.LinkRange(r, parts[1][0], parts[1][1], cms.MustParseFileID("P1 TEXT"))).To(BeTrue())
			Expect(asked).To(Equal([]cms.Write{cms.WriteCreate, cms.WriteCommit}))
			refuse = true
			_, err := linker.LinkRange(r, parts[2][0], parts[2][1], cms.MustParseFileID("P2 TEXT"))
			Expect(err).To(MatchError(cms.ErrDiskFull))
			return nil
		})).To(Succeed())
		infos, err := build.List()
		Expect(err).NotTo(HaveOccurred())
		Expect(infos).To(HaveLen(1))
	})

	It("tidies, when opened alone, the extents a crash left behind", func() {
		dir := filepath.Join(root, "mdisk", "CSMSERVE.0191", extents.DirName)
		Expect(os.WriteFile(filepath.Join(dir, "12345.0"), []byte("an upload killed before its index"), 0o644)).To(Succeed())
		_, err := cmsfs.Join(hostfs.New(root))
		Expect(err).NotTo(HaveOccurred())
		Expect(filepath.Join(dir, "12345.0")).To(BeAnExistingFile(), "Join leaves another process's writes alone")
		newWorld(hostfs.New(root))
		Expect(filepath.Join(dir, "12345.0")).NotTo(BeAnExistingFile())
		ents, err := os.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(ents).To(HaveLen(2), "the staged SERVLINK's extents stay")
	})
})

// cmsSystem is a World as a cms.System, for a Guard.
type cmsSystem struct{ w *cmsfs.World }

func (s cmsSystem) Name() string    { return "VM01" }
func (s cmsSystem) SSIName() string { return "" }
func (s cmsSystem) FilePool(name string) (cms.FilePool, error) {
	p, err := s.w.FilePool(name)
	if err != nil {
		return nil, err
	}
	return p, nil
}
func (s cmsSystem) Minidisk(owner, vaddr string) (cms.Minidisk, error) {
	m, err := s.w.Minidisk(owner, vaddr)
	if err != nil {
		return nil, err
	}
	return m, nil
}
func (s cmsSystem) TempDisk(string, string, int) (cms.CylinderIO, func() error, error) {
	return nil, nil, os.ErrInvalid
}
