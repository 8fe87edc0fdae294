package transport_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// virtualUID owns pure-ftpd's virtual user's files: nobody.
const virtualUID = 65534

// startPureFTPd starts Debian's pure-ftpd on loopback with one virtual
// user in a PureDB file of its own, chrooted to its home, which is the
// upload directory.
func startPureFTPd(user, password string) *realServer {
	GinkgoHelper()
	server := lookTool("pure-ftpd", "pure-ftpd")
	purePw := lookTool("pure-pw", "pure-ftpd")
	openssl := lookTool("openssl", "openssl")
	dir, root := serverDirs("pureftpd-", "", virtualUID)

	// A SHA-512 crypt hash (openssl passwd -6) checks in milliseconds; the
	// argon2 hash pure-pw makes by default takes seconds per login.
	hashCmd := exec.Command(openssl, "passwd", "-6", "-stdin")
	hashCmd.Stdin = strings.NewReader(password + "\n")
	out, err := hashCmd.Output()
	Expect(err).NotTo(HaveOccurred())
	hash := strings.TrimSpace(string(out))
	passwd := filepath.Join(dir, "pureftpd.passwd")
	line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::\n", user, hash, virtualUID, virtualUID, root)
	Expect(os.WriteFile(passwd, []byte(line), 0o600)).To(Succeed())
	pdb := filepath.Join(dir, "pureftpd.pdb")
	mk := exec.Command(purePw, "mkdb", pdb, "-f", passwd)
	b, err := mk.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "pure-pw mkdb: %s", b)

	s := &realServer{name: "pure-ftpd", host: "127.0.0.1", port: freePort(), user: user, password: password,
		upload: "", locked: "locked/", full: "full/", root: root}
	lo, hi := passivePorts()
	serve(s, filepath.Join(root, "full"), virtualUID, virtualUID, server,
		"-S", fmt.Sprintf("127.0.0.1,%d", s.port),
		"-l", "puredb:"+pdb,
		"-E", // no anonymous
		"-A", // chroot everyone
		"-H", // no DNS
		"-p", fmt.Sprintf("%d:%d", lo, hi),
		"-g", filepath.Join(dir, "pure-ftpd.pid"),
		"-Y", "0", // no TLS
	)
	return s
}
