package transport_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
)

// realServer is a real FTP server (pure-ftpd, vsftpd) a spec started on
// loopback with a configuration of its own, and what the shared specs
// (realServerSpecs) need to know of it. It runs as root in a mount
// namespace of its own, where a 1 MiB tmpfs is its full directory: the
// mount ends with it.
type realServer struct {
	name     string // the program, for messages
	host     string
	port     int
	user     string // who logs in
	password string
	upload   string // the directory uploads go to, as the server names it: "" or "up/"
	locked   string // a directory the user may not write into, as the server names it
	full     string // a directory on the 1 MiB tmpfs, as the server names it
	root     string // the server's "/" on this host
	cmd      *exec.Cmd
	out      *gbytes.Buffer
}

func (s *realServer) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// path is name in the upload directory, as the server names it.
func (s *realServer) path(name string) string { return s.upload + name }

// local is the file the server wrote for name (as it names it).
func (s *realServer) local(name string) string {
	return filepath.Join(s.root, filepath.FromSlash(name))
}

// top is the first element of a server path: what a listing of "/" shows
// of it.
func (s *realServer) top(name string) string {
	first, _, _ := strings.Cut(path.Clean(name), "/")
	return first
}

// lookTool finds an outside program; a missing one fails the spec with the
// Debian package that brings it (make deps installs it), it is never
// skipped. Servers live in /usr/sbin, or /usr/local/sbin where make deps
// links vsftpd, which need not be on PATH.
func lookTool(name, debPackage string) string {
	GinkgoHelper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	Fail(fmt.Sprintf("%s is not installed: install the Debian package %s (make deps)", name, debPackage))
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// serverDirs makes a server's directories under a new temp dir, removed
// when the spec ends: root, with root/<upload> owned by owner (the user's
// files are written as owner), and root/locked and root/full owned by
// root, not writable by the user; the server's tmpfs covers full.
func serverDirs(prefix, upload string, owner int) (dir, root string) {
	GinkgoHelper()
	if os.Geteuid() != 0 {
		Fail("the real FTP server specs run as root: the servers chroot and change users, and mount a tmpfs for the disk-full spec")
	}
	dir, err := os.MkdirTemp("", prefix)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	Expect(os.Chmod(dir, 0o755)).To(Succeed())
	root = filepath.Join(dir, "root")
	Expect(os.Mkdir(root, 0o755)).To(Succeed())
	for _, d := range []string{"locked", "full"} {
		Expect(os.Mkdir(filepath.Join(root, d), 0o755)).To(Succeed())
	}
	up := filepath.Join(root, upload)
	if upload != "" {
		Expect(os.Mkdir(up, 0o755)).To(Succeed())
	}
	Expect(os.Chown(up, owner, owner)).To(Succeed())
	return dir, root
}

// serve starts a server program (argv) with a 1 MiB tmpfs mounted on
// full, owned by uid, in a mount namespace of its own (unshare), waits
// until it accepts connections on port, and stops it (SIGTERM, then
// SIGKILL) and waits for it when the spec ends.
func serve(s *realServer, full string, uid, gid int, argv ...string) {
	GinkgoHelper()
	unshare := lookTool("unshare", "util-linux")
	lookTool("mount", "mount")
	// sh mounts, then becomes the server: the server is the process
	// started, and the mount goes with its namespace when it exits
	script := `mount -t tmpfs -o size=1m,mode=0755,uid=` + strconv.Itoa(uid) + `,gid=` + strconv.Itoa(gid) + ` tmpfs "$1" && shift && exec "$@"`
	s.out = gbytes.NewBuffer()
	s.cmd = exec.Command(unshare, append([]string{"--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", full}, argv...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	Expect(s.cmd.Start()).To(Succeed())
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	DeferCleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-exited
		}
	})
	Eventually(func() error {
		select {
		case <-exited:
			StopTrying(s.name + " exited: " + string(s.out.Contents())).Now()
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}).WithTimeout(10*time.Second).WithPolling(50*time.Millisecond).Should(Succeed(), "%s on %s", s.name, s.addr())
}

// passivePorts is a range of 200 ports for a server's passive mode, one
// per start, so that servers started at once rarely share one.
func passivePorts() (lo, hi int) {
	lo = 40000 + int(time.Now().UnixNano()%10000)
	return lo, lo + 200
}

func freePort() int {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	port := l.Addr().(*net.TCPAddr).Port
	Expect(l.Close()).To(Succeed())
	return port
}

func itoa(i int) string { return strconv.Itoa(i) }

// listenSilent accepts connections on a loopback port and never answers.
func listenSilent() int {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(l.Close)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			DeferCleanup(c.Close)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}
