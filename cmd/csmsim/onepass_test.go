package main_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/csmsim/csmsim/sim/extents"
)

// Real mode with a level of large parts: a node stores what SEND carries
// once, and a node killed while it receives leaves nothing behind that
// the next SEND trips over.
var _ = Describe("real mode: a SEND of large parts is stored once on the node", Ordered, func() {
	var dir, state, pwFile, netrc, root, port string
	var node *gexec.Session
	smw := func(line string) string {
		GinkgoHelper()
		r := csm(dir, "servmgr", "--state", state, "--time", logTime, "--password-file", pwFile, line)
		Expect(r.code).To(Equal(0), "%s\n%s%s", line, r.stdout, r.stderr)
		return r.stdout
	}
	staging := func() string { return filepath.Join(root, "cms", "mdisk", "CSMSERVE.0191") }
	extentFiles := func() []string {
		GinkgoHelper()
		names, err := extents.Names(staging())
		Expect(err).NotTo(HaveOccurred())
		return names
	}
	curl := func(args ...string) *exec.Cmd {
		return exec.Command("curl", append([]string{"-sS", "--netrc-file", netrc}, args...)...)
	}

	BeforeAll(func() {
		state = newPrincipal()
		dir = filepath.Dir(state)
		pwFile = filepath.Join(dir, "csmwork.pw")
		Expect(os.WriteFile(pwFile, []byte(realPassword+"\n"), 0o600)).To(Succeed())
		netrc = filepath.Join(dir, "netrc")
		Expect(os.WriteFile(netrc, []byte("machine 127.0.0.1 login CSMWORK password "+realPassword+"\n"), 0o600)).To(Succeed())
		smOK(state, "initialize 720")
		smOK(state, "srvlvl add 720 L1 basedon BASE nonesm")
		smOK(state, "srvlvl service 720 L1 all rsu0801")
		ok(csm(dir, "fixtures", "gen", "--state", state, "--kind", "rsu", "--name", "BIGENV", "--scale", "large", "--parts", "4"))
		smOK(state, "srvlvl add 720 L2 basedon L1 nonesm")
		smOK(state, "srvlvl service 720 L2 all bigenv")
		smOK(state, "srvlvl package 720 L2")
		smOK(state, "srvlvl setlock 720 L2 on")
		root = filepath.Join(dir, "vm01")
		ok(csm(dir, "node", "init", "--root", root, "--system", "VM01", "--state", state, "--level", "L1"))
		node, port = serveNode(root, pwFile)
		smw("system add 720 vm01 L1 nonesm hostname 127.0.0.1 commtype ftp (port " + port + " norequire)")
	})

	It("leaves no stray extent when the node is killed while it receives a SERVLINK", func() {
		servlink, err := os.ReadFile(filepath.Join(state, "cms", "sfs", "VMPSFS", "CSM720", "L2", "PACKAGE", "CMS.SERVLINK"))
		Expect(err).NotTo(HaveOccurred())
		up := curl("-T", "-", "ftp://127.0.0.1:"+port+"/CMS.SERVLINK")
		in, err := up.StdinPipe()
		Expect(err).NotTo(HaveOccurred())
		up.Stdout, up.Stderr = GinkgoWriter, GinkgoWriter
		Expect(up.Start()).To(Succeed())
		_, err = in.Write(servlink[:len(servlink)/2])
		Expect(err).NotTo(HaveOccurred())
		Eventually(extentFiles, 10*time.Second).ShouldNot(BeEmpty(), "the node splits the stream as it arrives")

		node.Signal(syscall.SIGKILL)
		Eventually(node, 10*time.Second).Should(gexec.Exit())
		_ = in.Close()
		_ = up.Wait()
		Expect(extentFiles()).NotTo(BeEmpty(), "killed, it left its extents")

		serveNode(root, pwFile, "--listen", "127.0.0.1:"+port) // where the principal knows it
		Expect(extentFiles()).To(BeEmpty(), "restarted alone in its state, the node tidied them")
	})

	It("links the parts it received into MAINT720's file space, and serves the SERVLINK back byte for byte", func() {
		serveNode(root, pwFile, "--listen", "127.0.0.1:"+port) // each spec's node stops when the spec ends
		Expect(smw("srvlvl send 720 L2 all (test")).To(ContainSubstring("1 of 1 systems succeeded"))
		got := filepath.Join(dir, "CMS.SERVLINK.back")
		Expect(curl("-o", got, "ftp://127.0.0.1:"+port+"/CMS.SERVLINK").Run()).To(Succeed())
		want, err := os.ReadFile(filepath.Join(state, "cms", "sfs", "VMPSFS", "CSM720", "L2", "PACKAGE", "CMS.SERVLINK"))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.ReadFile(got)).To(Equal(want))

		fi, err := os.Stat(filepath.Join(staging(), "CMS.SERVLINK"))
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Sys().(*syscall.Stat_t).Blocks*512).To(BeNumerically("<", fi.Size()/4), "the staged SERVLINK holds only what is not a part")

		linked := 0
		Expect(filepath.WalkDir(filepath.Join(root, "cms", "sfs", "VMPSFS", "MAINT720"), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err == nil && info.Sys().(*syscall.Stat_t).Nlink == 2 {
				linked++
			}
			return err
		})).To(Succeed())
		Expect(linked).To(BeNumerically(">=", 4), "BIGENV's four large parts at least")
	})
})
