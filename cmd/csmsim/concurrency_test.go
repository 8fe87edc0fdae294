package main_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// Two processes in one state directory, as a sysprog has them.
var _ = Describe("processes sharing a state", func() {
	It("lets MAINT720 run SERVMGR MANAGED OFF while the node's CSMSERVE serves", func() {
		state := newPrincipal()
		dir := filepath.Dir(state)
		smOK(state, "initialize 720")
		smOK(state, "srvlvl add 720 L1 basedon BASE")
		pwFile := filepath.Join(dir, "csmwork.pw")
		Expect(os.WriteFile(pwFile, []byte(realPassword+"\n"), 0o600)).To(Succeed())
		root := filepath.Join(dir, "vm01")
		ok(csm(dir, "node", "init", "--root", root, "--system", "VM01", "--state", state, "--level", "L1"))
		serveNode(root, pwFile)

		run, err := gexec.Start(exec.Command(csmsim, "node", "run", "--root", root, "SERVMGR", "MANAGED", "OFF"), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { run.Kill() })
		Eventually(run, 20*time.Second).Should(gexec.Exit(0))
		Expect(string(run.Out.Contents())).To(ContainSubstring("CSM2910I"))
	})

	It("says what a command waits for when another command holds it", func() {
		state := newPrincipal()
		dir := filepath.Dir(state)
		smOK(state, "initialize 720")
		smOK(state, "srvlvl add 720 L1 basedon BASE")
		port := muteNode()
		pwFile := filepath.Join(dir, "csmwork.pw")
		Expect(os.WriteFile(pwFile, []byte(realPassword+"\n"), 0o600)).To(Succeed())
		add := func(system string) *gexec.Session {
			s, err := gexec.Start(exec.Command(csmsim, "servmgr", "--state", state, "--password-file", pwFile, "--timeout", "60s",
				"system add 720 "+system+" L1 hostname 127.0.0.1 (port "+port+" norequire"), GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { s.Kill() })
			return s
		}
		first := add("vm01") // asks the mute node, holding SYSTEM ADD's lock
		Consistently(first, time.Second).ShouldNot(gexec.Exit())
		second := add("vm02")
		Eventually(second.Err, 10*time.Second).Should(gbytes.Say(`csmsim: waiting for VMPSFS:MAINTCSM\. SERVMGR: another command in .* holds it`))

		// With --log-format json the wait is an event of the log: every
		// line of stderr stays one JSON object.
		third, err := gexec.Start(exec.Command(csmsim, "servmgr", "--state", state, "--password-file", pwFile, "--log-format", "json",
			"system add 720 vm03 L1 hostname 127.0.0.1 (port "+port+" norequire"), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { third.Kill() })
		Eventually(third.Err, 10*time.Second).Should(gbytes.Say(`"msg":"waiting for a lock another command holds","resource":"VMPSFS:MAINTCSM\. SERVMGR","state":"` + regexp.QuoteMeta(state) + `"`))
		Expect(jsonLines(string(third.Err.Contents()))).NotTo(BeEmpty())
	})

	It("answers a query at once while a SEND waits for a node that does not answer", func() {
		state := newPrincipal()
		dir := filepath.Dir(state)
		smOK(state, "initialize 720")
		smOK(state, "srvlvl add 720 L1 basedon BASE")
		smOK(state, "srvlvl add 720 L2 basedon L1")
		smOK(state, "srvlvl service 720 L2 all rsu0801")
		smOK(state, "srvlvl package 720 L2")
		port := muteNode()
		smOK(state, "system add 720 vm01 L1 hostname 127.0.0.1 (port "+port+" norequire nocontact")
		pwFile := filepath.Join(dir, "csmwork.pw")
		Expect(os.WriteFile(pwFile, []byte(realPassword+"\n"), 0o600)).To(Succeed())

		send, err := gexec.Start(exec.Command(csmsim, "servmgr", "--state", state, "--password-file", pwFile, "--timeout", "60s",
			"srvlvl send 720 L2 vm01 (test"), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { send.Kill() })
		Consistently(send, 2*time.Second).ShouldNot(gexec.Exit(), "the SEND is waiting for the node")

		query, err := gexec.Start(exec.Command(csmsim, "servmgr", "--state", state, "srvlvl query 720"), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { query.Kill() })
		Eventually(query, 15*time.Second).Should(gexec.Exit(0))
		Expect(string(query.Out.Contents())).To(ContainSubstring("CSM2741I L2"))
		Expect(send.ExitCode()).To(Equal(-1), "the SEND is still waiting")
	})
})

// muteNode is a node that accepts connections and never says a word; it
// returns its port.
func muteNode() string {
	GinkgoHelper()
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	DeferCleanup(func() {
		mute.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	_, port, _ := net.SplitHostPort(mute.Addr().String())
	return port
}
