package csmserve_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/sim/cmsfs"
	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/world"
)

// blocksOf is n CMS blocks of data.
func blocksOf(n int) []byte { return bytes.Repeat([]byte("x"), n*cms.BlockSize) }

var _ = Describe("a node on a small staging minidisk", func() {
	var (
		n    *node
		disk *cmsfs.Minidisk
	)
	BeforeEach(func() {
		w, err := cmsfs.New(afero.NewMemMapFs())
		Expect(err).NotTo(HaveOccurred())
		// one 3390 cylinder: 180 blocks
		disk, err = w.DefineMinidisk(cmsfs.MinidiskDef{Owner: "CSMSERVE", Vaddr: "0191", DevType: "3390", Cylinders: 1})
		Expect(err).NotTo(HaveOccurred())
		Expect(disk.CapacityBlocks()).To(BeEquivalentTo(180))
		n = startNode(csmserve.Config{Fs: disk.RawFs()})
	})

	It("refuses a STOR or APPE the disk cannot hold with 552, names the disk, and keeps no partial file", func() {
		c := loggedIn(n)
		code, text := c.upload("STOR FILL.DATA", blocksOf(120))
		Expect(code).To(Equal(226), text)
		Expect(disk.UsedBlocks()).To(BeEquivalentTo(120))

		// each fits the disk alone; together they do not
		code, text = c.upload("STOR BIG.DATA", blocksOf(100))
		Expect(code).To(Equal(552), text)
		Expect(text).To(ContainSubstring("staging disk CSMSERVE 0191 is full: 60 blocks free; free space or enlarge it"))
		Expect(text).NotTo(ContainSubstring("/mdisk"))
		Expect(c.nlst()).To(Equal([]string{"FILL.DATA"}))
		Expect(disk.UsedBlocks()).To(BeEquivalentTo(120))

		code, text = c.upload("STOR SMALL.DATA", blocksOf(40))
		Expect(code).To(Equal(226), text)
		code, text = c.upload("APPE SMALL.DATA", blocksOf(30))
		Expect(code).To(Equal(552), text)
		Expect(text).To(ContainSubstring("staging disk CSMSERVE 0191 is full: 20 blocks free; free space or enlarge it"))
		code, text = c.cmd("SIZE SMALL.DATA")
		Expect(code).To(Equal(213))
		Expect(text).To(Equal(itoa(40 * cms.BlockSize))) // as before the APPE
		Expect(disk.UsedBlocks()).To(BeEquivalentTo(160))

		// the session is still usable, and freeing space makes room
		code, text = c.cmd("DELE FILL.DATA")
		Expect(code).To(Equal(250), text)
		Expect(disk.UsedBlocks()).To(BeEquivalentTo(40))
		code, text = c.upload("STOR BIG.DATA", blocksOf(100))
		Expect(code).To(Equal(226), text)
		Expect(disk.UsedBlocks()).To(BeEquivalentTo(140))
	})

	It("is refused with 552 as curl understands it: remote disk full", func() {
		curl := tool("curl", "curl")
		src := filepath.Join(GinkgoT().TempDir(), "big")
		Expect(os.WriteFile(src, blocksOf(200), 0o644)).To(Succeed())
		_, errOut, code := run(30*time.Second, curl, "-sS", "-v", "-u", "CSMWORK:"+password, "-T", src, n.url("CMS.SERVLINK"))
		Expect(code).To(Equal(70), errOut) // CURLE_REMOTE_DISK_FULL
		Expect(errOut).To(ContainSubstring("< 552 "))
		Expect(errOut).To(ContainSubstring("staging disk CSMSERVE 0191 is full: 180 blocks free"))
		Expect(disk.UsedBlocks()).To(BeZero())
	})

	It("gives the principal's transport a 552 it does not retry", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := transport.NewFTP(transport.FTPOptions{Timeout: 10 * time.Second}).Dial(ctx,
			transport.Target{System: "VM01", Host: n.host, Port: n.port, User: "CSMWORK", Password: password})
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		body := blocksOf(200)
		err = conn.Put(ctx, "CMS.SERVLINK", bytes.NewReader(body), int64(len(body)))
		var te *transport.Error
		Expect(errors.As(err, &te)).To(BeTrue(), "%v", err)
		Expect(te.Code).To(Equal(552))
		Expect(te.Temporary()).To(BeFalse())
		Expect(err.Error()).To(ContainSubstring("staging disk CSMSERVE 0191 is full: 180 blocks free"))
		Expect(err.Error()).NotTo(ContainSubstring("attempts"))
		Expect(disk.UsedBlocks()).To(BeZero())
	})
})

