package csmserve_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/csmserve"
)

var _ = Describe("StagingFs", func() {
	var (
		dir, outside string
		st           *csmserve.StagingFs
	)
	BeforeEach(func() {
		root := GinkgoT().TempDir()
		dir = filepath.Join(root, "CSMSERVE.0191")
		outside = filepath.Join(root, "outside")
		Expect(os.Mkdir(dir, 0o755)).To(Succeed())
		Expect(os.Mkdir(outside, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644)).To(Succeed())
		st = csmserve.NewStagingFs(afero.NewBasePathFs(afero.NewOsFs(), dir))
	})
	refused := func(err error) {
		GinkgoHelper()
		Expect(err).To(HaveOccurred())
		Expect(errors.Is(err, csmserve.ErrRefused)).To(BeTrue(), "%v", err)
	}

	It("folds CMS names and keeps them flat", func() {
		f, err := st.Create("/profile.exec")
		Expect(err).NotTo(HaveOccurred())
		_, err = io.WriteString(f, "hello")
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		Expect(filepath.Join(dir, "PROFILE.EXEC")).To(BeARegularFile())
		fi, err := st.Stat("Profile.Exec")
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Size()).To(BeEquivalentTo(5))
		infos, err := st.ReadDir("/")
		Expect(err).NotTo(HaveOccurred())
		Expect(infos).To(HaveLen(1))
		Expect(infos[0].Name()).To(Equal("PROFILE.EXEC"))
	})

	It("refuses every way out and every non-file", func() {
		Expect(os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "LINK.OUT"))).To(Succeed())
		Expect(os.Symlink(filepath.Join(outside, "new.txt"), filepath.Join(dir, "DANGLE.OUT"))).To(Succeed())
		Expect(os.Mkdir(filepath.Join(dir, "SUB.DIR"), 0o755)).To(Succeed())
		for _, name := range []string{
			"../x", "/../../etc/passwd", "../outside/secret.txt", "a/b", "/a/b", "//A.B", `A\B.C`,
			"LINK.OUT", "DANGLE.OUT", "SUB.DIR", "SUB.DIR/X.Y", "A B.C", "A\x00.B", "A\n.B", ".minidisk.json",
			"NODOT", "A.", ".B", "A.B.C", "NINECHARS.EXEC", "ÄRGER.EXEC", "..", "/..",
		} {
			_, err := st.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			refused(err)
			_, err = st.Open(name)
			refused(err)
			refused(st.Remove(name))
			refused(st.Rename(name, "OK.FILE"))
			_, err = st.Stat(name)
			refused(err)
		}
		refused(st.Mkdir("NEW", 0o755))
		refused(st.MkdirAll("NEW/SUB", 0o755))
		refused(st.Chmod("LINK.OUT", 0o777))
		_, err := st.OpenFile("/", os.O_WRONLY, 0)
		refused(err)
		Expect(os.ReadFile(filepath.Join(outside, "secret.txt"))).To(BeEquivalentTo("secret"))
		Expect(filepath.Join(outside, "new.txt")).NotTo(BeAnExistingFile())
		infos, err := st.ReadDir("/")
		Expect(err).NotTo(HaveOccurred())
		Expect(infos).To(BeEmpty()) // links and directories are not shown
	})

	It("opens files for reading only when asked to read", func() {
		Expect(os.WriteFile(filepath.Join(dir, "A.B"), []byte("data"), 0o644)).To(Succeed())
		f, err := st.Open("A.B")
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		_, err = f.Write([]byte("x"))
		Expect(err).To(HaveOccurred())
	})

	It("works the same on a MemMapFs", func() {
		mem := csmserve.NewStagingFs(afero.NewMemMapFs())
		Expect(afero.WriteFile(mem, "a.b", []byte("x"), 0o644)).To(Succeed())
		Expect(afero.ReadFile(mem, "/A.B")).To(BeEquivalentTo("x"))
		_, err := mem.Create("../A.B")
		refused(err)
		f, err := mem.Open("/")
		Expect(err).NotTo(HaveOccurred())
		names, err := f.Readdirnames(-1)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(Equal([]string{"A.B"}))
		r, err := mem.Open("A.B")
		Expect(err).NotTo(HaveOccurred())
		_, err = r.Write([]byte("y"))
		Expect(err).To(HaveOccurred())
	})

	DescribeTable("FileName",
		func(in, want string) {
			got, err := csmserve.FileName(in)
			if want == "" {
				Expect(err).To(HaveOccurred())
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		Entry("plain", "CSMPKG.MANIFEST", "CSMPKG.MANIFEST"),
		Entry("folded", "/cms.servlink", "CMS.SERVLINK"),
		Entry("special characters", "$CSMCMD.$MSGLOG", "$CSMCMD.$MSGLOG"),
		Entry("job messages", "J0000001.MSGS", "J0000001.MSGS"),
		Entry("path", "a/b.c", ""),
		Entry("dot dot", "..", ""),
		Entry("blank", "A .B", ""),
		Entry("empty", "", ""),
		Entry("root", "/", ""),
	)
})
