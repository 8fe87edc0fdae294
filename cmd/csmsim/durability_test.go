package main_test

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// What survives a crash or a torn write, through the CLI a sysprog uses.
var _ = Describe("a torn CSM table", func() {
	var state, svcstat string
	BeforeEach(func() {
		state = newPrincipal()
		smOK(state, "initialize 720")
		smOK(state, "srvlvl add 720 L1 basedon BASE")
		smOK(state, "srvlvl add 720 L2 basedon L1")
		svcstat = filepath.Join(state, "cms/sfs/VMPSFS/CSM720/CSM.SVCSTAT")
	})
	truncate := func(by int) {
		GinkgoHelper()
		fi, err := os.Stat(svcstat)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.Truncate(svcstat, fi.Size()-int64(by))).To(Succeed())
	}

	It("is refused with the file and offset, not read as a shorter table, and nothing is written (truncate -s mid-entry)", func() {
		truncate(20)
		out := smRefused(state, "srvlvl query 720", "CSM3000E")
		Expect(out).To(MatchRegexp(`CSM3000E Table CSM SVCSTAT is malformed at line 4, column \d+ \(offset \d+\): the file ends in the middle of line 4`))
		Expect(out).To(ContainSubstring("csmsim table recover"))
		smRefused(state, "srvlvl add 720 L9 basedon BASE", "CSM3000E")
	})

	It("cut at a line's end loses no level silently", func() {
		b, err := os.ReadFile(svcstat)
		Expect(err).NotTo(HaveOccurred())
		lines := strings.SplitAfter(string(b), "\n")
		truncate(len(lines[len(lines)-2])) // the whole last entry
		out := smRefused(state, "srvlvl query 720", "CSM3000E")
		Expect(out).To(ContainSubstring("the header says 3 entries, the file ends after 2"))
	})

	It("is found by table check and put back by table recover; the lost change is entered again", func() {
		truncate(20)
		r := csm(filepath.Dir(state), "table", "check", "--state", state)
		Expect(r.code).To(Equal(1))
		Expect(r.stdout).To(MatchRegexp(`(?m)^SVCSTAT  TORN: CSM SVCSTAT: line 4`))
		Expect(r.stdout).To(MatchRegexp(`(?m)^SYSSTAT  CSM SYSSTAT: (whole|none)`))
		fails(r, "1 table(s) torn; recover each with csmsim table recover")

		out := ok(csm(filepath.Dir(state), "table", "recover", "--state", state, "svcstat"))
		Expect(out).To(ContainSubstring("CSM SVCSTAT recovered: generation 2 (2 entries) restored as generation 4"))
		q := smOK(state, "srvlvl query 720")
		Expect(q).To(ContainSubstring("L1"))
		Expect(q).NotTo(ContainSubstring("L2 ")) // the torn generation's change is gone ...
		Expect(ok(csm(filepath.Dir(state), "servmgr", "--state", state, "srvlvl query 720"))).To(ContainSubstring("BASE"))
		smOK(state, "srvlvl add 720 L2 basedon L1") // ... and entered again
		Expect(ok(csm(filepath.Dir(state), "table", "check", "--state", state))).To(ContainSubstring("SVCSTAT  CSM SVCSTAT: whole, generation 5, 3 entries"))
		fails(csm(filepath.Dir(state), "table", "recover", "--state", state, "SVCSTAT"), "is intact at generation 5; nothing to recover")
	})
})