// holdingAgent is a fakeAgent that can say a job runs (csmserve.JobRunner).
type holdingAgent struct {
	fakeAgent
	running atomic.Int32
}

func (a *holdingAgent) Running() int { return int(a.running.Load()) }

var _ = Describe("the staging area while a CSMAGENT job runs", func() {
	It("answers 450 to STOR, APPE, DELE, RNFR and RNTO, and serves reads and STATUS", func() {
		ag := &holdingAgent{}
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs(), Agent: ag})
		c := loggedIn(n)
		code, text := c.upload("STOR CSMPKG.MANIFEST", []byte("validated\n"))
		Expect(code).To(Equal(226), text)
		code, _ = c.cmd("RNFR CSMPKG.MANIFEST") // a rename begun before the job
		Expect(code).To(Equal(350))

		ag.running.Store(3)
		held := "CSMAGENT is busy with job 3; the staging area is held until it ends"
		code, text = c.cmd("RNTO OTHER.NAME")
		Expect(code).To(Equal(450))
		Expect(text).To(Equal(held))
		code, text = c.upload("STOR CSMPKG.MANIFEST", []byte("something else\n"))
		Expect(code).To(Equal(450))
		Expect(text).To(Equal(held))
		code, text = c.upload("APPE CSMPKG.MANIFEST", []byte("more\n"))
		Expect(code).To(Equal(450))
		Expect(text).To(Equal(held))
		for _, cmd := range []string{"DELE CSMPKG.MANIFEST", "RNFR CSMPKG.MANIFEST"} {
			code, text = c.cmd(cmd)
			Expect(code).To(Equal(450), cmd)
			Expect(text).To(Equal(held), cmd)
		}

		code, text, body := c.retr("CSMPKG.MANIFEST")
		Expect(code).To(Equal(226), text)
		Expect(string(body)).To(Equal("validated\n"))
		code, _ = c.cmd("SIZE CSMPKG.MANIFEST")
		Expect(code).To(Equal(213))
		code, _ = c.cmd("XSHA256 CSMPKG.MANIFEST")
		Expect(code).To(Equal(250))
		Expect(c.nlst()).To(Equal([]string{"CSMPKG.MANIFEST"}))
		code, text = c.cmd("SITE CSMAGENT STATUS 3")
		Expect(code).To(Equal(200), text)
		code, text = c.cmd("SITE CSMAGENT INFO")
		Expect(code).To(Equal(200), text)

		ag.running.Store(0)
		code, text = c.upload("STOR CSMPKG.MANIFEST", []byte("next package\n"))
		Expect(code).To(Equal(226), text)

		// an upload under way when a job starts is dropped, not put in place
		d := c.data()
		code, text = c.cmd("STOR CSMPKG.MANIFEST")
		Expect(code).To(Equal(150), text)
		_, err := d.Write([]byte("begun before "))
		Expect(err).NotTo(HaveOccurred())
		ag.running.Store(4)
		_, err = d.Write([]byte("the job\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Close()).To(Succeed())
		code, text, err = c.ReadResponse(0)
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(550)) // ftpserverlib's code for a failed transfer
		Expect(text).To(ContainSubstring("CSMAGENT is busy with job 4; the staging area is held until it ends"))
		_, _, body = c.retr("CSMPKG.MANIFEST")
		Expect(string(body)).To(Equal("next package\n"))
	})

	It("holds a real agent's staging disk while its job runs (ForAgent)", func() {
		s, err := world.InitManaged(afero.NewMemMapFs(), world.ManagedOptions{Name: "VM01"})
		Expect(err).NotTo(HaveOccurred())
		env := s.Agent(cms.FixedClock{T: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, table.NewMemLocker())
		wn, err := s.Serve(env, csmserve.Config{Password: password, ListenAddr: "127.0.0.1:0"})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			Expect(wn.Stop(ctx)).To(Succeed())
		})
		n := &node{srv: wn.Server}
		n.host, _, _ = net.SplitHostPort(wn.Server.Addr())
		c := loggedIn(n)
		code, text := c.upload("STOR CMS.SERVLINK", []byte("the package the job validated"))
		Expect(code).To(Equal(226), text)

		release := make(chan struct{})
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		DeferCleanup(free) // before the node stops, even when the spec fails
		job, err := wn.Jobs.Submit("LOAD VM010802_BLD2 TEST", func() (msg.Result, error) {
			<-release
			return msg.Result{}, nil
		})
		Expect(err).NotTo(HaveOccurred())
		// a second SEND's first STOR
		code, text = c.upload("STOR CMS.SERVLINK", []byte("another package"))
		Expect(code).To(Equal(450), text)
		Expect(text).To(Equal("CSMAGENT is busy with job " + itoa(job) + "; the staging area is held until it ends"))
		code, text = c.cmd("SITE CSMAGENT STATUS " + itoa(job))
		Expect(code).To(Equal(200))
		Expect(text).To(HavePrefix("CSMAGENT JOB " + itoa(job) + " RUNNING"))

		free()
		Eventually(func() string { _, t := c.cmd("SITE CSMAGENT STATUS " + itoa(job)); return t }).
			WithTimeout(5 * time.Second).Should(ContainSubstring("ENDED"))
		_, _, body := c.retr("CMS.SERVLINK")
		Expect(string(body)).To(Equal("the package the job validated"))
		code, text = c.upload("STOR CMS.SERVLINK", []byte("another package"))
		Expect(code).To(Equal(226), text)
	})
})

