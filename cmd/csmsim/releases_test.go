package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// One principal serving several releases, as a shop in the middle of a
// migration runs 7.2 and 7.3 side by side (issue 12 item 11).
var _ = Describe("one principal, several releases", Ordered, func() {
	var dir, state, pwFile string
	var serving []*gexec.Session
	smw := func(line string) result {
		return csm(dir, "servmgr", "--state", state, "--time", logTime, "--password-file", pwFile, line)
	}
	smwOK := func(line string) string {
		GinkgoHelper()
		r := smw(line)
		Expect(r.code).To(Equal(0), "%s\n%s%s", line, r.stdout, r.stderr)
		return r.stdout
	}
	node := func(sys, release, lvl string) string {
		GinkgoHelper()
		root := filepath.Join(dir, strings.ToLower(sys))
		out := ok(csm(dir, "node", "init", "--root", root, "--system", sys, "--release", release, "--state", state, "--level", lvl))
		Expect(out).To(ContainSubstring("(release " + release + ")"))
		// Served until AfterAll: serveNode's own cleanup would stop it
		// at the end of the spec that starts it.
		cmd := exec.Command(csmsim, "node", "serve", "--root", root, "--listen", "127.0.0.1:0", "--password-file", pwFile)
		sess, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		serving = append(serving, sess)
		Eventually(sess.Out, 10*time.Second).Should(gbytes.Say(`listening on 127\.0\.0\.1:\d+`))
		m := regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+)`).FindStringSubmatch(string(sess.Out.Contents()))
		Expect(m).To(HaveLen(2))
		return m[1]
	}
	AfterAll(func() {
		for _, s := range serving {
			s.Kill().Wait(5 * time.Second)
		}
	})

	BeforeAll(func() {
		state = newPrincipal("--release", "720,730,740")
		dir = filepath.Dir(state)
		pwFile = filepath.Join(dir, "csmwork.pw")
		Expect(os.WriteFile(pwFile, []byte(realPassword+"\n"), 0o600)).To(Succeed())
	})

	It("principal init --release carries each release: INITIALIZE 720, 730 and 740 on one principal", func() {
		for _, rel := range []string{"720", "730", "740"} {
			out := smOK(state, "initialize "+rel)
			Expect(out).To(ContainSubstring("CSM2900I Release " + rel + " initialized: CSM" + rel + " UNLOAD loaded into VMPSFS:CSM" + rel + ".BASE"))
			Expect(out).To(ContainSubstring("CSM2905I Service Level Table of release " + rel + " created with level BASE"))
		}
		Expect(smOK(state, "srvlvl query 730 all")).To(ContainSubstring("BASE"))
	})

	It("refuses a release below 7.2 or given twice, and without --release carries 720 only", func() {
		fails(csm(dir, "principal", "init", "--state", filepath.Join(dir, "p710"), "--release", "720,710"), "--release \"710\"")
		fails(csm(dir, "principal", "init", "--state", filepath.Join(dir, "p2"), "--release", "730,730"), "given twice")
		plain := newPrincipal()
		smOK(plain, "initialize 720")
		smRefused(plain, "initialize 730", "CSM2904E")
	})

	It("keeps each release's service apart: an envelope of 720 is refused by a 730 level (CSM2721E)", func() {
		out := ok(csm(dir, "fixtures", "gen", "--state", state, "--release", "730", "--kind", "rsu", "--name", "rsu7301", "--seed", "7301"))
		Expect(out).To(ContainSubstring("RSU7301 SERVLINK generated"))
		ok(csm(dir, "fixtures", "gen", "--state", state, "--release", "730", "--kind", "rsu", "--name", "rsu7302", "--seed", "7302"))
		fails(csm(dir, "fixtures", "gen", "--state", state, "--release", "750", "--kind", "rsu", "--name", "rsu7501"), "carries 720, 730, 740 only")
		smOK(state, "srvlvl add 720 L720A basedon BASE nonesm desc 7.2 install")
		smOK(state, "srvlvl service 720 L720A all rsu0801")
		smOK(state, "srvlvl add 730 L730A basedon BASE nonesm desc 7.3 install")
		Expect(smRefused(state, "srvlvl service 730 L730A all rsu0801", "CSM2721E")).To(ContainSubstring("it is service for release 720, and level L730A is of release 730"))
		smOK(state, "srvlvl service 730 L730A all rsu7301")
	})

	It("node init --release 730 makes a 7.3 system; SYSTEM ADD 720 refuses it (CSM2832E), SYSTEM ADD 730 adds it", func() {
		port := node("VM03", "730", "L730A")
		before := snapshot(state)
		r := smw("system add 720 vm03 L720A nonesm hostname 127.0.0.1 (port " + port + " norequire")
		Expect(r.code).To(Equal(8), r.stdout)
		Expect(r.stdout).To(ContainSubstring("CSM2832E System VM03 reports release 730, not 720"))
		Expect(snapshot(state)).To(Equal(before))
		Expect(smwOK("system add 730 vm03 L730A nonesm hostname 127.0.0.1 (port " + port + " norequire")).To(ContainSubstring("CSM3064I System VM03 reports release 730"))
		port = node("VM01", "720", "L720A")
		smwOK("system add 720 vm01 L720A nonesm hostname 127.0.0.1 (port " + port + " norequire")
		q := smOK(state, "system query 730")
		Expect(q).To(MatchRegexp(`CSM2821I VM03 +L730A `))
		Expect(q).NotTo(ContainSubstring("VM01"))
		Expect(smRefused(state, "system query 730 vm01", "CSM2831E")).To(ContainSubstring("enter SERVMGR SYSTEM QUERY 720 VM01"))
	})

	It("refuses a SEND of a 730 level to a 720 system (CSM2830E): RC 8, nothing sent, nothing changed", func() {
		smOK(state, "srvlvl add 730 L730B basedon L730A nonesm desc 7.3 next")
		smOK(state, "srvlvl service 730 L730B all rsu7302")
		smOK(state, "srvlvl package 730 L730B")
		before := snapshot(state)
		vm01 := snapshot(filepath.Join(dir, "vm01"))
		r := smw("srvlvl send 730 L730B vm01 (test")
		Expect(r.code).To(Equal(8), r.stdout)
		Expect(r.stdout).To(ContainSubstring("CSM2830E System VM01 runs release 720; service level L730B of release 730 was not sent to it"))
		Expect(r.stdout).NotTo(ContainSubstring("CSM3053I"))
		Expect(snapshot(state)).To(Equal(before))
		Expect(snapshot(filepath.Join(dir, "vm01"))).To(Equal(vm01))
		// The level typed without a release finds its own: 730.
		r = smw("srvlvl send L730B vm01 (test")
		Expect(r.code).To(Equal(8), r.stdout)
		Expect(r.stdout).To(ContainSubstring("CSM2830E"))
	})

	It("sends, puts into production and checks each release on its own systems", func() {
		Expect(smwOK("srvlvl send 730 L730B all (stable")).To(ContainSubstring("CSM3061I Service level L730B of release 730 is now STABLE"))
		Expect(smwOK("system put2prod 730 all")).To(ContainSubstring("CSM3057I VM03: service level L730B put into production"))
		out := smwOK("system servcheck 730 all")
		Expect(out).To(ContainSubstring("CSM3058I VM03: no drift from service level L730B"))
		Expect(out).NotTo(ContainSubstring("VM01"))
		out = smwOK("system servcheck 720 all")
		Expect(out).To(ContainSubstring("CSM3058I VM01: no drift from service level L720A"))
		Expect(out).NotTo(ContainSubstring("VM03"))
		r := smw("system put2prod 720 vm03")
		Expect(r.code).To(Equal(8), r.stdout)
		Expect(r.stdout).To(ContainSubstring("CSM2831E System VM03 runs release 730, not 720; nothing was done on it; enter SERVMGR SYSTEM PUT2PROD 730 VM03 for it"))
	})
})
