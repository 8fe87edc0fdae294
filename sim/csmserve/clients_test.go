package csmserve_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/csmserve"
)

// Real, third-party FTP clients against a simulated CSMSERVE.
var _ = Describe("CSMSERVE with real FTP clients", func() {
	var (
		n    *node
		tmp  string
		src  string
		body = "PROFILE EXEC from a real client\n"
	)
	BeforeEach(func() {
		n = startNode(csmserve.Config{})
		tmp = GinkgoT().TempDir()
		src = filepath.Join(tmp, "profile.exec")
		Expect(os.WriteFile(src, []byte(body), 0o644)).To(Succeed())
	})

	Describe("curl", func() {
		var curl string
		BeforeEach(func() { curl = tool("curl", "curl") })
		auth := func(user string) []string {
			return []string{"-sS", "--max-time", "20", "-u", user + ":" + password}
		}

		It("uploads, lists, downloads and sends SITE CSMAGENT as CSMWORK", func() {
			_, errOut, code := run(30*time.Second, curl, append(auth("csmwork"), "-T", src, n.url("profile.exec"))...)
			Expect(code).To(Equal(0), errOut)
			// names are folded to upper case
			Expect(os.ReadFile(filepath.Join(n.dir, "PROFILE.EXEC"))).To(BeEquivalentTo(body))

			out, errOut, code := run(30*time.Second, curl, append(auth("CSMWORK"), "-l", n.url(""))...)
			Expect(code).To(Equal(0), errOut)
			Expect(strings.Fields(out)).To(Equal([]string{"PROFILE.EXEC"}))

			dst := filepath.Join(tmp, "back")
			_, errOut, code = run(30*time.Second, curl, append(auth("CSMWORK"), "-o", dst, n.url("PROFILE.EXEC"))...)
			Expect(code).To(Equal(0), errOut)
			Expect(os.ReadFile(dst)).To(BeEquivalentTo(body))

			_, errOut, code = run(30*time.Second, curl, append(auth("CSMWORK"), "-v", "-l", "-Q", "SITE CSMAGENT INFO", n.url(""))...)
			Expect(code).To(Equal(0), errOut)
			Expect(errOut).To(ContainSubstring("< 200 CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL - MANAGED NO"))
			Expect(n.agent.Calls()).To(ContainElement("INFO"))
		})

		It("is refused for other users, a wrong password and anonymous (530)", func() {
			for _, args := range [][]string{
				append(auth("MAINT"), "-l", n.url("")),
				{"-sS", "--max-time", "20", "-u", "CSMWORK:not-the-password", "-l", n.url("")},
				{"-sS", "--max-time", "20", "-l", n.url("")}, // anonymous
				{"-sS", "--max-time", "20", "-u", "anonymous:guest@", "-l", n.url("")},
			} {
				_, errOut, code := run(30*time.Second, curl, args...)
				Expect(code).To(Equal(67), "curl %v: %s", args, errOut) // CURLE_LOGIN_DENIED
				Expect(errOut).To(ContainSubstring("530"))
			}
			Expect(n.agent.Calls()).To(BeEmpty())
		})

		It("refuses escapes out of the staging area (550)", func() {
			outside := filepath.Join(tmp, "outside")
			Expect(os.Mkdir(outside, 0o755)).To(Succeed())
			raw := append(auth("CSMWORK"), "--path-as-is", "--ftp-method", "nocwd")
			for _, p := range []string{"../../" + outside[1:] + "/X.Y", "SUB/X.Y", "../../etc/passwd"} {
				_, errOut, code := run(30*time.Second, curl, append(raw, "-T", src, n.url(p))...)
				Expect(code).NotTo(Equal(0), p)
				Expect(errOut).To(ContainSubstring("550"), p)
			}
			_, errOut, code := run(30*time.Second, curl, append(raw, "-v", "-o", filepath.Join(tmp, "pw"), n.url("../../etc/passwd"))...)
			Expect(code).To(Equal(78)) // CURLE_REMOTE_FILE_NOT_FOUND, curl's reading of 550
			Expect(errOut).To(ContainSubstring("< 550"))
			Expect(filepath.Join(tmp, "pw")).NotTo(BeAnExistingFile())
			Expect(os.ReadDir(outside)).To(BeEmpty())
			Expect(os.ReadDir(n.dir)).To(BeEmpty())

			_, errOut, code = run(30*time.Second, curl, append(auth("CSMWORK"), "-Q", "SITE CHMOD 777 PROFILE.EXEC", "-l", n.url(""))...)
			Expect(code).NotTo(Equal(0))
			Expect(errOut).To(ContainSubstring("502"))
		})
	})

	// A system added with REQUIRE is reached over FTPS only: the node
	// (csmserve.Config RequireTLS, node serve --tls-cert --tls-key) wants
	// AUTH TLS before the login, and curl, told so (--ssl-reqd), checks its
	// certificate against the CA, as the principal's transport does.
	Describe("curl with FTPS (AUTH TLS), for systems added with REQUIRE", func() {
		var (
			curl string
			ca   pki
			tn   *node
		)
		BeforeEach(func() {
			curl = tool("curl", "curl")
			ca = newPKI(tmp, "ftps")
			tn = startNode(csmserve.Config{TLS: ca.serverTLS, RequireTLS: true})
		})
		// curlFTPS runs curl -v with FTPS required; the password curl -v
		// shows in PASS is blanked out of what it printed
		curlFTPS := func(args ...string) (string, string, int) {
			GinkgoHelper()
			out, errOut, code := run(30*time.Second, curl,
				append([]string{"-sS", "-v", "--max-time", "20", "--ssl-reqd", "--cacert", ca.caFile, "-u", "CSMWORK:" + password}, args...)...)
			return out, strings.ReplaceAll(errOut, password, "********"), code
		}

		It("logs in as CSMWORK over TLS, checking the node's certificate, and uploads, lists and downloads with the data protected (PROT P)", func() {
			_, errOut, code := curlFTPS("-T", src, tn.url("profile.exec"))
			Expect(code).To(Equal(0), errOut)
			// curl asks AUTH SSL first, the older name, which the node
			// takes as AUTH TLS
			Expect(errOut).To(MatchRegexp(`> AUTH (TLS|SSL)\s+(?:[{}*].*\s+)*< 234 `))
			Expect(errOut).To(MatchRegexp(`SSL connection using TLSv1\.[23]`))
			Expect(errOut).To(ContainSubstring("SSL certificate verify ok"))
			// PROT P accepted: the next reply, past curl's own lines ({, }, *)
			Expect(errOut).To(MatchRegexp(`> PROT P\s+(?:[{}*].*\s+)*< 200 `))
			Expect(strings.Index(errOut, "> AUTH ")).To(BeNumerically("<", strings.Index(errOut, "> USER CSMWORK")), "TLS before the login")
			Expect(os.ReadFile(filepath.Join(tn.dir, "PROFILE.EXEC"))).To(BeEquivalentTo(body))

			out, errOut, code := curlFTPS("-l", tn.url(""))
			Expect(code).To(Equal(0), errOut)
			Expect(strings.Fields(out)).To(Equal([]string{"PROFILE.EXEC"}))
			dst := filepath.Join(tmp, "back")
			_, errOut, code = curlFTPS("-o", dst, tn.url("PROFILE.EXEC"))
			Expect(code).To(Equal(0), errOut)
			Expect(os.ReadFile(dst)).To(BeEquivalentTo(body))
		})

		It("is refused a plaintext login, before CSMWORK's password is sent", func() {
			_, errOut, code := run(30*time.Second, curl, "-sS", "-v", "--max-time", "20", "-u", "CSMWORK:"+password, "-T", src, tn.url("PROFILE.EXEC"))
			errOut = strings.ReplaceAll(errOut, password, "********")
			Expect(code).NotTo(Equal(0), errOut)
			Expect(errOut).To(MatchRegexp(`< 421 .*TLS`))
			Expect(errOut).NotTo(ContainSubstring("> PASS"))
			Expect(os.ReadDir(tn.dir)).To(BeEmpty())
		})

		It("is refused by curl when the node's certificate is not one the CA signed", func() {
			other := newPKI(tmp, "other")
			_, errOut, code := run(30*time.Second, curl, "-sS", "--max-time", "20", "--ssl-reqd", "--cacert", other.caFile,
				"-u", "CSMWORK:"+password, "-T", src, tn.url("PROFILE.EXEC"))
			Expect(code).To(Equal(60), errOut) // CURLE_PEER_FAILED_VERIFICATION
			Expect(os.ReadDir(tn.dir)).To(BeEmpty())
		})
	})

	Describe("lftp", func() {
		var lftp string
		BeforeEach(func() { lftp = tool("lftp", "lftp") })
		script := func(user, commands string) string {
			return fmt.Sprintf("set net:max-retries 1; set net:timeout 10; set ftp:ssl-allow no; set cmd:fail-exit yes; "+
				"open -u %s,%s -p %d %s; %s", user, password, n.port, n.host, commands)
		}

		It("puts, gets and quotes SITE CSMAGENT as CSMWORK", func() {
			dst := filepath.Join(tmp, "got")
			out, errOut, code := run(40*time.Second, lftp, "-c", script("CSMWORK",
				fmt.Sprintf("put %s -o LFTP.TXT; get LFTP.TXT -o %s; cls -1; quote SITE CSMAGENT LOAD VM010802_BLD2 TEST", src, dst)))
			GinkgoWriter.Println(out + errOut)
			Expect(code).To(Equal(0), out+errOut)
			Expect(os.ReadFile(filepath.Join(n.dir, "LFTP.TXT"))).To(BeEquivalentTo(body))
			Expect(os.ReadFile(dst)).To(BeEquivalentTo(body))
			Expect(out + errOut).To(ContainSubstring("LFTP.TXT"))
			Expect(out + errOut).To(ContainSubstring("200 CSMAGENT JOB 1 STARTED"))
			Expect(n.agent.Calls()).To(ContainElement("LOAD VM010802_BLD2 TEST"))
		})

		It("is refused for another user (530)", func() {
			out, errOut, code := run(40*time.Second, lftp, "-c", script("MAINT720", "cls -1"))
			Expect(code).NotTo(Equal(0))
			Expect(out + errOut).To(ContainSubstring("530"))
		})
	})

	Describe("Python ftplib", func() {
		var python string
		BeforeEach(func() { python = tool("python3", "python3") })
		py := func(script string, env ...string) (string, int) {
			GinkgoHelper()
			args := []string{"-c", script}
			out, errOut, code := runEnv(40*time.Second, append(env,
				"FTP_HOST="+n.host, fmt.Sprintf("FTP_PORT=%d", n.port), "FTP_PASS="+password), python, args...)
			return out + errOut, code
		}

		It("stores, lists, retrieves and sends SITE as CSMWORK", func() {
			out, code := py(`
import ftplib, io, os
f = ftplib.FTP()
f.connect(os.environ["FTP_HOST"], int(os.environ["FTP_PORT"]), timeout=10)
f.login("csmwork", os.environ["FTP_PASS"])
f.storbinary("STOR csmpkg.manifest", io.BytesIO(b"manifest\n"))
print("NLST", f.nlst())
buf = io.BytesIO()
f.retrbinary("RETR CSMPKG.MANIFEST", buf.write)
print("RETR", buf.getvalue())
print("SIZE", f.size("CSMPKG.MANIFEST"))
print("SITE", f.sendcmd("SITE CSMAGENT INFO"))
print("STATUS", f.sendcmd("SITE CSMAGENT status 1"))
try:
    f.sendcmd("SITE CSMAGENT PUT2PROD VM010802_BLD2")
except ftplib.error_temp as e:
    print("TEMP", e)
try:
    f.sendcmd("SITE CSMAGENT QUERY")
except ftplib.error_perm as e:
    print("REFUSED", e)
try:
    f.sendcmd("SITE CSMAGENT FROB")
except ftplib.error_perm as e:
    print("PERM", e)
print("DELE", f.delete("CSMPKG.MANIFEST"))
print("NLST2", f.nlst())
f.quit()
`)
			Expect(code).To(Equal(0), out)
			Expect(out).To(ContainSubstring("NLST ['CSMPKG.MANIFEST']"))
			Expect(out).To(ContainSubstring(`RETR b'manifest\n'`))
			Expect(out).To(ContainSubstring("SIZE 9"))
			Expect(out).To(ContainSubstring("SITE 200 CSMAGENT SYSTEM VM01"))
			Expect(out).To(ContainSubstring("STATUS 200 CSMAGENT JOB 1 ENDED RC=0"))
			Expect(out).To(ContainSubstring("TEMP 450 CSMAGENT BUSY JOB 1"))
			Expect(out).To(ContainSubstring("REFUSED 550 CSMAGENT CSM3163E Job 7 is not known on system VM01"))
			// a malformed request never reaches the agent: CSMSERVE answers it
			Expect(out).To(ContainSubstring("PERM 501 CSMAGENT unknown request FROB; INFO, MANAGE, "))
			Expect(n.agent.Calls()).To(Equal([]string{"INFO", "STATUS 1", "PUT2PROD VM010802_BLD2", "QUERY"}))
			Expect(out).To(ContainSubstring("NLST2 []"))
		})

		It("is refused for other users, a wrong password and anonymous (530)", func() {
			out, code := py(`
import ftplib, os
for user, pw in [("MAINT", os.environ["FTP_PASS"]), ("CSMWORK", "wrong"), ("anonymous", "guest@"), ("CSMWORK", "")]:
    f = ftplib.FTP()
    f.connect(os.environ["FTP_HOST"], int(os.environ["FTP_PORT"]), timeout=10)
    try:
        f.login(user, pw)
        print("LOGGED-IN", user)
    except ftplib.error_perm as e:
        print("REFUSED", user, str(e)[:3])
`)
			Expect(code).To(Equal(0), out)
			Expect(out).NotTo(ContainSubstring("LOGGED-IN"))
			Expect(strings.Count(out, " 530")).To(Equal(4), out)
		})

		It("refuses every escape attempt with 550 and leaves the outside untouched", func() {
			outside := filepath.Join(tmp, "outside")
			Expect(os.Mkdir(outside, 0o755)).To(Succeed())
			secret := filepath.Join(outside, "secret.txt")
			Expect(os.WriteFile(secret, []byte("secret"), 0o644)).To(Succeed())
			Expect(os.Symlink(secret, filepath.Join(n.dir, "LINK.OUT"))).To(Succeed())
			Expect(os.Symlink(filepath.Join(outside, "new.txt"), filepath.Join(n.dir, "DANGLE.OUT"))).To(Succeed())
			Expect(os.Symlink(outside, filepath.Join(n.dir, "DIR.LINK"))).To(Succeed())
			Expect(os.Mkdir(filepath.Join(n.dir, "SUB.DIR"), 0o755)).To(Succeed())

			out, code := py(`
import ftplib, io, os
f = ftplib.FTP()
f.connect(os.environ["FTP_HOST"], int(os.environ["FTP_PORT"]), timeout=10)
f.login("CSMWORK", os.environ["FTP_PASS"])
out = os.environ["OUTSIDE"]
names = ["../x", "../../etc/passwd", "/../../etc/passwd", "a/b", "../.." + out + "/new.txt",
         out + "/new.txt", "LINK.OUT", "DANGLE.OUT", "DIR.LINK/new.txt", "SUB.DIR", "SUB.DIR/X.Y",
         "A B.C", "A\x00.B", "NODOT", ".MINIDISK", "TOOLONGNAME.EXEC", "A.B.C"]
for n in names:
    for cmd in ("STOR", "RETR", "DELE", "SIZE"):
        try:
            if cmd == "STOR":
                r = f.storbinary("STOR " + n, io.BytesIO(b"escape"))
            elif cmd == "RETR":
                r = f.retrbinary("RETR " + n, lambda b: None)
            else:
                r = f.sendcmd(cmd + " " + n)
            print("ACCEPTED", cmd, repr(n), r)
        except ftplib.error_perm as e:
            print("REFUSED", cmd, repr(n), str(e)[:3])
for cmd in ("MKD NEWDIR", "XMKD NEWDIR", "RMD SUB.DIR", "CWD SUB.DIR", "CWD ../..", "SITE SYMLINK " + out + " L.L",
            "SITE CHMOD 777 LINK.OUT", "SITE MKDIR X", "XSHA256 ../../etc/passwd", "XSHA256 LINK.OUT", "MLST LINK.OUT"):
    try:
        print("ACCEPTED", repr(cmd), f.sendcmd(cmd))
    except ftplib.error_perm as e:
        print("REFUSED", repr(cmd), str(e)[:3])
try:
    f.sendcmd("RNFR LINK.OUT"); print("ACCEPTED RNFR")
except ftplib.error_perm as e:
    print("REFUSED RNFR", str(e)[:3])
f.storbinary("STOR OK.FILE", io.BytesIO(b"ok"))
try:
    f.sendcmd("RNFR OK.FILE"); f.sendcmd("RNTO ../.." + out + "/escaped.txt"); print("ACCEPTED RNTO")
except ftplib.error_perm as e:
    print("REFUSED RNTO", str(e)[:3])
print("PWD", f.pwd())
print("NLST", sorted(f.nlst()))
f.quit()
`, "OUTSIDE="+outside)
			GinkgoWriter.Println(out)
			Expect(code).To(Equal(0), out)
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if strings.HasPrefix(line, "PWD") || strings.HasPrefix(line, "NLST") {
					continue
				}
				if strings.HasPrefix(line, "ACCEPTED 'CWD ../..'") {
					continue // cleaned to "/": the root, as in a chroot
				}
				Expect(line).To(MatchRegexp(`^REFUSED .* (550|502|553)$`))
			}
			Expect(out).To(ContainSubstring("PWD /"))
			Expect(out).To(ContainSubstring("NLST ['OK.FILE']"))
			Expect(os.ReadFile(secret)).To(BeEquivalentTo("secret"))
			Expect(os.ReadDir(outside)).To(HaveLen(1))
			Expect(filepath.Join(outside, "escaped.txt")).NotTo(BeAnExistingFile())
		})
	})
})
