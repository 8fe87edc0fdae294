package transport_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// pureFTPd is a real FTP server (Debian's pure-ftpd) started for a test
// on loopback, with one virtual user in a PureDB file of its own. It needs
// root: the virtual user's files belong to uid 65534 (nobody).
type pureFTPd struct {
	host string
	port int
	home string // the user's directory, chrooted
	cmd  *exec.Cmd
	out  *syncBuffer
}

const virtualUID = 65534

func lookTool(name, debPackage string) string {
	GinkgoHelper()
	p, err := exec.LookPath(name)
	if err != nil {
		p = filepath.Join("/usr/sbin", name)
		if _, serr := os.Stat(p); serr != nil {
			Fail(fmt.Sprintf("%s is not installed: install the Debian package %s (make deps)", name, debPackage))
		}
	}
	return p
}

func startPureFTPd(user, password string) *pureFTPd {
	GinkgoHelper()
	server := lookTool("pure-ftpd", "pure-ftpd")
	purePw := lookTool("pure-pw", "pure-ftpd")
	openssl := lookTool("openssl", "openssl")
	if os.Geteuid() != 0 {
		Fail("the pure-ftpd specs run as root: pure-ftpd's virtual user owns its files as uid 65534")
	}
	dir, err := os.MkdirTemp("", "pureftpd-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	Expect(os.Chmod(dir, 0o755)).To(Succeed())
	home := filepath.Join(dir, "home")
	Expect(os.Mkdir(home, 0o755)).To(Succeed())
	Expect(os.Chown(home, virtualUID, virtualUID)).To(Succeed())

	// A SHA-512 crypt hash (openssl passwd -6) checks in milliseconds; the
	// argon2 hash pure-pw makes by default takes seconds per login.
	hashCmd := exec.Command(openssl, "passwd", "-6", "-stdin")
	hashCmd.Stdin = strings.NewReader(password + "\n")
	out, err := hashCmd.Output()
	Expect(err).NotTo(HaveOccurred())
	hash := strings.TrimSpace(string(out))
	passwd := filepath.Join(dir, "pureftpd.passwd")
	line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::\n", user, hash, virtualUID, virtualUID, home)
	Expect(os.WriteFile(passwd, []byte(line), 0o600)).To(Succeed())
	pdb := filepath.Join(dir, "pureftpd.pdb")
	mk := exec.Command(purePw, "mkdb", pdb, "-f", passwd)
	b, err := mk.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "pure-pw mkdb: %s", b)

	port := freePort()
	lo := 40000 + int(time.Now().UnixNano()%10000)
	p := &pureFTPd{host: "127.0.0.1", port: port, home: home, out: &syncBuffer{}}
	p.cmd = exec.Command(server,
		"-S", fmt.Sprintf("127.0.0.1,%d", port),
		"-l", "puredb:"+pdb,
		"-E", // no anonymous
		"-A", // chroot everyone
		"-H", // no DNS
		"-p", fmt.Sprintf("%d:%d", lo, lo+200),
		"-g", filepath.Join(dir, "pure-ftpd.pid"),
		"-Y", "0", // no TLS
	)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	Expect(p.cmd.Start()).To(Succeed())
	exited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(exited) }()
	DeferCleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-exited
		}
	})
	Eventually(func() error {
		select {
		case <-exited:
			StopTrying("pure-ftpd exited: " + p.out.String()).Now()
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}).WithTimeout(10 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	return p
}

func freePort() int {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	port := l.Addr().(*net.TCPAddr).Port
	Expect(l.Close()).To(Succeed())
	return port
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
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