// fakeClock is a settable clock for the login limits.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sleeps records the delays the node asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
}

func (s *sleeps) Take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.d
	s.d = nil
	return d
}

var _ = Describe("failed logins", func() {
	var (
		n     *node
		clock *fakeClock
		slept *sleeps
		logs  *gbytes.Buffer
	)
	BeforeEach(func() {
		clock = &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		slept = &sleeps{}
		logs = gbytes.NewBuffer()
		n = startNode(csmserve.Config{Fs: afero.NewMemMapFs(), Now: clock.Now, Sleep: slept.Sleep,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
	})
	fail := func(pw string) {
		GinkgoHelper()
		c, code, text := dialCtl(n)
		Expect(code).To(Equal(220), text)
		code, _ = c.cmd("USER CSMWORK")
		Expect(code).To(Equal(331))
		code, text = c.cmd("PASS " + pw)
		Expect(code).To(Equal(530), text)
	}

	It("are answered later each time, logged without the password, and lock the address out after 10", func() {
		for i := range 10 {
			fail("Guess-" + itoa(i) + "-secret")
		}
		ms := time.Millisecond
		Expect(slept.Take()).To(Equal([]time.Duration{500 * ms, 1000 * ms, 2000 * ms, 4000 * ms,
			8000 * ms, 8000 * ms, 8000 * ms, 8000 * ms, 8000 * ms, 8000 * ms}))
		lines := strings.Split(strings.TrimSpace(string(logs.Contents())), "\n")
		refused := 0
		for _, l := range lines {
			Expect(l).NotTo(ContainSubstring("secret"))
			if strings.Contains(l, "login refused") {
				refused++
				Expect(l).To(ContainSubstring("user=CSMWORK"))
				Expect(l).To(ContainSubstring("remote=127.0.0.1:"))
			}
		}
		Expect(refused).To(Equal(10), string(logs.Contents()))

		// locked out: even the right password is refused, before any delay
		c, code, text := dialCtl(n)
		Expect(code).To(Equal(421), text)
		Expect(text).To(ContainSubstring("too many failed logins from 127.0.0.1"))
		Expect(c.closed()).To(BeTrue())
		Expect(slept.Take()).To(BeEmpty())

		clock.Advance(16 * time.Minute)
		loggedIn(n)
		// the success forgot the failures
		fail("Another-secret")
		Expect(slept.Take()).To(Equal([]time.Duration{500 * ms}))
	})

	It("are forgotten after a successful login", func() {
		fail("one-secret")
		fail("two-secret")
		loggedIn(n)
		fail("three-secret")
		ms := time.Millisecond
		Expect(slept.Take()).To(Equal([]time.Duration{500 * ms, 1000 * ms, 500 * ms}))
	})
})

var _ = Describe("connection limits", func() {
	It("refuses a 17th connection by default with 421, and takes a new one when one closes", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs()})
		var open []*ctl
		for range 16 {
			c, code, text := dialCtl(n)
			Expect(code).To(Equal(220), text)
			open = append(open, c)
		}
		c, code, text := dialCtl(n)
		Expect(code).To(Equal(421), text)
		Expect(text).To(ContainSubstring("16 connections"))
		Expect(c.closed()).To(BeTrue())

		Expect(open[0].Close()).To(Succeed())
		Eventually(func() int {
			c, code, _ := dialCtl(n)
			c.Close()
			return code
		}).WithTimeout(5 * time.Second).Should(Equal(220))
	})

	It("closes a connection that has not logged in within LoginTimeout, not a logged-in one", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs(), MaxConnections: 3, LoginTimeout: 200 * time.Millisecond})
		idle, code, _ := dialCtl(n)
		Expect(code).To(Equal(220))
		busy := loggedIn(n)
		code, text, err := idle.ReadResponse(0) // waits for the node
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(421))
		Expect(text).To(ContainSubstring("no login within 200ms"))
		Expect(idle.closed()).To(BeTrue())

		time.Sleep(300 * time.Millisecond) // past the login timeout
		code, text = busy.cmd("NOOP")
		Expect(code).To(Equal(200), text)

		// MaxConnections
		_, code, _ = dialCtl(n)
		Expect(code).To(Equal(220))
		_, code, _ = dialCtl(n)
		Expect(code).To(Equal(220))
		_, code, text = dialCtl(n)
		Expect(code).To(Equal(421), text)
	})
})

