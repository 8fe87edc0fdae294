package transport_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/csmsim/csmsim/engine/transport"
)

const (
	user     = "csmwork"
	password = "Real-Server-Pw-4711"
)

// The transport against FTP servers csmsim did not write, each started by
// the spec on loopback: the same specs for each (realServerSpecs).
var _ = Describe("transport.FTP against a real FTP server: pure-ftpd", Ordered, ContinueOnFailure, func() {
	realServerSpecs(func() *realServer { return startPureFTPd(user, password) })
})

var _ = Describe("transport.FTP against a real FTP server: vsftpd", Ordered, ContinueOnFailure, func() {
	realServerSpecs(func() *realServer { return startVsftpd(password) })
})

// realServerSpecs are the specs of the transport against one real server,
// which start starts once for them all. Neither pure-ftpd nor vsftpd
// knows XSHA256 or HASH: files are verified by reading them back or by
// SIZE, as chosen for the system (VM09).
func realServerSpecs(start func() *realServer) {
	var (
		srv *realServer
		ctx context.Context
		log *gbytes.Buffer
	)
	BeforeAll(func() {
		srv = start()
	})
	BeforeEach(func() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
		DeferCleanup(cancel)
		log = gbytes.NewBuffer()
		DeferCleanup(func() {
			Expect(string(log.Contents())).NotTo(ContainSubstring(srv.password), "the password is in the transport log")
		})
	})
	target := func(port int) transport.Target {
		return transport.Target{System: "VM09", Host: srv.host, Port: port, User: srv.user, Password: srv.password}
	}
	// dialAt logs in to the server, or to a proxy in front of it, at port.
	dialAt := func(port int, opts transport.FTPOptions) *transport.FTPConn {
		GinkgoHelper()
		opts.Logger, opts.Debug = log, true
		c, err := transport.NewFTP(opts).Dial(ctx, target(port))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		return c.(*transport.FTPConn)
	}
	dial := func(opts transport.FTPOptions) *transport.FTPConn {
		GinkgoHelper()
		return dialAt(srv.port, opts)
	}
	verifyVM09 := func(m transport.VerifyMode) map[string]transport.VerifyMode {
		return map[string]transport.VerifyMode{"vm09": m} // any case
	}

	DescribeTable("puts a multi-MiB file, verified as chosen for the system, and gets it back",
		func(active bool, verify transport.VerifyMode, verifiedBy, dataCommand string) {
			c := dial(transport.FTPOptions{Active: active, VerifyFor: verifyVM09(verify)})
			data := payload(5<<20+17, 9)
			name := srv.path(fmt.Sprintf("BIG%d%t.FILE", verify, active))
			Expect(c.Put(ctx, name, bytes.NewReader(data), int64(len(data)))).To(Succeed())
			res := c.LastPut()
			Expect(res.VerifiedBy).To(Equal(verifiedBy))
			Expect(res.Attempts).To(Equal(1))
			Expect(res.SHA256).To(Equal(sha(data)))
			Expect(os.ReadFile(srv.local(name))).To(Equal(data), "the file %s wrote", srv.name)
			Expect(string(log.Contents())).To(MatchRegexp(dataCommand))
			if active {
				Expect(string(log.Contents())).NotTo(ContainSubstring("sending command EPSV"))
				Expect(string(log.Contents())).NotTo(ContainSubstring("sending command PASV"))
			}

			h := sha256.New()
			Expect(c.Get(ctx, name, h)).To(Succeed())
			Expect(hex.EncodeToString(h.Sum(nil))).To(Equal(res.SHA256))
			names, err := c.List(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(names).To(ContainElement(srv.top(name)))
		},
		Entry("passive (EPSV), read back", false, transport.VerifyReadback, "READBACK", `sending command EPSV`),
		Entry("passive (EPSV), by size", false, transport.VerifySize, "SIZE", `sending command EPSV`),
		Entry("active (PORT), read back", true, transport.VerifyReadback, "READBACK", `sending command PORT 127,0,0,1,\d+,\d+`),
		Entry("active (PORT), by size", true, transport.VerifySize, "SIZE", `sending command PORT 127,0,0,1,\d+,\d+`),
	)

	// A wave's deadline can pass while a reply is on its way; the reply
	// still arrives whole, and the transport must not take it as leave to
	// go on: on a simulated link every command after it would be charged.
	Describe("once the context has ended, sends the server nothing more, even when the reply in flight arrives", func() {
		It("while logging in: FEAT's reply comes, and the dial fails with the context's error", func() {
			p := startProxy(srv.addr())
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			feats := 0 // goftp asks for the features as it logs in; the transport asks again
			p.onCommand("FEAT", func() {
				if feats++; feats == 2 {
					cancel()
				}
			})
			c, err := transport.NewFTP(transport.FTPOptions{Logger: log}).Dial(cctx, target(p.port))
			if err == nil {
				c.Close()
			}
			Expect(err).To(MatchError(ContainSubstring("FEAT: context canceled")))
			Consistently(p.sent, 300*time.Millisecond).Should(HaveExactElements("USER", "PASS", "FEAT", "FEAT"))
		})

		It("in an upload: TYPE's reply comes, and no EPSV or STOR follows", func() {
			p := startProxy(srv.addr())
			c := dialAt(p.port, transport.FTPOptions{VerifyFor: verifyVM09(transport.VerifySize)})
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			p.onCommand("TYPE", cancel)
			data := payload(64<<10, 4)
			err := c.Put(cctx, srv.path("LATE.FILE"), bytes.NewReader(data), int64(len(data)))
			Expect(err).To(MatchError(ContainSubstring("context canceled")))
			Consistently(p.sent, 300*time.Millisecond).Should(HaveExactElements("USER", "PASS", "FEAT", "FEAT", "TYPE"))
		})
	})

	DescribeTable("resumes an upload whose connection was cut half-way at the byte the server has, and ends with the same file",
		func(active bool) {
			p := startProxy(srv.addr())
			name := srv.path(fmt.Sprintf("CUT%t.FILE", active))
			const cut = 3<<20 + 12345
			p.cutOnce(name, cut)
			c := dialAt(p.port, transport.FTPOptions{Active: active, VerifyFor: verifyVM09(transport.VerifyReadback)})
			data := payload(8<<20, 2)
			Expect(c.Put(ctx, name, bytes.NewReader(data), int64(len(data)))).To(Succeed())
			Expect(p.cutCount()).To(Equal(1), "the proxy cut the session")
			res := c.LastPut()
			Expect(res.Attempts).To(Equal(2))
			Expect(res.Resumed).To(HaveLen(1))
			Expect(res.Resumed[0]).To(BeNumerically(">", 0))
			Expect(res.Resumed[0]).To(BeNumerically("<=", cut))
			Expect(string(log.Contents())).To(ContainSubstring("attempt 2 of 4, resuming at byte %d", res.Resumed[0]))
			Expect(string(log.Contents())).To(ContainSubstring("sending command REST %d", res.Resumed[0]))
			Expect(res.VerifiedBy).To(Equal("READBACK"))
			Expect(res.SHA256).To(Equal(sha(data)))
			Expect(os.ReadFile(srv.local(name))).To(Equal(data))
		},
		Entry("passive", false),
		Entry("active", true),
	)

	It("catches a byte damaged on the way by reading the file back, naming both sums; SIZE alone cannot see it", func() {
		p := startProxy(srv.addr())
		name := srv.path("DAMAGED.FILE")
		p.flip(name, 1000)
		data := payload(1<<20, 3)
		damaged := bytes.Clone(data)
		damaged[1000] ^= 0xff

		c := dialAt(p.port, transport.FTPOptions{VerifyFor: verifyVM09(transport.VerifyReadback)})
		err := c.Put(ctx, name, bytes.NewReader(data), int64(len(data)))
		Expect(err).To(MatchError(fmt.Sprintf("VM09 (127.0.0.1:%d): put %s: SHA-256 mismatch: sent %s, read back %s; "+
			"the file was damaged on the way or on the node; send it again", p.port, name, sha(data), sha(damaged))))
		Expect(os.ReadFile(srv.local(name))).To(Equal(damaged), "%s has the damaged copy", srv.name)

		s := dialAt(p.port, transport.FTPOptions{VerifyFor: verifyVM09(transport.VerifySize)})
		Expect(s.Put(ctx, name, bytes.NewReader(data), int64(len(data)))).To(Succeed())
		Expect(s.LastPut().VerifiedBy).To(Equal("SIZE"))
	})

	It("fails a Put verified by SHA-256 (the default) when the server does not know XSHA256, naming its reply and the other choices", func() {
		name := srv.path("NOHASH.TXT")
		c := dial(transport.FTPOptions{})
		err := c.Put(ctx, name, strings.NewReader("x"), 1)
		Expect(err).To(MatchError(And(
			MatchRegexp(`^VM09 \(127\.0\.0\.1:%d\): put %s: XSHA256: 50[024] \S`, srv.port, regexp.QuoteMeta(name)),
			ContainSubstring("; the node computes no SHA-256 (neither XSHA256 nor HASH), so this file is not verified: "+
				"choose readback (read each file back and hash it) or size (SIZE only) for VM09, e.g. servmgr --verify VM09=readback"))))
		var te *transport.Error
		Expect(errors.As(err, &te)).To(BeTrue())
		Expect(te.Temporary()).To(BeFalse())
		Expect(string(log.Contents())).To(ContainSubstring("sending command XSHA256 " + name))

		// the choice is per system: VM09 is read back, VM08 on the same
		// transport keeps the default
		tr := transport.NewFTP(transport.FTPOptions{VerifyFor: verifyVM09(transport.VerifyReadback), Logger: log})
		vm09, err := tr.Dial(ctx, target(srv.port))
		Expect(err).NotTo(HaveOccurred())
		defer vm09.Close()
		Expect(vm09.Put(ctx, name, strings.NewReader("x"), 1)).To(Succeed())
		Expect(vm09.(*transport.FTPConn).LastPut().VerifiedBy).To(Equal("READBACK"))
		t := target(srv.port)
		t.System = "VM08"
		vm08, err := tr.Dial(ctx, t)
		Expect(err).NotTo(HaveOccurred())
		defer vm08.Close()
		Expect(vm08.Put(ctx, name, strings.NewReader("x"), 1)).To(MatchError(ContainSubstring("VM08 (127.0.0.1:%d): put %s: XSHA256: 50", srv.port, name)))
	})

	It("says the server refused to create a file where the user may not write, at once, with what to check", func() {
		c := dial(transport.FTPOptions{VerifyFor: verifyVM09(transport.VerifySize)})
		name := srv.locked + "X.Y"
		err := c.Put(ctx, name, strings.NewReader("x"), 1)
		Expect(err).To(MatchError(MatchRegexp(`^VM09 \(127\.0\.0\.1:%d\): put %s: 55[03] .+; the node refused to create the file: check that %s may write it there$`,
			srv.port, regexp.QuoteMeta(name), srv.user)))
		var te *transport.Error
		Expect(errors.As(err, &te)).To(BeTrue())
		Expect(te.Temporary()).To(BeFalse())
		Expect(strings.Count(string(log.Contents()), "sending command STOR "+name)).To(Equal(1), "a refusal is not retried")
		Expect(filepath.Join(srv.root, "locked", "X.Y")).NotTo(BeAnExistingFile())
		Expect(c.Put(ctx, srv.path("AFTER.DENIED"), strings.NewReader("x"), 1)).To(Succeed(), "the session goes on")
	})

	It("says the server's disk is full, in the server's words, with what to check", func() {
		c := dial(transport.FTPOptions{VerifyFor: verifyVM09(transport.VerifySize), Retries: 1})
		name := srv.full + "BIG.FILE"
		data := payload(2<<20, 4)
		err := c.Put(ctx, name, bytes.NewReader(data), int64(len(data)))
		Expect(err).To(MatchError(MatchRegexp(`^VM09 \(127\.0\.0\.1:%d\): put %s: (451|452|552) .+; the node (could not write the file; a full disk or a quota does that: check the node's free space|has no room for the file: free space there \(or enlarge its disk\), then send it again)$`,
			srv.port, regexp.QuoteMeta(name))))
		Expect(err.Error()).NotTo(ContainSubstring("connection reset"))
	})

	It("says 530 and names the user, never the password, on a wrong password", func() {
		wrong := "Not-The-Password-123"
		t := target(srv.port)
		t.Password = wrong
		_, err := transport.NewFTP(transport.FTPOptions{Logger: log, Debug: true}).Dial(ctx, t)
		Expect(err).To(MatchError(HavePrefix("VM09 (127.0.0.1:" + itoa(srv.port) + "): login as " + srv.user + " refused: 530")))
		Expect(err.Error()).To(ContainSubstring("check the user and its password"))
		Expect(err.Error()).NotTo(ContainSubstring(wrong))
		Expect(string(log.Contents())).NotTo(ContainSubstring(wrong))
		Expect(string(log.Contents())).To(ContainSubstring("PASS ******"))
	})

	It("reports a source shorter than announced", func() {
		c := dial(transport.FTPOptions{VerifyFor: verifyVM09(transport.VerifySize)})
		name := srv.path("SHORT.TXT")
		err := c.Put(ctx, name, strings.NewReader("abc"), 10)
		Expect(err).To(MatchError(ContainSubstring("put " + name + ": the source gave 3 bytes, not the 10 announced")))
	})

	It("passes SITE replies back, and refuses arguments with a line break", func() {
		c := dial(transport.FTPOptions{})
		code, text, err := c.Site(ctx, "HELP")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(BeNumerically(">=", 200))
		Expect(text).NotTo(BeEmpty())
		code, _, err = c.Site(ctx, "CSMAGENT INFO")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(BeNumerically(">=", 500))
		_, _, err = c.Site(ctx, "CSMAGENT INFO\r\nDELE BIG.FILE")
		Expect(err).To(MatchError(ContainSubstring("line break")))
	})

	It("gets a missing file as a 550 error, and the session goes on", func() {
		c := dial(transport.FTPOptions{})
		err := c.Get(ctx, srv.path("NO.SUCH"), io.Discard)
		var te *transport.Error
		Expect(errors.As(err, &te)).To(BeTrue())
		Expect(te.Code).To(Equal(550))
		Expect(te.System).To(Equal("VM09"))
		_, err = c.List(ctx)
		Expect(err).NotTo(HaveOccurred())
	})
}

