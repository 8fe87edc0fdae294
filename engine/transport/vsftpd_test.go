package transport_test

import (
	"fmt"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// vsftpdUser is who vsftpd's password-checked logins are: vsftpd takes
// "anonymous" (and "ftp") as its anonymous user.
const vsftpdUser = "anonymous"

// startVsftpd starts Debian's vsftpd on loopback, in the foreground
// (listen=YES, background=NO), with a configuration file of its own. make
// deps unpacks vsftpd rather than installing it (Debian's package
// conflicts with pure-ftpd's), so no vsftpd service runs beside it.
//
// vsftpd checks a local user's password through PAM against the host's
// users, and a virtual one's through a PAM service in /etc/pam.d: either
// would change the host. Its anonymous login with secure_email_list_enable
// does not: it lets in only a password listed in email_password_file, a
// file of the spec's, so a wrong password is refused (530) as a local
// user's would be. Anonymous sessions run as the system user ftp
// (ftp_username; make deps creates it as the package does) and are always
// chrooted; vsftpd refuses a chroot root the user can write
// (allow_writeable_chroot applies to local users only), so uploads go to
// the directory up/ in it.
func startVsftpd(password string) *realServer {
	GinkgoHelper()
	server := lookTool("vsftpd", "vsftpd")
	ftp, err := osuser.Lookup("ftp")
	Expect(err).NotTo(HaveOccurred(), "vsftpd's anonymous sessions run as the user ftp: make deps creates it, as the package vsftpd does")
	// vsftpd changes to the user's home before its chroot to anon_root
	Expect(ftp.HomeDir).To(BeADirectory(), "the home of the user ftp, which vsftpd changes to: make deps creates it")
	uid, _ := strconv.Atoi(ftp.Uid)
	gid, _ := strconv.Atoi(ftp.Gid)
	dir, root := serverDirs("vsftpd-", "up", uid)
	empty := filepath.Join(dir, "empty") // secure_chroot_dir: an empty directory the unprivileged parts chroot to
	Expect(os.Mkdir(empty, 0o755)).To(Succeed())
	pwFile := filepath.Join(dir, "email_passwords")
	Expect(os.WriteFile(pwFile, []byte(password+"\n"), 0o600)).To(Succeed())

	s := &realServer{name: "vsftpd", host: "127.0.0.1", port: freePort(), user: vsftpdUser, password: password,
		upload: "up/", locked: "locked/", full: "full/", root: root}
	lo, hi := passivePorts()
	conf := strings.Join([]string{
		"listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1", fmt.Sprintf("listen_port=%d", s.port),
		"background=NO",
		"anonymous_enable=YES", "local_enable=NO",
		"ftp_username=ftp", "anon_root=" + root,
		"no_anon_password=NO", "secure_email_list_enable=YES", "email_password_file=" + pwFile,
		"write_enable=YES", "anon_upload_enable=YES", "anon_mkdir_write_enable=NO",
		// overwrite, resume (REST+STOR) and delete: what CSMWORK does in staging
		"anon_other_write_enable=YES",
		"anon_umask=022", "anon_world_readable_only=NO",
		"secure_chroot_dir=" + empty,
		"pasv_enable=YES", fmt.Sprintf("pasv_min_port=%d", lo), fmt.Sprintf("pasv_max_port=%d", hi),
		// active mode, data from any port: port 20 would be shared by every
		// vsftpd of every spec run at once
		"port_enable=YES", "connect_from_port_20=NO",
		// the kernel features these use may be denied in a container
		"seccomp_sandbox=NO", "isolate=NO", "isolate_network=NO",
		"xferlog_enable=NO", "syslog_enable=NO", "vsftpd_log_file=" + filepath.Join(dir, "vsftpd.log"),
		"tcp_wrappers=NO", "hide_ids=YES",
	}, "\n") + "\n"
	cfg := filepath.Join(dir, "vsftpd.conf")
	// written by root, the user running vsftpd, as it wants its
	// configuration file to be
	Expect(os.WriteFile(cfg, []byte(conf), 0o600)).To(Succeed())
	serve(s, filepath.Join(root, "full"), uid, gid, server, cfg)
	return s
}