var _ = Describe("stopping", func() {
	// Stop closes the gates it finds; one admitted meanwhile must be whole
	// by then (its login timer set), however the two interleave. A race
	// shows under the race detector, or as a panic on a gate without one.
	It("stops while connections arrive, closing each gate it admitted", func() {
		for range 50 {
			n := startNode(csmserve.Config{Fs: afero.NewMemMapFs()})
			addr := net.JoinHostPort(n.host, fmtInt(n.port))
			var wg sync.WaitGroup
			arriving := make(chan struct{}, 4)
			for range 4 {
				wg.Go(func() {
					for {
						c, err := net.DialTimeout("tcp", addr, time.Second)
						if err != nil {
							return // stopped
						}
						select {
						case arriving <- struct{}{}:
						default:
						}
						_ = c.Close()
					}
				})
			}
			<-arriving
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			Expect(n.srv.Stop(ctx)).To(Succeed())
			cancel()
			wg.Wait()
		}
	})
})

var _ = Describe("active mode", func() {
	It("opens data connections only to the client's own address, on ports from 1024", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs()})
		c := loggedIn(n)
		code, text := c.upload("STOR A.B", []byte("active"))
		Expect(code).To(Equal(226), text)

		lo := net.ParseIP("127.0.0.1")
		for _, cmd := range []string{
			"PORT " + portArg(lo, 21), "PORT " + portArg(lo, 25), "PORT " + portArg(lo, 1023),
			"EPRT |1|127.0.0.1|22|", "EPRT |1|127.0.0.1|1|",
			"PORT " + portArg(net.ParseIP("127.0.0.2"), 4000), "EPRT |1|127.0.0.2|4000|",
			"PORT " + portArg(net.ParseIP("10.1.2.3"), 4000), "EPRT |2|::1|4000|",
		} {
			code, text := c.cmd(cmd)
			Expect(code/100).To(Equal(5), "%s: %d %s", cmd, code, text)
		}

		// to the client itself, on an unprivileged port, it works
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer l.Close()
		code, text = c.cmd("PORT " + portArg(lo, l.Addr().(*net.TCPAddr).Port))
		Expect(code).To(Equal(200), text)
		code, text = c.cmd("RETR A.B")
		Expect(code).To(Equal(150), text)
		d, err := l.Accept()
		Expect(err).NotTo(HaveOccurred())
		body, err := io.ReadAll(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(body)).To(Equal("active"))
		code, text, err = c.ReadResponse(0)
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(226), text)
	})
})

