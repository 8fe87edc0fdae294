package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/world"
)

// The seed's sample scenario (../shared/seeds/zvm-csm-overview.txt,
// "Sample Scenario"), each command as the overview prints it, line breaks
// and all (the seed is outside the repository, so it is copied here). A
// shell splits each into the words the spec passes.
const (
	seedEnroll     = "enroll admin MAINTCSM VMPSFS:"
	seedInitialize = "servmgr initialize 720"
	seedAddBLD1    = "servmgr srvlvl add 720 vm010102_BLD1 basedon  \nBASE nonesm desc Initial RSU Install"
	seedServBLD1   = "servmgr srvlvl service 720 vm010102_bld1 all  \nrsu0801"
	seedSystemAdd  = "servmgr system add 720 vm01 vm010102_bld1  \nnonesm hostname vm01.Washington.ibm.com  \ncommtype ftp (port 4535 norequire)"
	seedAddBLD2    = "servmgr srvlvl add 720 vm010802_BLD2 basedon  \nvm010102_BLD1 nonesm desc August RSU Install"
	seedServBLD2   = "servmgr srvlvl service 720 vm010802_BLD2 all  \nrsu0802"
	seedPackage    = "servmgr srvlvl package 720 vm010802_BLD2"
	seedSetlock    = "servmgr srvlvl setlock 720 vm010802_BLD2 on"
	seedSendTest   = "servmgr srvlvl send 720 vm010802_BLD2 vm01  \n(test"
	seedSendStable = "servmgr srvlvl send vm010802_BLD2 vm01  \n(stable"
	seedPut2Prod   = "servmgr system put2prod 720 vm01"
)

var _ = Describe("the seed's sample, typed as the overview prints it, flags after the operands, against csmsim node serve", func() {
	It("ends with VM01 at the new level in production", func() {
		dir := GinkgoT().TempDir()
		state := filepath.Join(dir, "principal")
		pwFile := filepath.Join(dir, "csmwork.pw")
		Expect(os.WriteFile(pwFile, []byte(realPassword+"\n"), 0o600)).To(Succeed())
		var port string
		// typed runs one line of the seed as a shell splits it, with the
		// flags after the operands.
		typed := func(line string, flags ...string) string {
			GinkgoHelper()
			args := append(strings.Fields(line), flags...)
			r := csm(dir, args...)
			Expect(r.code).To(Equal(0), "csmsim %s\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
			return r.stdout
		}
		servmgr := func(line string) string {
			GinkgoHelper()
			flags := []string{"--state", state, "--password-file", pwFile}
			if port != "" {
				// the name and port the seed adds VM01 with lead to the node on loopback
				flags = append(flags, "--connect-to", "vm01.Washington.ibm.com:4535=127.0.0.1:"+port)
			}
			return typed(line, flags...)
		}

		typed("principal init", "--state", state)
		Expect(typed("cms "+seedEnroll, "--state", state)).To(ContainSubstring("MAINTCSM is now an administrator of file pool VMPSFS"))
		typed("fixtures sample", "--state", state) // the RSU envelopes, "as usual from ShopZ"
		Expect(servmgr(seedInitialize)).To(ContainSubstring("CSM2905I"))
		Expect(servmgr(seedAddBLD1)).To(ContainSubstring("CSM2700I Service level VM010102_BLD1 added to release 720, based on BASE"))
		servmgr(seedServBLD1)

		// VM01, installed at vm010102_bld1, serving CSMSERVE on loopback
		root := filepath.Join(dir, "vm01")
		typed("node init", "--root", root, "--system", "VM01", "--state", state, "--level", "vm010102_bld1")
		var node *gexec.Session
		node, port = serveNode(root, pwFile)

		Expect(servmgr(seedSystemAdd)).To(ContainSubstring("CSM3064I System VM01"))
		servmgr(seedAddBLD2)
		servmgr(seedServBLD2)
		servmgr(seedPackage)
		servmgr(seedSetlock)
		Expect(servmgr(seedSendTest)).To(ContainSubstring("1 of 1 systems succeeded"))
		Expect(servmgr(seedSendStable)).To(ContainSubstring("CSM3061I"))
		Expect(servmgr(seedPut2Prod)).To(ContainSubstring("1 of 1 systems succeeded"))
		Expect(strings.Count(servmgr("servmgr system servcheck 720 all"), "CSM3058I")).To(Equal(1))
		Expect(servmgr("servmgr system query 720")).
			To(MatchRegexp(`CSM2821I VM01 +VM010802_BLD2 +VM01\.WASHINGTON\.IBM\.COM +4535 +STABLE`))

		node.Signal(syscall.SIGTERM)
		Eventually(node, 30*time.Second).Should(gexec.Exit(0))
		s, err := world.Open(afero.NewBasePathFs(afero.NewOsFs(), root))
		Expect(err).NotTo(HaveOccurred())
		env := s.Agent(fixedClock{}, table.NewMemLocker())
		info, err := agent.Info(env)
		Expect(err).NotTo(HaveOccurred())
		Expect(info.Level).To(Equal("VM010802_BLD2"))
		inv, _, err := agent.Query(env)
		Expect(err).NotTo(HaveOccurred())
		for _, comp := range []string{"CMS", "CP"} {
			e, found := inv.Get(comp)
			Expect(found).To(BeTrue(), comp)
			prod, _ := e.Get("PROD")
			Expect(prod).To(Equal("VM010802_BLD2"), comp+" in production")
		}

		// the flags stayed flags: SERVMGR's log has only the operands
		log := string(readAll(dirArea(principalWorld(state), "VMPSFS:CSM720."), "$CSMCMD $MSGLOG"))
		Expect(log).To(ContainSubstring("SERVMGR SYSTEM PUT2PROD 720 VM01"))
		Expect(log).NotTo(ContainSubstring("--"))
		Expect(log).NotTo(ContainSubstring(realPassword))
	})

	It("refuses a --connect-to that is not HOST:PORT=HOST2:PORT2 before it touches the principal", func() {
		dir := GinkgoT().TempDir()
		fails(csm(dir, "servmgr", "system", "query", "720", "--state", filepath.Join(dir, "none"), "--connect-to", "vm01.Washington.ibm.com:4535=127.0.0.1"),
			"--connect-to vm01.Washington.ibm.com:4535=127.0.0.1: address 127.0.0.1: missing port in address")
		fails(csm(dir, "servmgr", "system", "query", "720", "--state", filepath.Join(dir, "none"), "--connect-to", "vm01:port=127.0.0.1:4535"),
			`--connect-to vm01:port=127.0.0.1:4535: "vm01:port" is not host:port with a port from 1 to 65535`)
	})

	It("refuses a --verify that names no verification before it touches the principal", func() {
		dir := GinkgoT().TempDir()
		fails(csm(dir, "servmgr", "system", "query", "720", "--state", filepath.Join(dir, "none"), "--verify", "vm01=md5"),
			`--verify vm01=md5: unknown verification "md5": choose xsha256 (the node's SHA-256, the default), readback (read the file back and hash it) or size (SIZE only)`)
	})
})
