package csmserve_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/csmserve"
)

// Issue 12, item 14: the seed reserves ports 4534 and 4535; as FTP's 20
// is 21's data port, CSMSERVE on 4535 sends active-mode data from 4534.
var _ = Describe("active-mode data from the data port, the control port minus one", func() {
	// activeFTPLib stores, lists and retrieves a file in active mode (PORT)
	// with Python's ftplib, FTP_TLS with PROT P when a CA is given, and
	// prints the port each data connection came from.
	const activeFTPLib = `
import ftplib, io, os, ssl
host, port, ca = os.environ["FTP_HOST"], int(os.environ["FTP_PORT"]), os.environ.get("FTP_CA")
if ca:
    f = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=ca))
else:
    f = ftplib.FTP()
f.connect(host, port, timeout=10)
f.login("CSMWORK", os.environ["FTP_PASS"])
if ca:
    f.prot_p()
f.set_pasv(False)
def transfer(cmd, body=None):
    conn, _ = f.ntransfercmd(cmd)
    peer = conn.getpeername()[1]
    if body is None:
        data = b""
        while True:
            b = conn.recv(65536)
            if not b:
                break
            data += b
    else:
        conn.sendall(body)
        data = body
    if ca:
        conn.unwrap()
    conn.close()
    print(cmd.split()[0], "from", peer, "reply", f.voidresp()[:3], "bytes", len(data))
    return data
body = os.urandom(300000)
transfer("STOR CSMPKG.MANIFEST", body)
print("NLST", transfer("NLST").split())
print("SAME", transfer("RETR CSMPKG.MANIFEST") == body)
f.quit()
`
	py := func(n *node, env ...string) string {
		GinkgoHelper()
		out, errOut, code := runEnv(60*time.Second, append(env,
			"FTP_HOST="+n.host, fmt.Sprintf("FTP_PORT=%d", n.port), "FTP_PASS="+password),
			tool("python3", "python3"), "-c", activeFTPLib)
		Expect(code).To(Equal(0), out+errOut)
		return out
	}

	It("connects to Python ftplib (PORT) from the control port minus one, for STOR, NLST and RETR", func() {
		n := startNode(csmserve.Config{ActiveFromDataPort: true})
		Expect(n.srv.DataPort()).To(Equal(n.port - 1))
		out := py(n)
		from := fmt.Sprintf("from %d reply 226", n.port-1)
		Expect(out).To(ContainSubstring("STOR " + from + " bytes 300000"))
		Expect(out).To(ContainSubstring("NLST " + from))
		Expect(out).To(ContainSubstring("RETR " + from + " bytes 300000"))
		Expect(out).To(ContainSubstring("NLST [b'CSMPKG.MANIFEST']"))
		Expect(out).To(ContainSubstring("SAME True"))
		st, err := os.Stat(filepath.Join(n.dir, "CSMPKG.MANIFEST"))
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Size()).To(BeEquivalentTo(300000))
	})

	It("carries FTPS data (PROT P) the same way", func() {
		p := newPKI(GinkgoT().TempDir(), "active")
		n := startNode(csmserve.Config{ActiveFromDataPort: true, TLS: p.serverTLS, RequireTLS: true})
		out := py(n, "FTP_CA="+p.caFile)
		Expect(out).To(ContainSubstring(fmt.Sprintf("STOR from %d reply 226 bytes 300000", n.port-1)))
		Expect(out).To(ContainSubstring(fmt.Sprintf("RETR from %d reply 226 bytes 300000", n.port-1)))
		Expect(out).To(ContainSubstring("SAME True"))
	})

	It("connects to an EPRT address from the data port too, and still only to the client's own address", func() {
		n := startNode(csmserve.Config{ActiveFromDataPort: true})
		c := loggedIn(n)
		code, text := c.upload("STOR A.B", []byte("eprt"))
		Expect(code).To(Equal(226), text)
		for _, cmd := range []string{"EPRT |1|127.0.0.2|4000|", "PORT " + portArg(net.ParseIP("10.1.2.3"), 4000), "EPRT |1|127.0.0.1|1023|"} {
			code, text := c.cmd(cmd)
			Expect(code).To(Equal(501), "%s: %s", cmd, text)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer l.Close()
		code, text = c.cmd(fmt.Sprintf("EPRT |1|127.0.0.1|%d|", l.Addr().(*net.TCPAddr).Port))
		Expect(code).To(Equal(200), text)
		code, text = c.cmd("RETR A.B")
		Expect(code).To(Equal(150), text)
		d, err := l.Accept()
		Expect(err).NotTo(HaveOccurred())
		Expect(d.RemoteAddr().(*net.TCPAddr).Port).To(Equal(n.port - 1))
		body, err := io.ReadAll(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(body)).To(Equal("eprt"))
		code, text, err = c.ReadResponse(0)
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(226), text)
	})

	It("sends the data of several sessions from the data port at once", func() {
		n := startNode(csmserve.Config{ActiveFromDataPort: true})
		type open struct {
			c *ctl
			d net.Conn
		}
		var opens []open
		for i := range 3 {
			c := loggedIn(n)
			name := fmt.Sprintf("S%d.DATA", i)
			code, text := c.upload("STOR "+name, []byte(name))
			Expect(code).To(Equal(226), text)
			l, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			defer l.Close()
			code, text = c.cmd("PORT " + portArg(net.ParseIP("127.0.0.1"), l.Addr().(*net.TCPAddr).Port))
			Expect(code).To(Equal(200), text)
			code, text = c.cmd("RETR " + name)
			Expect(code).To(Equal(150), text)
			d, err := l.Accept()
			Expect(err).NotTo(HaveOccurred())
			Expect(d.RemoteAddr().(*net.TCPAddr).Port).To(Equal(n.port - 1))
			opens = append(opens, open{c, d})
		}
		for i, o := range opens { // all three open at once, from one port
			body, err := io.ReadAll(o.d)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(body)).To(Equal(fmt.Sprintf("S%d.DATA", i)))
			code, text, err := o.c.ReadResponse(0)
			Expect(err).NotTo(HaveOccurred())
			Expect(code).To(Equal(226), text)
		}
	})

	It("answers 425 naming the port when the data port has been taken since, and passive mode still works", func() {
		n := startNode(csmserve.Config{ActiveFromDataPort: true})
		taken, err := net.Listen("tcp", net.JoinHostPort(n.host, strconv.Itoa(n.port-1)))
		Expect(err).NotTo(HaveOccurred())
		defer taken.Close()
		c := loggedIn(n)
		code, text := c.upload("STOR A.B", []byte("passive"))
		Expect(code).To(Equal(226), text)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer l.Close()
		code, text = c.cmd("PORT " + portArg(net.ParseIP("127.0.0.1"), l.Addr().(*net.TCPAddr).Port))
		Expect(code).To(Equal(200), text)
		code, text = c.cmd("RETR A.B")
		Expect(code).To(Equal(425), text)
		Expect(text).To(ContainSubstring(fmt.Sprintf("cannot open the data connection from port %d to %s", n.port-1, l.Addr())))
		Expect(text).To(ContainSubstring("address already in use"))
		code, _, body := c.retr("A.B")
		Expect(code).To(Equal(226))
		Expect(string(body)).To(Equal("passive"))
	})

	It("refuses to start on a port whose data port cannot be bound, and picks a free pair for port 0", func() {
		var held net.Listener
		var control int
		for range 20 { // a held port whose next port is free
			l, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			p := l.Addr().(*net.TCPAddr).Port
			if probe, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+1))); err == nil {
				Expect(probe.Close()).To(Succeed())
				held, control = l, p+1
				break
			}
			l.Close()
		}
		Expect(held).NotTo(BeNil())
		defer held.Close()
		srv, err := csmserve.New(csmserve.Config{Fs: afero.NewMemMapFs(), Password: password, ListenAddr: fmt.Sprintf("127.0.0.1:%d", control), ActiveFromDataPort: true, System: "VM01"})
		Expect(err).NotTo(HaveOccurred())
		err = srv.Start()
		Expect(err).To(MatchError(fmt.Sprintf("csmserve VM01: listening on 127.0.0.1:%d: active-mode data port %d (the control port minus one) cannot be bound: bind: address already in use", control, control-1)))
		// the control port was given back
		probe, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", control))
		Expect(err).NotTo(HaveOccurred())
		Expect(probe.Close()).To(Succeed())

		// without the option the same port serves, its data from any port
		n := startNode(csmserve.Config{ListenAddr: fmt.Sprintf("127.0.0.1:%d", control)})
		Expect(n.srv.DataPort()).To(BeZero())
		Expect(strings.HasSuffix(n.srv.Addr(), fmt.Sprint(":", control))).To(BeTrue())
	})
})
