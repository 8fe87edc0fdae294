package csmserve_test

import (
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// ctl is a bare FTP control connection, for specs that need the exact
// reply to each command.
type ctl struct {
	*textproto.Conn
	raw  net.Conn
	host string
}

// dialCtl connects to n and returns the connection and its greeting.
func dialCtl(n *node) (*ctl, int, string) {
	GinkgoHelper()
	raw, err := net.DialTimeout("tcp", n.srv.Addr(), 5*time.Second)
	Expect(err).NotTo(HaveOccurred())
	Expect(raw.SetDeadline(time.Now().Add(20 * time.Second))).To(Succeed())
	c := &ctl{Conn: textproto.NewConn(raw), raw: raw, host: n.host}
	DeferCleanup(func() { _ = c.Close() }) // the node may have closed it
	code, text, err := c.ReadResponse(0)
	Expect(err).NotTo(HaveOccurred())
	return c, code, text
}

// loggedIn is a control connection logged in as CSMWORK.
func loggedIn(n *node) *ctl {
	GinkgoHelper()
	c, code, _ := dialCtl(n)
	Expect(code).To(Equal(220))
	c.login(password)
	return c
}

func (c *ctl) login(pw string) {
	GinkgoHelper()
	code, text := c.cmd("USER CSMWORK")
	Expect(code).To(Equal(331), text)
	code, text = c.cmd("PASS " + pw)
	Expect(code).To(Equal(230), text)
}

// cmd sends one command and reads its reply, whatever its code.
func (c *ctl) cmd(line string) (int, string) {
	GinkgoHelper()
	Expect(c.PrintfLine("%s", line)).To(Succeed())
	code, text, err := c.ReadResponse(0)
	Expect(err).NotTo(HaveOccurred(), "reply to %q", line)
	return code, text
}

// data opens a passive data connection (EPSV).
func (c *ctl) data() net.Conn {
	GinkgoHelper()
	code, text := c.cmd("EPSV")
	Expect(code).To(Equal(229), text)
	_, rest, ok := strings.Cut(text, "(|||")
	Expect(ok).To(BeTrue(), text)
	port, err := strconv.Atoi(strings.TrimSuffix(rest, "|)"))
	Expect(err).NotTo(HaveOccurred(), text)
	d, err := net.DialTimeout("tcp", net.JoinHostPort(c.host, strconv.Itoa(port)), 5*time.Second)
	Expect(err).NotTo(HaveOccurred())
	Expect(d.SetDeadline(time.Now().Add(20 * time.Second))).To(Succeed())
	return d
}

// upload sends body with cmd ("STOR A.B", "APPE A.B") and returns the
// final reply (or the first one, when the node refuses at once).
func (c *ctl) upload(cmd string, body []byte) (int, string) {
	GinkgoHelper()
	d := c.data()
	defer d.Close()
	code, text := c.cmd(cmd)
	if code/100 != 1 {
		return code, text
	}
	_, _ = d.Write(body) // a node that refuses may close the data connection early
	Expect(d.Close()).To(Succeed())
	code, text, err := c.ReadResponse(0)
	Expect(err).NotTo(HaveOccurred(), "final reply to %q", cmd)
	return code, text
}

// retr fetches a file: the final reply and the bytes.
func (c *ctl) retr(name string) (int, string, []byte) {
	GinkgoHelper()
	d := c.data()
	defer d.Close()
	code, text := c.cmd("RETR " + name)
	if code/100 != 1 {
		return code, text, nil
	}
	body, _ := io.ReadAll(d)
	code, text, err := c.ReadResponse(0)
	Expect(err).NotTo(HaveOccurred())
	return code, text, body
}

// nlst lists the staging area's names.
func (c *ctl) nlst() []string {
	GinkgoHelper()
	d := c.data()
	defer d.Close()
	code, text := c.cmd("NLST")
	Expect(code).To(Equal(150), text)
	body, err := io.ReadAll(d)
	Expect(err).NotTo(HaveOccurred())
	code, text, err = c.ReadResponse(0)
	Expect(err).NotTo(HaveOccurred())
	Expect(code).To(Equal(226), text)
	return strings.Fields(string(body))
}

// closed says whether the node has closed the connection: the next read
// gets EOF (or a reset) rather than a timeout.
func (c *ctl) closed() bool {
	_ = c.raw.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	defer c.raw.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := c.R.ReadByte()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

// portArg is the PORT argument for ip:port.
func portArg(ip net.IP, port int) string {
	v4 := ip.To4()
	return fmt.Sprintf("%d,%d,%d,%d,%d,%d", v4[0], v4[1], v4[2], v4[3], port>>8, port&0xff)
}