var _ = Describe("replies", func() {
	It("name files as CSMWORK sees them, never by a server path", func() {
		n := startNode(csmserve.Config{})
		c := loggedIn(n)
		for _, cmd := range []string{"RETR NO.SUCH", "SIZE NO.SUCH", "DELE NO.SUCH", "RNFR NO.SUCH",
			"XSHA256 NO.SUCH", "CWD NO.SUCH", "RETR no.such"} {
			var code int
			var text string
			if strings.HasPrefix(cmd, "RETR") {
				code, text, _ = c.retr(strings.TrimPrefix(cmd, "RETR "))
			} else {
				code, text = c.cmd(cmd)
			}
			Expect(code).To(Equal(550), cmd)
			Expect(text).NotTo(ContainSubstring(n.dir), cmd)
			Expect(text).NotTo(ContainSubstring(filepath.Base(n.dir)), cmd)
			Expect(text).To(ContainSubstring("NO.SUCH: no such file in the staging area"), cmd)
		}
	})

	It("of a node on a world's minidisk show no path of the world either", func() {
		s, err := world.InitManaged(afero.NewMemMapFs(), world.ManagedOptions{Name: "VM01"})
		Expect(err).NotTo(HaveOccurred())
		fs, err := s.StagingFs()
		Expect(err).NotTo(HaveOccurred())
		n := startNode(csmserve.Config{Fs: fs})
		c := loggedIn(n)
		code, text, _ := c.retr("NO.SUCH")
		Expect(code).To(Equal(550))
		Expect(text).NotTo(ContainSubstring("mdisk"))
		Expect(text).NotTo(ContainSubstring("CSMSERVE.0191"))
		Expect(text).To(ContainSubstring("NO.SUCH: no such file in the staging area"))
	})

	It("are 502 for STAT and every command outside CSMSERVE's profile, which FEAT does not offer", func() {
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs()})
		c := loggedIn(n)
		code, text := c.upload("STOR A.B", []byte("x"))
		Expect(code).To(Equal(226), text)
		for _, cmd := range []string{"STAT", "STAT /", "STAT A.B", "MDTM A.B", "MLST A.B", "MLSD", "MFMT 20260102030405 A.B",
			"MKD X", "XMKD X", "RMD X", "XRMD X", "HASH A.B", "XMD5 A.B", "MD5 A.B", "XSHA1 A.B", "XSHA512 A.B", "XCRC A.B",
			"COMB A.B C.D", "AVBL", "CLNT curl", "SITE CHMOD 777 A.B", "STOU", "HELP"} {
			code, text := c.cmd(cmd)
			Expect(code).To(Equal(502), "%s: %s", cmd, text)
			Expect(text).NotTo(ContainSubstring("%"), cmd)
		}
		code, text = c.cmd("FEAT")
		Expect(code).To(Equal(211))
		feats := map[string]bool{}
		for _, l := range strings.Split(text, "\n")[1:] {
			if f := strings.Fields(l); len(f) > 0 && l != "end" {
				feats[f[0]] = true
			}
		}
		Expect(feats).To(HaveKey("SIZE"))
		Expect(feats).To(HaveKey("EPSV"))
		Expect(feats).To(HaveKey("XSHA256"))
		Expect(feats).To(HaveKey("REST"))
		for _, f := range []string{"MDTM", "MLST", "MLSD", "MFMT", "HASH", "MD5", "XMD5", "XSHA1", "XSHA512", "XCRC", "CLNT"} {
			Expect(feats).NotTo(HaveKey(f), text)
		}
	})
})

var _ = Describe("hard links in the staging directory", func() {
	It("are refused for every file command, and STOR replaces a file rather than writing through it", func() {
		n := startNode(csmserve.Config{})
		outside := filepath.Join(GinkgoT().TempDir(), "secret.txt")
		Expect(os.WriteFile(outside, []byte("secret"), 0o644)).To(Succeed())
		Expect(os.Link(outside, filepath.Join(n.dir, "LINK.TXT"))).To(Succeed())

		c := loggedIn(n)
		why := "LINK.TXT has more than one link; CSMSERVE serves only files of its own staging disk"
		code, text, body := c.retr("LINK.TXT")
		Expect(code).To(Equal(550))
		Expect(text).To(ContainSubstring(why))
		Expect(body).To(BeEmpty())
		for _, cmd := range []string{"SIZE LINK.TXT", "XSHA256 LINK.TXT", "DELE LINK.TXT", "RNFR LINK.TXT"} {
			code, text := c.cmd(cmd)
			Expect(code).To(Equal(550), cmd)
			Expect(text).To(ContainSubstring(why), cmd)
		}
		for _, cmd := range []string{"STOR LINK.TXT", "APPE LINK.TXT"} {
			code, text := c.upload(cmd, []byte("overwritten"))
			Expect(code).To(Equal(550), cmd)
			Expect(text).To(ContainSubstring(why), cmd)
		}
		Expect(c.nlst()).To(BeEmpty())
		Expect(os.ReadFile(outside)).To(BeEquivalentTo("secret"))

		// a STOR over an existing file puts a new file in its place
		code, text = c.upload("STOR A.B", []byte("first"))
		Expect(code).To(Equal(226), text)
		before, err := os.Stat(filepath.Join(n.dir, "A.B"))
		Expect(err).NotTo(HaveOccurred())
		code, text = c.upload("STOR A.B", []byte("second"))
		Expect(code).To(Equal(226), text)
		after, err := os.Stat(filepath.Join(n.dir, "A.B"))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.SameFile(before, after)).To(BeFalse())
		Expect(os.ReadFile(filepath.Join(n.dir, "A.B"))).To(BeEquivalentTo("second"))
	})
})

