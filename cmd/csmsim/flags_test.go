package main_test

import (
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Issue 12, item 13: a command's flags stand anywhere on its line, as its
// usage line shows (`servmgr OPERANDS... --state DIR`); `--` ends them.
var _ = Describe("flags anywhere on the command line", func() {
	var dir, state string
	BeforeEach(func() {
		state = newPrincipal()
		dir = filepath.Dir(state)
	})
	logLines := func() []string {
		GinkgoHelper()
		log := string(readAll(dirArea(principalWorld(state), "VMPSFS:CSM720."), "$CSMCMD $MSGLOG"))
		return strings.Split(strings.TrimRight(log, "\n"), "\n")
	}

	It("servmgr takes its flags after the operands, before them or between them, and only the operands reach $CSMCMD $MSGLOG", func() {
		ok(csm(dir, "servmgr", "initialize", "720", "--state", state, "--time", logTime))
		out := ok(csm(dir, "servmgr", "srvlvl", "add", "720", "vm010102_BLD1", "basedon", "BASE", "nonesm",
			"desc", "Initial", "RSU", "Install", "--state", state, "--time", logTime))
		Expect(out).To(ContainSubstring("CSM2700I Service level VM010102_BLD1 added"))
		out = ok(csm(dir, "servmgr", "--state", state, "srvlvl", "query", "720", "--time", logTime))
		Expect(out).To(MatchRegexp(`VM010102_BLD1 +BASE +TEST +OFF +Initial RSU Install\n`))
		out = ok(csm(dir, "servmgr", "srvlvl", "--time", logTime, "query", "--state", state, "720", "vm010102_bld1"))
		Expect(out).To(ContainSubstring("SERVMGR SRVLVL QUERY 720 VM010102_BLD1 ended RC=0"))

		lines := logLines()
		Expect(lines).To(ContainElement(HaveSuffix("CSM0001I SERVMGR SRVLVL ADD 720 VM010102_BLD1 BASEDON BASE NONESM DESC Initial RSU Install started")))
		Expect(lines).To(ContainElement(HaveSuffix("CSM0001I SERVMGR SRVLVL QUERY 720 VM010102_BLD1 started")))
		for _, l := range lines {
			Expect(l).To(HavePrefix("2026-11-23 14:00:00 "), "--time applies wherever it stands")
			Expect(l).NotTo(ContainSubstring("--"), "a flag is no SERVMGR operand")
		}
	})

	It("ends the flags at --: an operand that starts with - is passed after it, and a flag after it is an operand", func() {
		ok(csm(dir, "servmgr", "initialize", "720", "--state", state))
		r := csm(dir, "servmgr", "--state", state, "srvlvl", "add", "720", "L1", "basedon", "BASE", "desc", "-x-", "note")
		fails(r, `unknown shorthand flag: 'x' in -x-`)
		Expect(r.stderr).To(ContainSubstring("an operand that starts with - goes after --"))

		ok(csm(dir, "servmgr", "--state", state, "--time", logTime, "--", "srvlvl", "add", "720", "L1", "basedon", "BASE", "desc", "-x-", "note"))
		Expect(ok(csm(dir, "servmgr", "srvlvl", "query", "720", "l1", "--state", state))).To(MatchRegexp(`L1 +BASE +TEST +OFF +-x- note\n`))

		r = csm(dir, "servmgr", "--state", state, "--", "srvlvl", "query", "720", "--time", logTime)
		Expect(r.code).To(Equal(8), r.stderr)
		Expect(r.stdout).To(ContainSubstring(`CSM0010E Syntax error in SERVMGR SRVLVL QUERY, token 4 "--time"`))
		fails(csm(dir, "servmgr", "--", "srvlvl", "query", "720", "--state", state), "--state DIR is required: the state directory holds a principal on disk")
	})

	It("cms and node run take their flags anywhere too", func() {
		fresh := filepath.Join(dir, "fresh")
		ok(csm(dir, "principal", "init", "--state", fresh))
		Expect(ok(csm(dir, "cms", "enroll", "admin", "MAINTCSM", "VMPSFS:", "--state", fresh))).
			To(ContainSubstring("MAINTCSM is now an administrator of file pool VMPSFS"))
		Expect(ok(csm(dir, "cms", "QUERY", "--user", "MAINT720", "FILEPOOL", "VMPSFS:", "--state", fresh))).
			To(ContainSubstring("File pool VMPSFS: 400000 4K blocks"))
		fails(csm(dir, "cms", "--state", fresh, "--", "QUERY", "--user"), "QUERY --USER: unknown command")

		root := filepath.Join(dir, "vm01")
		ok(csm(dir, "node", "init", "--root", root, "--system", "VM01"))
		Expect(ok(csm(dir, "node", "run", "SERVMGR", "MANAGED", "OFF", "--root", root, "--time", logTime))).
			To(ContainSubstring("CSM2910I MANAGED OFF"))
		Expect(ok(csm(dir, "node", "run", "--root", root, "--", "SERVMGR", "MANAGED", "ON"))).
			To(ContainSubstring("CSM2910I MANAGED ON"))
	})
})
