package csmserve_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/sim/csmserve"
)

// The engine's FTP transport against simulated CSMSERVE nodes on loopback.
var _ = Describe("transport.FTP against CSMSERVE", func() {
	var (
		ctx context.Context
		log *gbytes.Buffer
		tr  transport.Transport
	)
	BeforeEach(func() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 45*time.Second)
		DeferCleanup(cancel)
		log = gbytes.NewBuffer()
		tr = transport.NewFTP(transport.FTPOptions{Timeout: 10 * time.Second, Logger: log, Debug: true})
		DeferCleanup(func() {
			Expect(string(log.Contents())).NotTo(ContainSubstring(password), "the password is in the transport log")
		})
	})
	target := func(n *node) transport.Target {
		return transport.Target{System: "VM01", Host: n.host, Port: n.port, User: "CSMWORK", Password: password}
	}
	dial := func(n *node) *transport.FTPConn {
		GinkgoHelper()
		c, err := tr.Dial(ctx, target(n))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		return c.(*transport.FTPConn)
	}

	It("puts, lists, gets and sends SITE CSMAGENT (memory-backed node)", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs()})
		c := dial(n)
		body := []byte(":PART.CMS BUILD DMSNUC TEXT\n")
		Expect(c.Put(ctx, "CSMPKG.MANIFEST", bytes.NewReader(body), int64(len(body)))).To(Succeed())
		Expect(c.LastPut().VerifiedBy).To(Equal("SHA-256"))
		Expect(c.LastPut().Attempts).To(Equal(1))
		sum := sha256.Sum256(body)
		Expect(c.LastPut().SHA256).To(Equal(hex.EncodeToString(sum[:])))
		Expect(c.Put(ctx, "cms.servlink", strings.NewReader("tar"), 3)).To(Succeed())

		names, err := c.List(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(Equal([]string{"CMS.SERVLINK", "CSMPKG.MANIFEST"}))

		var got bytes.Buffer
		Expect(c.Get(ctx, "CSMPKG.MANIFEST", &got)).To(Succeed())
		Expect(got.Bytes()).To(Equal(body))

		code, text, err := c.Site(ctx, "CSMAGENT INFO")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(200))
		Expect(text).To(Equal("CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL - MANAGED NO"))
		code, text, err = c.Site(ctx, "CSMAGENT LOAD VM010802_BLD2 TEST COND VM010102_BLD1")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(200))
		Expect(text).To(Equal("CSMAGENT JOB 1 STARTED"))
		Expect(n.agent.Calls()).To(ContainElement("LOAD VM010802_BLD2 TEST COND VM010102_BLD1"))
		code, text, err = c.Site(ctx, "CSMAGENT load vm010802_bld2 stable")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(200))
		// The fake agent has one job, whatever it is asked.
		Expect(text).To(Equal("CSMAGENT JOB 1 STARTED"))
		Expect(n.agent.Calls()).To(ContainElement("LOAD VM010802_BLD2 STABLE")) // parsed, folded, as the agent gets it
		code, text, err = c.Site(ctx, "CSMAGENT PUT2PROD VM010802_BLD2")
		Expect(err).NotTo(HaveOccurred()) // a reply is not a transport error
		Expect(code).To(Equal(450))
		Expect(text).To(Equal("CSMAGENT BUSY JOB 1"))
		code, _, err = c.Site(ctx, "SYMLINK A B")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(502))
	})

	It("refuses names outside the staging area with 550", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs()})
		c := dial(n)
		err := c.Put(ctx, "../../etc/passwd", strings.NewReader("x"), 1)
		var te *transport.Error
		Expect(errors.As(err, &te)).To(BeTrue())
		Expect(te.Code).To(Equal(550))
		Expect(err.Error()).To(HavePrefix("VM01 (" + n.srv.Addr() + "): put ../../etc/passwd: 550"))
		Expect(c.Get(ctx, "NO.SUCH", io.Discard)).To(MatchError(ContainSubstring("get NO.SUCH: 550")))
		// the session is still usable
		Expect(c.Put(ctx, "OK.FILE", strings.NewReader("x"), 1)).To(Succeed())
	})

	It("streams a 64 MiB file both ways with little memory and a matching SHA-256", func() {
		n := startNode(csmserve.Config{})
		src := randomFile(GinkgoT().TempDir(), 64<<20, 1)
		f, err := os.Open(src)
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		c := dial(n)

		base := heapInuse()
		peak := watchHeap()
		Expect(c.Put(ctx, "CMSNUC.DDRDUMP", f, 64<<20)).To(Succeed())
		h := sha256.New()
		Expect(c.Get(ctx, "CMSNUC.DDRDUMP", h)).To(Succeed())
		top := peak()

		Expect(c.LastPut().VerifiedBy).To(Equal("SHA-256"))
		Expect(c.LastPut().Size).To(BeEquivalentTo(64 << 20))
		Expect(c.LastPut().SHA256).To(Equal(fileSHA(src)))
		Expect(hex.EncodeToString(h.Sum(nil))).To(Equal(c.LastPut().SHA256))
		Expect(fileSHA(filepath.Join(n.dir, "CMSNUC.DDRDUMP"))).To(Equal(c.LastPut().SHA256))
		AddReportEntry("heap in use", map[string]uint64{"before": base, "peak": top})
		Expect(int64(top)-int64(base)).To(BeNumerically("<", 16<<20), "heap grew by %d bytes for a 64 MiB transfer", int64(top)-int64(base))
	})

	It("resumes an upload the node dropped half-way and ends with the right file", func() {
		var cuts atomic.Int32
		n := startNode(csmserve.Config{CutUpload: func(name string) (int64, bool) {
			if name == "CMS.SERVLINK" && cuts.Add(1) == 1 {
				return 3<<20 + 12345, true
			}
			return 0, false
		}})
		src := randomFile(GinkgoT().TempDir(), 8<<20, 2)
		f, err := os.Open(src)
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		c := dial(n)
		Expect(c.Put(ctx, "CMS.SERVLINK", f, 8<<20)).To(Succeed())
		res := c.LastPut()
		Expect(res.Attempts).To(Equal(2))
		Expect(res.Resumed).To(HaveLen(1))
		Expect(res.Resumed[0]).To(BeNumerically(">", 0))
		Expect(res.Resumed[0]).To(BeNumerically("<=", 3<<20+12345))
		Expect(res.VerifiedBy).To(Equal("SHA-256"))
		Expect(fileSHA(filepath.Join(n.dir, "CMS.SERVLINK"))).To(Equal(fileSHA(src)))
		Expect(res.SHA256).To(Equal(fileSHA(src)))
		Expect(string(log.Contents())).To(ContainSubstring("attempt 2 of 4, resuming at byte"))
	})

	It("gives up after its retries and says so", func() {
		n := startNode(csmserve.Config{CutUpload: func(string) (int64, bool) { return 1000, true }})
		c, err := transport.NewFTP(transport.FTPOptions{Timeout: 5 * time.Second, Retries: 2}).Dial(ctx, target(n))
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		err = c.Put(ctx, "A.B", bytes.NewReader(make([]byte, 1<<20)), 1<<20)
		Expect(err).To(MatchError(And(HavePrefix("VM01 ("+n.srv.Addr()+"): put A.B"), ContainSubstring("after 3 attempts"))))
	})

	It("stores an upload with one bit flipped where CorruptUpload says, which the transport's SHA-256 check catches", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs(), CorruptUpload: func(name string) (int64, bool) { return 3, name == "CMS.SERVLINK" }})
		c := dial(n)
		body := []byte("abcdefgh")
		err := c.Put(ctx, "CMS.SERVLINK", bytes.NewReader(body), int64(len(body)))
		Expect(err).To(MatchError(ContainSubstring("SHA-256")))
		var got bytes.Buffer
		Expect(c.Get(ctx, "CMS.SERVLINK", &got)).To(Succeed())
		Expect(got.String()).To(Equal("abceefgh")) // d (0x64) became e (0x65)
		Expect(c.Put(ctx, "OTHER.FILE", bytes.NewReader(body), int64(len(body)))).To(Succeed(), "only the file it names")
	})

	It("reports a SHA-256 mismatch naming the file, the system and both sums", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs(), CorruptUpload: func(string) (int64, bool) { return 0, true }})
		c := dial(n)
		body := []byte("the real content")
		err := c.Put(ctx, "CSMPKG.MANIFEST", bytes.NewReader(body), int64(len(body)))
		sum := sha256.Sum256(body)
		bad := sha256.Sum256([]byte("uhe real content")) // t (0x74) became u (0x75)
		Expect(err).To(MatchError(And(
			HavePrefix("VM01 ("+n.srv.Addr()+"): put CSMPKG.MANIFEST: SHA-256 mismatch"),
			ContainSubstring(hex.EncodeToString(sum[:])),
			ContainSubstring(hex.EncodeToString(bad[:])))))
	})

	It("answers XSHA256 from the hash taken as the file arrived, and hashes a file changed since then again", func() {
		// A disk that damages what it stores: the receipt is of the bytes
		// CSMSERVE received; LOAD's reader, which checks every part's
		// SHA-256 as it reads, is what finds damage done on the disk.
		fs := afero.NewMemMapFs()
		n := startNode(csmserve.Config{Fs: corruptingFs{fs}})
		body := []byte("the real content")
		Expect(dial(n).Put(ctx, "CSMPKG.MANIFEST", bytes.NewReader(body), int64(len(body)))).To(Succeed())
		sum := sha256.Sum256(body)
		c := loggedIn(n)
		code, text := c.cmd("XSHA256 CSMPKG.MANIFEST")
		Expect(code).To(Equal(250), text)
		Expect(text).To(ContainSubstring(hex.EncodeToString(sum[:])))

		// Changed behind CSMSERVE's back (here its time): no receipt, the
		// file as stored is hashed.
		Expect(fs.Chtimes("/CSMPKG.MANIFEST", time.Unix(1, 0), time.Unix(1, 0))).To(Succeed())
		stored := sha256.Sum256([]byte("Xhe real content"))
		code, text = c.cmd("XSHA256 CSMPKG.MANIFEST")
		Expect(code).To(Equal(250), text)
		Expect(text).To(ContainSubstring(hex.EncodeToString(stored[:])))
	})

	It("answers the verifying XSHA256 of a whole upload without reading the file again; an append's file is read", func() {
		fs := &readCounting{Fs: afero.NewMemMapFs(), reads: map[string]int{}}
		n := startNode(csmserve.Config{Fs: fs})
		c := dial(n)
		body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
		Expect(c.Put(ctx, "CMS.SERVLINK", bytes.NewReader(body), int64(len(body)))).To(Succeed())
		Expect(c.LastPut().VerifiedBy).To(Equal("SHA-256"))
		Expect(fs.count("/CMS.SERVLINK")).To(Equal(0), "hashed as it was stored")

		ctl := loggedIn(n)
		code, text := ctl.upload("APPE CMS.SERVLINK", []byte("more"))
		Expect(code).To(Equal(226), text)
		code, text = ctl.cmd("XSHA256 CMS.SERVLINK")
		Expect(code).To(Equal(250), text)
		sum := sha256.Sum256(append(body, "more"...))
		Expect(text).To(ContainSubstring(hex.EncodeToString(sum[:])))
		Expect(fs.count("/CMS.SERVLINK")).To(Equal(1), "an append's file has no receipt: it is read and hashed")
	})

	It("stops a transfer when the context ends, and reconnects for the next operation", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs()})
		c := dial(n)
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		err := c.Put(cctx, "SLOW.FILE", &slowReader{left: 1 << 30}, 1<<30)
		Expect(err).To(MatchError(And(HavePrefix("VM01 ("+n.srv.Addr()+"): put SLOW.FILE"), ContainSubstring("context deadline exceeded"))))
		Expect(c.Put(ctx, "NEXT.FILE", strings.NewReader("next"), 4)).To(Succeed())
		Expect(string(log.Contents())).To(ContainSubstring("reconnecting"))
	})

	It("works in active mode (PORT), the node connecting back from its data port", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs(), ActiveFromDataPort: true})
		c, err := transport.NewFTP(transport.FTPOptions{Timeout: 10 * time.Second, Logger: log, Debug: true, Active: true}).Dial(ctx, target(n))
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		body := bytes.Repeat([]byte("active "), 100000)
		Expect(c.Put(ctx, "CMS.SERVLINK", bytes.NewReader(body), int64(len(body)))).To(Succeed())
		Expect(c.(*transport.FTPConn).LastPut().VerifiedBy).To(Equal("SHA-256"))
		var got bytes.Buffer
		Expect(c.Get(ctx, "CMS.SERVLINK", &got)).To(Succeed())
		Expect(got.Bytes()).To(Equal(body))
		Expect(string(log.Contents())).To(MatchRegexp(`sending command PORT 127,0,0,1,\d+,\d+`))
		Expect(string(log.Contents())).NotTo(ContainSubstring("sending command EPSV"))
	})

	It("uses the configured passive ports", func() {
		lo := freePort()
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs(), PassivePorts: &csmserve.PortRange{Start: lo, End: lo}})
		c := dial(n)
		Expect(c.Put(ctx, "A.B", strings.NewReader("x"), 1)).To(Succeed())
		code, text := rawCommand(n, "EPSV")
		Expect(code).To(Equal(229))
		Expect(text).To(ContainSubstring(fmt.Sprintf("(|||%d|)", lo)))
	})

	It("logs neither password, and ends open sessions when stopped", func() {
		slogBuf := gbytes.NewBuffer()
		n := startNode(csmserve.Config{Logger: slog.New(slog.NewTextHandler(slogBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		c := dial(n)
		t := target(n)
		t.Password = "Wrong-Secret-42"
		_, err := tr.Dial(ctx, t)
		Expect(err).To(HaveOccurred())
		Expect(c.Put(ctx, "A.B", strings.NewReader("x"), 1)).To(Succeed())
		Expect(string(slogBuf.Contents())).To(ContainSubstring("login refused"))
		Expect(string(slogBuf.Contents())).NotTo(ContainSubstring(password))
		Expect(string(slogBuf.Contents())).NotTo(ContainSubstring("Wrong-Secret-42"))

		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		Expect(n.srv.Stop(sctx)).To(Succeed())
		_, _, err = c.Site(ctx, "CSMAGENT INFO")
		Expect(err).To(HaveOccurred())
		_, err = tr.Dial(ctx, target(n))
		Expect(err).To(MatchError(ContainSubstring("connection refused")))
	})

	It("names host:port when the node is not listening", func() {
		port := freePort()
		_, err := tr.Dial(ctx, transport.Target{System: "VM01", Host: "127.0.0.1", Port: port, User: "CSMWORK", Password: password})
		Expect(err).To(MatchError(
			"VM01 (127.0.0.1:" + itoa(port) + "): connect: connection refused; is CSMSERVE running and listening there?"))
	})

	It("says 530 and names the user, never the password, when the password is wrong", func() {
		n := startNode(csmserve.Config{})
		wrong := "Wrong-Secret-99"
		t := target(n)
		t.Password = wrong
		_, err := tr.Dial(ctx, t)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(HavePrefix("VM01 (" + n.srv.Addr() + "): login as CSMWORK refused: 530"))
		Expect(err.Error()).NotTo(ContainSubstring(wrong))
		Expect(string(log.Contents())).NotTo(ContainSubstring(wrong))
		var te *transport.Error
		Expect(errors.As(err, &te)).To(BeTrue())
		Expect(te.Code).To(Equal(530))
		Expect(te.Temporary()).To(BeFalse())

		t.User, t.Password = "MAINT720", password
		_, err = tr.Dial(ctx, t)
		Expect(err).To(MatchError(HavePrefix("VM01 (" + n.srv.Addr() + "): login as MAINT720 refused: 530")))
		Expect(err.Error()).NotTo(ContainSubstring(password))
	})

	Describe("with REQUIRE (FTPS)", func() {
		var (
			p pki
			n *node
		)
		BeforeEach(func() {
			p = newPKI(GinkgoT().TempDir(), "good")
			n = startNode(csmserve.Config{TLS: p.serverTLS, RequireTLS: true})
		})

		It("works with the CA that signed the node's certificate", func() {
			t := target(n)
			t.Require, t.CAFile = true, p.caFile
			c, err := tr.Dial(ctx, t)
			Expect(err).NotTo(HaveOccurred())
			defer c.Close()
			Expect(c.Put(ctx, "CSMPKG.MANIFEST", strings.NewReader("over TLS"), 8)).To(Succeed())
			var got strings.Builder
			Expect(c.Get(ctx, "CSMPKG.MANIFEST", &got)).To(Succeed())
			Expect(got.String()).To(Equal("over TLS"))
			code, _, err := c.Site(ctx, "CSMAGENT INFO")
			Expect(err).NotTo(HaveOccurred())
			Expect(code).To(Equal(200))
			Expect(c.(*transport.FTPConn).Features()).To(HaveKey("AUTH"))
		})

		It("works in active mode too, the transport the TLS client of the node's data connections (PROT P)", func() {
			m := startNode(csmserve.Config{TLS: p.serverTLS, RequireTLS: true, ActiveFromDataPort: true})
			t := target(m)
			t.Require, t.CAFile = true, p.caFile
			c, err := transport.NewFTP(transport.FTPOptions{Timeout: 10 * time.Second, Logger: log, Debug: true, Active: true}).Dial(ctx, t)
			Expect(err).NotTo(HaveOccurred())
			defer c.Close()
			body := bytes.Repeat([]byte("active over TLS "), 50000)
			Expect(c.Put(ctx, "CSMPKG.MANIFEST", bytes.NewReader(body), int64(len(body)))).To(Succeed())
			var got bytes.Buffer
			Expect(c.Get(ctx, "CSMPKG.MANIFEST", &got)).To(Succeed())
			Expect(got.Bytes()).To(Equal(body))
			Expect(fileSHA(filepath.Join(m.dir, "CSMPKG.MANIFEST"))).To(Equal(c.(*transport.FTPConn).LastPut().SHA256))
			Expect(string(log.Contents())).To(ContainSubstring("sending command PROT P"))
			Expect(string(log.Contents())).To(MatchRegexp(`sending command PORT 127,0,0,1,\d+,\d+`))
		})

		It("fails with another CA, saying the certificate does not verify", func() {
			other := newPKI(GinkgoT().TempDir(), "other")
			t := target(n)
			t.Require, t.CAFile = true, other.caFile
			_, err := tr.Dial(ctx, t)
			Expect(err).To(MatchError(And(
				HavePrefix("VM01 ("+n.srv.Addr()+"): TLS handshake: "),
				ContainSubstring("certificate"),
				ContainSubstring("does not verify against CA file "+other.caFile))))
		})

		It("fails when the node's certificate does not name the host", func() {
			q := newPKIFor(GinkgoT().TempDir(), "named", nil, []string{"vm02.example.com"})
			m := startNode(csmserve.Config{TLS: q.serverTLS, RequireTLS: true})
			t := target(m)
			t.Require, t.CAFile = true, q.caFile
			_, err := tr.Dial(ctx, t)
			Expect(err).To(MatchError(And(
				HavePrefix("VM01 ("+m.srv.Addr()+"): TLS handshake: "),
				ContainSubstring("does not name this host"))))
		})

		It("is refused in plain FTP by a node that requires TLS", func() {
			_, err := tr.Dial(ctx, target(n))
			Expect(err).To(MatchError(ContainSubstring("the node requires FTPS")))
		})

		It("needs a CA file", func() {
			t := target(n)
			t.Require = true
			_, err := tr.Dial(ctx, t)
			Expect(err).To(MatchError(HavePrefix("VM01 (" + n.srv.Addr() + "): FTPS setup: no CA file given")))
		})
	})

	It("does not offer AUTH TLS when the node has no certificate", func() {
		n := startNode(csmserve.Config{})
		t := target(n)
		t.Require, t.CAFile = true, newPKI(GinkgoT().TempDir(), "x").caFile
		_, err := tr.Dial(ctx, t)
		Expect(err).To(MatchError(ContainSubstring("does the node offer FTPS (AUTH TLS)?")))
	})
})

// slowReader yields zeros slowly, for cancellation.
type slowReader struct{ left int64 }

func (s *slowReader) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	time.Sleep(5 * time.Millisecond)
	n := min(int64(len(p)), 4096, s.left)
	clear(p[:n])
	s.left -= n
	return int(n), nil
}

func (s *slowReader) Seek(off int64, whence int) (int64, error) { return off, nil }

// rawCommand logs in with a bare control connection and sends one command.
func rawCommand(n *node, cmd string) (int, string) {
	GinkgoHelper()
	conn, err := textproto.Dial("tcp", n.srv.Addr())
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	_, _, err = conn.ReadResponse(220)
	Expect(err).NotTo(HaveOccurred())
	for _, c := range []struct {
		line string
		code int
	}{{"USER CSMWORK", 331}, {"PASS " + password, 230}} {
		Expect(conn.PrintfLine("%s", c.line)).To(Succeed())
		_, _, err = conn.ReadResponse(c.code)
		Expect(err).NotTo(HaveOccurred())
	}
	Expect(conn.PrintfLine("%s", cmd)).To(Succeed())
	code, text, err := conn.ReadResponse(0)
	Expect(err).NotTo(HaveOccurred())
	return code, text
}

// corruptingFs damages the first byte of every file written.
type corruptingFs struct{ afero.Fs }

func (c corruptingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := c.Fs.OpenFile(name, flag, perm)
	if err != nil || flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return f, err
	}
	return &corruptFile{File: f}, nil
}

type corruptFile struct {
	afero.File
	done bool
}

func (c *corruptFile) Write(p []byte) (int, error) {
	if !c.done && len(p) > 0 {
		c.done = true
		q := append([]byte{'X'}, p[1:]...)
		return c.File.Write(q)
	}
	return c.File.Write(p)
}

func fileSHA(p string) string {
	GinkgoHelper()
	f, err := os.Open(p)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	Expect(err).NotTo(HaveOccurred())
	return hex.EncodeToString(h.Sum(nil))
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// watchHeap samples HeapInuse until the returned function is called,
// which returns the peak.
func watchHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

func itoa(i int) string { return fmtInt(i) }

// readCounting counts the opens for reading of each file.
type readCounting struct {
	afero.Fs
	mu    sync.Mutex
	reads map[string]int
}

func (c *readCounting) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		c.mu.Lock()
		c.reads[name]++
		c.mu.Unlock()
	}
	return c.Fs.OpenFile(name, flag, perm)
}

func (c *readCounting) Open(name string) (afero.File, error) { return c.OpenFile(name, os.O_RDONLY, 0) }

func (c *readCounting) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[name]
}