// payload is n deterministic pseudo-random bytes.
func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var _ = Describe("transport.FTP errors without a server", func() {
	ctx := context.Background()

	It("names host:port when nothing listens there", func() {
		port := freePort()
		_, err := transport.NewFTP(transport.FTPOptions{}).Dial(ctx, transport.Target{
			System: "VM01", Host: "127.0.0.1", Port: port, User: "CSMWORK", Password: "secret-pw"})
		Expect(err).To(MatchError("VM01 (127.0.0.1:" + itoa(port) + "): connect: connection refused; is CSMSERVE running and listening there?"))
		var te *transport.Error
		Expect(errors.As(err, &te)).To(BeTrue())
		Expect(te.Temporary()).To(BeTrue())
	})

	It("refuses an impossible port", func() {
		_, err := transport.NewFTP(transport.FTPOptions{}).Dial(ctx, transport.Target{System: "VM01", Host: "127.0.0.1", Port: 0})
		Expect(err).To(MatchError(ContainSubstring("VM01 (127.0.0.1:0): connect: invalid port 0")))
	})

	It("times out on a host that never answers, naming it", func() {
		// a listener that accepts but never greets
		l := listenSilent()
		_, err := transport.NewFTP(transport.FTPOptions{Timeout: 300 * time.Millisecond}).Dial(ctx, transport.Target{
			System: "VM03", Host: "127.0.0.1", Port: l, User: "CSMWORK", Password: "secret-pw"})
		Expect(err).To(MatchError(And(HavePrefix("VM03 (127.0.0.1:"+itoa(l)+"): connect: timed out"), Not(ContainSubstring("secret-pw")))))
	})

	It("honours the context while connecting", func() {
		l := listenSilent()
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := transport.NewFTP(transport.FTPOptions{Timeout: 10 * time.Second}).Dial(cctx, transport.Target{
			System: "VM03", Host: "127.0.0.1", Port: l})
		Expect(err).To(MatchError(ContainSubstring("context deadline exceeded")))
		Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
	})

	It("formats its errors as system (host:port): op: code detail; hint", func() {
		e := &transport.Error{System: "VM01", Addr: "h:1", Op: "put A.B", Code: 550, Detail: "refused", Hint: "check it"}
		Expect(e.Error()).To(Equal("VM01 (h:1): put A.B: 550 refused; check it"))
		Expect(e.Temporary()).To(BeFalse())
		Expect((&transport.Error{Code: 451}).Temporary()).To(BeTrue())
	})
})
