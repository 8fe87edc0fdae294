package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/world"
)

const realPassword = "Csmwork-Test-Pw-42"

// serveNode starts `csmsim node serve` for root on a free loopback port,
// with flags added, and returns the session and the port.
func serveNode(root, pwFile string, flags ...string) (*gexec.Session, string) {
	GinkgoHelper()
	cmd := exec.Command(csmsim, append([]string{"node", "serve", "--root", root, "--listen", "127.0.0.1:0", "--password-file", pwFile}, flags...)...)
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { s.Kill().Wait(5 * time.Second) })
	Eventually(s.Out, 10*time.Second).Should(gbytes.Say(`listening on 127\.0\.0\.1:\d+`))
	m := regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+)`).FindStringSubmatch(string(s.Out.Contents()))
	Expect(m).To(HaveLen(2))
	return s, m[1]
}

var _ = Describe("real mode: csmsim servmgr driving two csmsim node serve processes over TCP", Ordered, func() {
	var dir, state, pwFile string
	var nodes []*gexec.Session
	smw := func(line string, flags ...string) string {
		GinkgoHelper()
		r := csm(dir, append([]string{"servmgr", "--state", state, "--time", logTime, "--password-file", pwFile, line}, flags...)...)
		Expect(r.code).To(Equal(0), "%s\n%s%s", line, r.stdout, r.stderr)
		return r.stdout
	}

	BeforeAll(func() {
		state = newPrincipal()
		dir = filepath.Dir(state)
		pwFile = filepath.Join(dir, "csmwork.pw")
		Expect(os.WriteFile(pwFile, []byte(realPassword+"\n"), 0o600)).To(Succeed())
		smOK(state, "initialize 720")
		smOK(state, "srvlvl add 720 vm010102_BLD1 basedon BASE nonesm desc Initial RSU Install")
		smOK(state, "srvlvl service 720 vm010102_bld1 all rsu0801")
		for _, sys := range []string{"VM01", "VM02"} {
			root := filepath.Join(dir, strings.ToLower(sys))
			ok(csm(dir, "node", "init", "--root", root, "--system", sys, "--state", state, "--level", "vm010102_bld1"))
			s, port := serveNode(root, pwFile)
			nodes = append(nodes, s)
			out := smw("system add 720 " + sys + " vm010102_bld1 nonesm hostname 127.0.0.1 commtype ftp (port " + port + " norequire)")
			Expect(out).To(ContainSubstring("CSM3064I System " + sys))
		}
	})

	It("runs the seed's sample: send (test, send (stable, put2prod, servcheck", func() {
		smOK(state, "srvlvl add 720 vm010802_BLD2 basedon vm010102_BLD1 nonesm desc August RSU Install")
		smOK(state, "srvlvl service 720 vm010802_BLD2 all rsu0802")
		smOK(state, "srvlvl package 720 vm010802_BLD2")
		Expect(smw("srvlvl send 720 vm010802_BLD2 all (test")).To(ContainSubstring("2 of 2 systems succeeded"))
		// the second SEND in active mode, VM01's files verified by reading
		// them back, VM02's by their size, as for nodes without XSHA256
		Expect(smw("srvlvl send vm010802_BLD2 all (stable", "--active-ftp", "--verify", "vm01=readback", "--verify", "VM02=size")).
			To(ContainSubstring("CSM3061I"))
		// PUT2PROD as a staged roll-out, with the options a sysprog types.
		out := smw("system put2prod 720 all (canary vm01 budget 1 deadline 120")
		Expect(out).To(ContainSubstring("2 of 2 systems succeeded"))
		Expect(out).To(ContainSubstring("CSM3077I Roll-out PUT2PROD.720.ALL: VM01 DONE, wave 0, run 1"))
		Expect(out).To(ContainSubstring("CSM3077I Roll-out PUT2PROD.720.ALL: VM02 DONE, wave 1, run 1"))
		Expect(out).To(ContainSubstring("CSM3075I Roll-out PUT2PROD.720.ALL complete: all 2 systems done, 2 in this run"))
		// The same command again: a new run that redoes nothing.
		again := smw("system put2prod 720 all (canary vm01 budget 1 deadline 120")
		Expect(again).To(ContainSubstring("CSM3072I Roll-out PUT2PROD.720.ALL: 2 systems done in an earlier run are not redone: VM01 VM02"))
		Expect(again).NotTo(ContainSubstring("CSM3057I"))
		out = smw("system servcheck 720 all")
		Expect(strings.Count(out, "CSM3058I")).To(Equal(2))
		Expect(smw("system query 720")).To(MatchRegexp(`CSM2821I VM02 +VM010802_BLD2 `))
	})

	It("stops the nodes cleanly on SIGTERM and leaves each disk at the new level in production", func() {
		for _, s := range nodes {
			s.Signal(syscall.SIGTERM)
			Eventually(s, 30*time.Second).Should(gexec.Exit(0))
			Expect(string(s.Out.Contents())).To(ContainSubstring("stopped"))
		}
		for _, sys := range []string{"vm01", "vm02"} {
			s, err := world.Open(afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(dir, sys)))
			Expect(err).NotTo(HaveOccurred())
			env := s.Agent(fixedClock{}, table.NewMemLocker())
			info, err := agent.Info(env)
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Level).To(Equal("VM010802_BLD2"))
			inv, _, err := agent.Query(env)
			Expect(err).NotTo(HaveOccurred())
			prod, found := inv.Get("CMS")
			Expect(found).To(BeTrue())
			v, _ := prod.Get("PROD")
			Expect(v).To(Equal("VM010802_BLD2"))
		}
	})

	It("copied the managed systems' logs into MAINTCSM.<system> and wrote no password anywhere", func() {
		log := string(readAll(dirArea(principalWorld(state), "VMPSFS:MAINTCSM.VM01"), "$CSMCMD $MSGLOG"))
		Expect(log).To(ContainSubstring("CSM31"))
		Expect(filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || p == pwFile {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			Expect(string(b)).NotTo(ContainSubstring(realPassword), p)
			return nil
		})).To(Succeed())
	})
})

type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) }
