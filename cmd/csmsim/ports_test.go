package main_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// Issue 12, item 14: CSMSERVE on 4535 sends active-mode data from 4534.
var _ = Describe("csmsim node serve's data port, the control port minus one", func() {
	var dir, root, pwFile string
	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		root = filepath.Join(dir, "vm01")
		pwFile = filepath.Join(dir, "csmwork.pw")
		Expect(os.WriteFile(pwFile, []byte(realPassword+"\n"), 0o600)).To(Succeed())
		ok(csm(dir, "node", "init", "--root", root, "--system", "VM01"))
	})

	It("sends active-mode data to Python ftplib from the port below its control port, by default", func() {
		node, port := serveNode(root, pwFile)
		control, err := strconv.Atoi(port)
		Expect(err).NotTo(HaveOccurred())

		python, err := exec.LookPath("python3")
		Expect(err).NotTo(HaveOccurred(), "python3 is missing; run make deps")
		cmd := exec.Command(python, "-c", `
import ftplib, io, os
f = ftplib.FTP()
f.connect("127.0.0.1", int(os.environ["FTP_PORT"]), timeout=10)
f.login("CSMWORK", os.environ["FTP_PASS"])
f.set_pasv(False)
conn, _ = f.ntransfercmd("STOR ACTIVE.TEST")
print("STOR from", conn.getpeername()[1])
conn.sendall(b"active mode\n")
conn.close()
print(f.voidresp())
conn, _ = f.ntransfercmd("RETR ACTIVE.TEST")
print("RETR from", conn.getpeername()[1])
print(conn.makefile("rb").read())
conn.close()
print(f.voidresp())
f.quit()
`)
		cmd.Env = append(os.Environ(), "FTP_PORT="+port, "FTP_PASS="+realPassword)
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(string(out)).To(Equal(fmt.Sprintf("STOR from %d\n226 Closing transfer connection\nRETR from %d\nb'active mode\\n'\n226 Closing transfer connection\n", control-1, control-1)))
		Expect(string(node.Out.Contents())).To(ContainSubstring(fmt.Sprintf("active-mode data from port %d", control-1)))
	})

	It("refuses a port whose data port is taken, saying how to go on, and serves it with --active-from-data-port=false", func() {
		var held net.Listener
		control := 0
		for range 20 { // a port held by another program, with the port above it free
			l, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			p := l.Addr().(*net.TCPAddr).Port
			if probe, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1)); err == nil {
				Expect(probe.Close()).To(Succeed())
				held, control = l, p+1
				break
			}
			Expect(l.Close()).To(Succeed())
		}
		Expect(held).NotTo(BeNil())
		defer held.Close()
		listen := fmt.Sprintf("127.0.0.1:%d", control)
		refused, err := gexec.Start(exec.Command(csmsim, "node", "serve", "--root", root, "--listen", listen, "--password-file", pwFile),
			GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { refused.Kill().Wait(5 * time.Second) })
		Eventually(refused, 10*time.Second).Should(gexec.Exit(), "a node whose data port is taken must not serve")
		fails(result{code: refused.ExitCode(), stdout: string(refused.Out.Contents()), stderr: string(refused.Err.Contents())},
			fmt.Sprintf("listening on %s: active-mode data port %d (the control port minus one) cannot be bound: bind: address already in use; free port %d, or send active-mode data from any port with --active-from-data-port=false",
				listen, control-1, control-1))

		s, err := gexec.Start(exec.Command(csmsim, "node", "serve", "--root", root, "--listen", listen, "--password-file", pwFile,
			"--active-from-data-port=false"), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { s.Kill().Wait(5 * time.Second) })
		Eventually(s.Out, 10*time.Second).Should(gbytes.Say(`CSMSERVE of VM01 listening on ` + listen + `; active-mode data from any port`))
	})
})