// waitingAgent is a fakeAgent whose job 1 runs in phase VALIDATE until
// the spec moves it on (csmserve.Waiter).
type waitingAgent struct {
	fakeAgent
	mu      sync.Mutex
	phase   proto.Phase
	ended   bool
	changed chan struct{}
}

func (a *waitingAgent) Handle(req proto.Request) proto.Reply {
	if _, ok := req.(proto.Status); !ok {
		return a.fakeAgent.Handle(req)
	}
	a.fakeAgent.Handle(req)
	a.mu.Lock()
	defer a.mu.Unlock()
	return proto.JobStatus{Job: 1, Phase: a.phase, Ended: a.ended}
}

func (a *waitingAgent) Changed() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.changed
}

func (a *waitingAgent) move(phase proto.Phase, ended bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.phase, a.ended = phase, ended
	close(a.changed)
	a.changed = make(chan struct{})
}

var _ = Describe("SITE CSMAGENT STATUS n WAIT, a long poll", func() {
	It("answers when the job moves on, at once for an ended job, and when the node stops", func() {
		ag := &waitingAgent{phase: proto.PhaseValidate, changed: make(chan struct{})}
		waiting := make(chan struct{}, 4)
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs(), Agent: ag, AwaitChange: func(changed, stop <-chan struct{}) {
			waiting <- struct{}{}
			select {
			case <-changed:
			case <-stop:
			}
		}})
		c := loggedIn(n)
		type answer struct {
			code int
			text string
			err  error
		}
		ask := func(line string) <-chan answer {
			ch := make(chan answer, 1)
			go func() {
				if err := c.PrintfLine("%s", line); err != nil {
					ch <- answer{err: err}
					return
				}
				code, text, err := c.ReadResponse(0)
				ch <- answer{code, text, err}
			}()
			return ch
		}

		got := ask("SITE CSMAGENT STATUS 1 WAIT")
		Eventually(waiting).Should(Receive())
		Consistently(got, "50ms").ShouldNot(Receive(), "no answer while the job stays in its phase")
		ag.move(proto.PhaseLoad, false)
		Eventually(got).Should(Receive(Equal(answer{200, "CSMAGENT JOB 1 RUNNING PHASE LOAD", nil})))

		// Plain STATUS never waits.
		Expect(<-ask("SITE CSMAGENT STATUS 1")).To(Equal(answer{200, "CSMAGENT JOB 1 RUNNING PHASE LOAD", nil}))
		Expect(waiting).NotTo(Receive())

		ag.move(proto.PhaseLoad, true)
		Expect(<-ask("SITE CSMAGENT STATUS 1 WAIT")).To(Equal(answer{200, "CSMAGENT JOB 1 ENDED RC=0", nil}))
		Expect(waiting).NotTo(Receive(), "an ended job is answered at once")

		ag.move(proto.PhaseLoad, false)
		got = ask("SITE CSMAGENT STATUS 1 WAIT")
		Eventually(waiting).Should(Receive())
		stopped := make(chan error, 1)
		go func() { stopped <- n.srv.Stop(context.Background()) }()
		Eventually(stopped, "5s").Should(Receive(BeNil()), "a waiting poll does not hold up Stop")
		Eventually(got, "5s").Should(Receive(), "the poll ends with the node: an answer or a closed connection")
	})
})
