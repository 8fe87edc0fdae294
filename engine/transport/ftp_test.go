package transport_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/transport"
)

const (
	user     = "csmwork"
	password = "Real-Server-Pw-4711"
)

var _ = Describe("transport.FTP against a real FTP server (pure-ftpd)", Ordered, ContinueOnFailure, func() {
	var (
		srv *pureFTPd
		ctx context.Context
		log *syncBuffer
	)
	BeforeAll(func() {
		srv = startPureFTPd(user, password)
	})
	BeforeEach(func() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
		DeferCleanup(cancel)
		log = &syncBuffer{}
		DeferCleanup(func() {
			Expect(log.String()).NotTo(ContainSubstring(password), "the password is in the transport log")
		})
	})
	target := func() transport.Target {
		return transport.Target{System: "VM09", Host: srv.host, Port: srv.port, User: user, Password: password}
	}
	dial := func(opts transport.FTPOptions) *transport.FTPConn {
		GinkgoHelper()
		opts.Logger, opts.Debug = log, true
		c, err := transport.NewFTP(opts).Dial(ctx, target())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		return c.(*transport.FTPConn)
	}

	It("puts, lists and gets, verifying by size when the server has no SHA-256 command (VerifyAuto)", func() {
		c := dial(transport.FTPOptions{VerifyBy: transport.VerifyAuto})
		Expect(c.Features()).NotTo(HaveKey("XSHA256"))
		data := make([]byte, 5<<20+17)
		rand.NewChaCha8([32]byte{9}).Read(data)
		Expect(c.Put(ctx, "BIG.FILE", bytes.NewReader(data), int64(len(data)))).To(Succeed())
		res := c.LastPut()
		Expect(res.VerifiedBy).To(Equal("SIZE"))
		Expect(res.Warning).To(ContainSubstring("no SHA-256 command"))
		Expect(log.String()).To(ContainSubstring("warning: the node offers no SHA-256 command"))
		sum := sha256.Sum256(data)
		Expect(res.SHA256).To(Equal(hex.EncodeToString(sum[:])))
		Expect(os.ReadFile(filepath.Join(srv.home, "BIG.FILE"))).To(Equal(data))

		Expect(c.Put(ctx, "small.txt", strings.NewReader("hello\n"), 6)).To(Succeed())
		names, err := c.List(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(Equal([]string{"BIG.FILE", "small.txt"}))

		h := sha256.New()
		Expect(c.Get(ctx, "BIG.FILE", h)).To(Succeed())
		Expect(hex.EncodeToString(h.Sum(nil))).To(Equal(res.SHA256))
		var small strings.Builder
		Expect(c.Get(ctx, "small.txt", &small)).To(Succeed())
		Expect(small.String()).To(Equal("hello\n"))
	})

	It("refuses to call a file verified when SHA-256 is required (the default) and the server lacks it", func() {
		c := dial(transport.FTPOptions{})
		err := c.Put(ctx, "NOHASH.TXT", strings.NewReader("x"), 1)
		Expect(err).To(MatchError(And(
			HavePrefix("VM09 (127.0.0.1:"+itoa(srv.port)+"): put NOHASH.TXT: cannot verify: the node offers no SHA-256 command"),
			ContainSubstring("VerifyBy Auto or Size"))))
	})

	It("verifies by size only when asked to, without a warning", func() {
		c := dial(transport.FTPOptions{VerifyBy: transport.VerifySize})
		Expect(c.Put(ctx, "SIZED.TXT", strings.NewReader("four"), 4)).To(Succeed())
		Expect(c.LastPut().VerifiedBy).To(Equal("SIZE"))
		Expect(c.LastPut().Warning).To(BeEmpty())
	})

	It("reports a source shorter than announced", func() {
		c := dial(transport.FTPOptions{VerifyBy: transport.VerifySize})
		err := c.Put(ctx, "SHORT.TXT", strings.NewReader("abc"), 10)
		Expect(err).To(MatchError(ContainSubstring("put SHORT.TXT: the source gave 3 bytes, not the 10 announced")))
	})

	It("passes SITE replies back, multi-line ones joined", func() {
		c := dial(transport.FTPOptions{})
		code, text, err := c.Site(ctx, "HELP")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(214))
		Expect(strings.Count(text, "\n")).To(BeNumerically(">=", 1))
		code, _, err = c.Site(ctx, "CSMAGENT INFO")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(BeNumerically(">=", 500))
		_, _, err = c.Site(ctx, "CSMAGENT INFO\r\nDELE BIG.FILE")
		Expect(err).To(MatchError(ContainSubstring("line break")))
	})

	It("says 530 and names the user, never the password, on a wrong password", func() {
		wrong := "Not-The-Password-123"
		t := target()
		t.Password = wrong
		_, err := transport.NewFTP(transport.FTPOptions{Logger: log, Debug: true}).Dial(ctx, t)
		Expect(err).To(MatchError(HavePrefix("VM09 (127.0.0.1:" + itoa(srv.port) + "): login as csmwork refused: 530")))
		Expect(err.Error()).NotTo(ContainSubstring(wrong))
		Expect(log.String()).NotTo(ContainSubstring(wrong))
		Expect(log.String()).To(ContainSubstring("PASS ******"))
	})

	It("gets a missing file as a 550 error, and the session goes on", func() {
		c := dial(transport.FTPOptions{})
		err := c.Get(ctx, "NO.SUCH", io.Discard)
		var te *transport.Error
		Expect(errors.As(err, &te)).To(BeTrue())
		Expect(te.Code).To(Equal(550))
		Expect(te.System).To(Equal("VM09"))
		_, err = c.List(ctx)
		Expect(err).NotTo(HaveOccurred())
	})
})

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
