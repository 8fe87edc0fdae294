package extents_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/extents"
	"github.com/csmsim/csmsim/sim/memfs"
)

// offsets are where each member's content starts in a stream written by
// archive/tar with plain USTAR headers.
func offsets(members ...member) []int64 {
	var out []int64
	var at int64
	for _, m := range members {
		at += 512
		out = append(out, at)
		at += (int64(m.size) + 511) &^ 511
	}
	return out
}

const big = extents.MinExtent

// servlinkMembers are a SERVLINK-like stream's: a manifest, large parts, a
// small one, a large one, an empty one.
func servlinkMembers() []member {
	return []member{
		{name: "MANIFEST.JSON", size: 700},
		{name: "CMS/BUILD/A.TEXT", size: big + 1},
		{name: "CMS/DELTA/B.TEXT", size: 3 * big},
		{name: "CMS/APPLY/C.TEXT", size: 100},
		{name: "CMS/BUILD/D.TEXT", size: big},
		{name: "CMS/BUILD/E.TEXT", size: 0},
	}
}

var _ = Describe("a file split as it is written", func() {
	var w world
	BeforeEach(func() { w = newWorld(GinkgoT().TempDir()) })

	It("reads back byte for byte, holds each large member once, as an extent, and its skeleton only around them", func() {
		data := stream(1, servlinkMembers()...)
		for _, chunk := range []int{1, 511, 512, 4096, 32 << 10, len(data)} {
			name := "disk/S" + string(rune('A'+chunk%26))
			w.write(name, data, chunk)
			Expect(w.read(name)).To(Equal(data), "written in chunks of %d", chunk)
			fi, err := w.fs.Stat(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.Size()).To(Equal(int64(len(data))))
			Expect(index(w.host(name))).To(HavePrefix("csmsim-extents 1 "))
			Expect(allocated(w.host(name))).To(BeNumerically("<", int64(len(data))/4), "the skeleton is sparse")
		}
		Expect(w.extentFiles()).To(HaveLen(6 * 3)) // three members of MinExtent or more, per file
	})

	It("tells a writer how much it wrote while it splits, by Stat and a seek to where it is, without leaving the split", func() {
		data := stream(14, servlinkMembers()...)
		f, err := w.fs.OpenFile("disk/S", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		Expect(err).NotTo(HaveOccurred())
		for at := 0; at < len(data); at += 10000 {
			n := min(10000, len(data)-at)
			Expect(f.Write(data[at : at+n])).To(Equal(n))
			fi, err := f.Stat()
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.Size()).To(BeEquivalentTo(at + n))
			Expect(f.Seek(0, io.SeekCurrent)).To(BeEquivalentTo(at + n))
		}
		Expect(f.Close()).To(Succeed())
		Expect(w.read("disk/S")).To(Equal(data))
		Expect(w.extentFiles()).To(HaveLen(3))
	})

	It("keeps bytes that are not a tar stream, or a tar stream with only small members, as they come", func() {
		r := rand.New(rand.NewPCG(2, 2))
		noise := make([]byte, 3*big)
		for i := range noise {
			noise[i] = byte(r.Uint32())
		}
		small := stream(3, member{name: "X", size: 10}, member{name: "Y", size: big - 1})
		w.write("disk/NOISE", noise, 4096)
		w.write("disk/SMALL", small, 4096)
		Expect(w.read("disk/NOISE")).To(Equal(noise))
		Expect(w.read("disk/SMALL")).To(Equal(small))
		Expect(index(w.host("disk/NOISE"))).To(BeEmpty())
		Expect(index(w.host("disk/SMALL"))).To(BeEmpty())
		Expect(w.extentFiles()).To(BeEmpty())
	})

	It("splits only where it is told to", func() {
		data := stream(4, servlinkMembers()...)
		w.write("other/S", data, 4096)
		Expect(w.read("other/S")).To(Equal(data))
		Expect(index(w.host("other/S"))).To(BeEmpty())
		Expect(allocated(w.host("other/S"))).To(BeNumerically(">=", int64(len(data))))
	})

	It("reads any range of a split file as the stream, by ReadAt, Seek and Read, and io.Copy", func() {
		data := stream(5, servlinkMembers()...)
		w.write("disk/S", data, 32<<10)
		f, err := w.fs.Open("disk/S")
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		r := rand.New(rand.NewPCG(5, 5))
		for range 300 {
			off := r.Int64N(int64(len(data)) + 10)
			n := r.IntN(3*big) + 1
			buf := make([]byte, n)
			got, err := f.ReadAt(buf, off)
			end := min(off+int64(n), int64(len(data)))
			want := data[min(off, end):end]
			Expect(buf[:got]).To(Equal(want), "ReadAt(%d, %d)", n, off)
			if int64(got) < int64(n) {
				Expect(err).To(MatchError(io.EOF))
			}
			_, err = f.Seek(off, io.SeekStart)
			Expect(err).NotTo(HaveOccurred())
			rd, _ := io.ReadAll(io.LimitReader(f, int64(n)))
			Expect(rd).To(Equal(want), "Seek(%d) and Read %d", off, n)
		}
		_, err = f.Seek(0, io.SeekStart)
		Expect(err).NotTo(HaveOccurred())
		var out bytes.Buffer
		Expect(io.Copy(&out, f)).To(Equal(int64(len(data))))
		Expect(out.Bytes()).To(Equal(data))
	})

	It("becomes whole and plain when a writer leaves the stream's order: a seek, WriteAt or Truncate", func() {
		data := stream(6, servlinkMembers()...)
		mid := offsets(servlinkMembers()...)[2] + 1000 // inside the second large member
		for i, leave := range []func(f afero.File){
			func(f afero.File) {
				Expect(f.Seek(0, io.SeekStart)).To(BeZero())
				Expect(f.Seek(mid, io.SeekStart)).To(Equal(mid))
			},
			func(f afero.File) { Expect(f.WriteAt(data[10:20], 10)).To(Equal(10)) },
			func(f afero.File) { Expect(f.Truncate(mid)).To(Succeed()) },
		} {
			name := "disk/W" + string(rune('0'+i))
			f, err := w.fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Write(data[:mid])).To(Equal(int(mid)))
			leave(f)
			Expect(f.Write(data[mid:])).To(Equal(len(data) - int(mid)))
			Expect(f.Close()).To(Succeed())
			Expect(w.read(name)).To(Equal(data))
			Expect(index(w.host(name))).To(BeEmpty())
		}
		Expect(w.extentFiles()).To(BeEmpty())
	})

	It("keeps what arrived of a stream cut short inside a large member, split, so that it can be resumed", func() {
		data := stream(7, servlinkMembers()...)
		cut := offsets(servlinkMembers()...)[2] + 12345
		f, err := w.fs.OpenFile("disk/CUT", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Write(data[:cut])).To(Equal(int(cut)))
		Expect(f.Close()).To(Succeed()) // a dropped connection: no Sync
		Expect(w.read("disk/CUT")).To(Equal(data[:cut]))

		By("a resumed upload appends in place: the file is made whole first")
		f, err = w.fs.OpenFile("disk/CUT", os.O_WRONLY|os.O_APPEND, 0o644)
		Expect(err).NotTo(HaveOccurred())
		Expect(index(w.host("disk/CUT"))).To(BeEmpty())
		Expect(f.Write(data[cut:])).To(Equal(len(data) - int(cut)))
		Expect(f.Close()).To(Succeed())
		Expect(w.read("disk/CUT")).To(Equal(data))
		Expect(w.extentFiles()).To(BeEmpty())
	})

	It("renames with its extents, and a split file replaced or removed takes its extents with it", func() {
		a, b := stream(8, servlinkMembers()...), stream(9, servlinkMembers()...)
		w.write("disk/A", a, 4096)
		w.write("disk/B", b, 4096)
		Expect(w.extentFiles()).To(HaveLen(6))
		Expect(w.fs.Rename("disk/A", "disk/B")).To(Succeed())
		Expect(w.read("disk/B")).To(Equal(a))
		Expect(w.extentFiles()).To(HaveLen(3))
		Expect(w.fs.Remove("disk/B")).To(Succeed())
		Expect(w.extentFiles()).To(BeEmpty())

		By("truncated when opened anew, it loses its extents")
		w.write("disk/C", a, 4096)
		f, err := w.fs.OpenFile("disk/C", os.O_RDWR|os.O_TRUNC, 0o644)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		Expect(w.read("disk/C")).To(BeEmpty())
		Expect(w.extentFiles()).To(BeEmpty())

		By("renamed to where files are not split, it is made whole")
		w.write("disk/D", a, 4096)
		Expect(w.fs.Rename("disk/D", "other/D")).To(Succeed())
		Expect(index(w.host("other/D"))).To(BeEmpty())
		Expect(os.ReadFile(w.host("other/D"))).To(Equal(a))
		Expect(w.extentFiles()).To(BeEmpty())
	})

	It("links a large member into place instead of copying it, and only an extent, only the one that was read", func() {
		data := stream(10, servlinkMembers()...)
		off := offsets(servlinkMembers()...)
		w.write("disk/S", data, 4096)
		x := w.fs.(*extents.Fs)
		f, err := w.fs.Open("disk/S")
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()

		Expect(x.CanLinkRange(f, off[2], int64(3*big))).To(BeTrue())
		Expect(x.LinkRange(f, off[2], int64(3*big), "other/B.TEXT")).To(BeTrue())
		Expect(os.ReadFile(w.host("other/B.TEXT"))).To(Equal(data[off[2] : off[2]+int64(3*big)]))
		Expect(links(w.host("other/B.TEXT"))).To(BeEquivalentTo(2))

		for _, r := range [][2]int64{{off[2], int64(3*big) - 1}, {off[2] + 1, int64(3 * big)}, {off[3], 100}, {off[0], 700}} {
			Expect(x.CanLinkRange(f, r[0], r[1])).To(BeFalse(), "%v is not an extent", r)
			Expect(x.LinkRange(f, r[0], r[1], "other/NO")).To(BeFalse())
		}
		Expect(x.LinkRange(bytes.NewReader(data), off[2], int64(3*big), "other/NO")).To(BeFalse(), "not a split file")
		_, err = os.Stat(w.host("other/NO"))
		Expect(os.IsNotExist(err)).To(BeTrue())

		By("the file replaced since it was opened: nothing of the new one is linked, and the old one still reads")
		w.write("disk/T", stream(11, servlinkMembers()...), 4096)
		Expect(w.fs.Rename("disk/T", "disk/S")).To(Succeed())
		Expect(x.LinkRange(f, off[4], int64(big), "other/D.TEXT")).To(BeFalse())
		got, err := io.ReadAll(io.NewSectionReader(f, 0, int64(len(data))))
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(data))

		By("the link outlives the split file")
		Expect(w.fs.Remove("disk/S")).To(Succeed())
		Expect(os.ReadFile(w.host("other/B.TEXT"))).To(Equal(data[off[2] : off[2]+int64(3*big)]))
	})

	It("says no to a link across file systems, so that the caller copies", func() {
		data := stream(15, servlinkMembers()...)
		off := offsets(servlinkMembers()...)
		w.write("disk/S", data, 4096)
		shm, err := os.MkdirTemp("/dev/shm", "extents-")
		if err != nil {
			Fail("this spec needs a second file system at /dev/shm (tmpfs): " + err.Error())
		}
		DeferCleanup(os.RemoveAll, shm)
		Expect(os.Remove(w.host("other"))).To(Succeed())
		Expect(os.Symlink(shm, w.host("other"))).To(Succeed())
		f, err := w.fs.Open("disk/S")
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		Expect(w.fs.(*extents.Fs).LinkRange(f, off[2], int64(3*big), "other/B.TEXT")).To(BeFalse())
		_, err = os.Stat(filepath.Join(shm, "B.TEXT"))
		Expect(os.IsNotExist(err)).To(BeTrue())
	})

	It("tidies the extents no file names, which a crash leaves, and keeps the ones a file does", func() {
		data := stream(12, servlinkMembers()...)
		w.write("disk/LIVE", data, 4096)
		live := w.extentFiles()
		Expect(live).To(HaveLen(3))
		dir := w.host("disk/" + extents.DirName)
		for _, orphan := range []string{"99.0", "99.1", live[0][:len(live[0])-1] + "7", "junk"} {
			Expect(os.WriteFile(filepath.Join(dir, orphan), []byte("left by a crash"), 0o644)).To(Succeed())
		}
		Expect(os.Link(filepath.Join(dir, "99.0"), w.host("other/LINKED"))).To(Succeed())

		Expect(w.fs.(*extents.Fs).Tidy("disk")).To(Succeed())
		Expect(w.extentFiles()).To(ConsistOf(live))
		Expect(w.read("disk/LIVE")).To(Equal(data))
		Expect(os.ReadFile(w.host("other/LINKED"))).To(Equal([]byte("left by a crash")))
	})

	It("replaces an extent a crash left at the very name a new file's first extent takes", func() {
		data := stream(14, servlinkMembers()...)
		f, err := w.fs.OpenFile("disk/NEW", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		Expect(err).NotTo(HaveOccurred())
		fi, err := os.Stat(w.host("disk/NEW"))
		Expect(err).NotTo(HaveOccurred())
		// extents are named by the file's inode: a crashed file's may be reused
		dir := w.host("disk/" + extents.DirName)
		Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
		stale := filepath.Join(dir, strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)+".0")
		Expect(os.WriteFile(stale, []byte("left by a crash"), 0o644)).To(Succeed())
		Expect(f.Write(data)).To(Equal(len(data)))
		Expect(f.Close()).To(Succeed())
		Expect(w.extentFiles()).To(ContainElement(filepath.Base(stale)))
		Expect(w.read("disk/NEW")).To(Equal(data))
	})

	It("refuses to read a split file whose extent is gone, and says what to do", func() {
		w.write("disk/S", stream(13, servlinkMembers()...), 4096)
		Expect(os.Remove(filepath.Join(w.host("disk/"+extents.DirName), w.extentFiles()[0]))).To(Succeed())
		_, err := w.fs.Open("disk/S")
		Expect(err).To(MatchError(And(ContainSubstring("disk/S"), ContainSubstring("damaged"), ContainSubstring("send it again"))))
	})

	It("leaves a memory file system as it is", func() {
		m := memfs.New(memfs.Options{})
		Expect(extents.New(m, func(string) bool { return true })).To(BeIdenticalTo(m))
	})
})
