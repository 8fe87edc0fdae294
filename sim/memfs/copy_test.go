package memfs_test

import (
	"bytes"
	"io/fs"
	"os"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/memfs"
)

var _ = Describe("CopyFile", func() {
	var m *memfs.Fs
	BeforeEach(func() { m = memfs.New(memfs.Options{}) })

	It("shares every page, and a write to either copy leaves the other alone", func() {
		data := random(4, 3*memfs.PageSize+memfs.PageSize/2)
		write(m, "/src", data)
		before := m.Usage()
		Expect(m.CopyFile("/src", "/dst")).To(Succeed())
		after := m.Usage()
		Expect(after.Sealed).To(Equal(before.Sealed), "no page is copied")
		Expect(after.Private).To(BeZero())
		Expect(after.Logical).To(Equal(2 * before.Logical))

		src, err := m.OpenFile("/src", os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		dst, err := m.OpenFile("/dst", os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(dst.WriteAt([]byte("dst"), memfs.PageSize+10)).To(Equal(3))
		Expect(src.WriteAt([]byte("src"), 2*memfs.PageSize+10)).To(Equal(3))
		Expect(src.Truncate(int64(len(data)) + 5)).To(Succeed())
		Expect(m.Usage().Private).To(Equal(int64(2*memfs.PageSize)), "one page copied on each side")

		wantSrc := append(bytes.Clone(data), 0, 0, 0, 0, 0)
		copy(wantSrc[2*memfs.PageSize+10:], "src")
		wantDst := bytes.Clone(data)
		copy(wantDst[memfs.PageSize+10:], "dst")
		Expect(bytes.Equal(readAll(src), wantSrc)).To(BeTrue())
		Expect(bytes.Equal(readAll(dst), wantDst)).To(BeTrue())
		Expect(src.Close()).To(Succeed())
		Expect(dst.Close()).To(Succeed())
		Expect(bytes.Equal(read(m, "/src"), wantSrc)).To(BeTrue())
		Expect(bytes.Equal(read(m, "/dst"), wantDst)).To(BeTrue())
	})

	It("seals the pages a handle has yet to seal, and later writes through it do not reach the copy", func() {
		src, err := m.Create("/src")
		Expect(err).NotTo(HaveOccurred())
		data := random(5, 2*memfs.PageSize)
		Expect(src.Write(data)).To(Equal(len(data)))
		Expect(m.Usage().Private).To(Equal(int64(2 * memfs.PageSize)))
		Expect(m.CopyFile("/src", "/dst")).To(Succeed())
		Expect(m.Usage().Private).To(BeZero())
		Expect(src.Write([]byte("more"))).To(Equal(4))
		Expect(src.WriteAt([]byte("X"), 0)).To(Equal(1))
		Expect(bytes.Equal(read(m, "/dst"), data)).To(BeTrue())
	})

	It("replaces the target as Rename does: its handles keep the old contents", func() {
		write(m, "/src", []byte("new contents"))
		write(m, "/dst", []byte("old"))
		old, err := m.Open("/dst")
		Expect(err).NotTo(HaveOccurred())
		Expect(m.CopyFile("/src", "/dst")).To(Succeed())
		Expect(string(readAll(old))).To(Equal("old"))
		Expect(string(read(m, "/dst"))).To(Equal("new contents"))
		Expect(m.CopyFile("/src", "/src")).To(Succeed())
		Expect(string(read(m, "/src"))).To(Equal("new contents"))
	})

	It("fails as os would for what is missing or a directory", func() {
		write(m, "/f", []byte("x"))
		Expect(m.Mkdir("/d", 0o755)).To(Succeed())
		Expect(m.CopyFile("/nothing", "/g")).To(MatchError(fs.ErrNotExist))
		Expect(m.CopyFile("/d", "/g")).To(MatchError(syscall.EISDIR))
		Expect(m.CopyFile("/f", "/d")).To(MatchError(syscall.EISDIR))
		Expect(m.CopyFile("/f", "/no/g")).To(MatchError(fs.ErrNotExist))
		Expect(m.CopyFile("/f", "/f/g")).To(MatchError(syscall.ENOTDIR))
		_, err := m.Stat("/g")
		Expect(os.IsNotExist(err)).To(BeTrue())
	})
})
