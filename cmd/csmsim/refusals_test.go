package main_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Every refusal leaves tables and file pools exactly as they were
// (smRefused compares snapshots of the whole CMS world before and after).
var _ = Describe("SERVMGR refusals", func() {
	Describe("INITIALIZE", func() {
		It("is refused a second time for the same release", func() {
			state := newPrincipal()
			smOK(state, "initialize 720")
			smRefused(state, "initialize 720", "CSM2901E")
		})
		It("is refused on a principal that is an SSI member", func() {
			state := newPrincipal("--ssi", "CLUSTER1")
			Expect(smRefused(state, "initialize 720", "CSM2903E")).To(ContainSubstring("CLUSTER1"))
		})
		It("is refused until MAINTCSM is a file pool administrator", func() {
			dir := GinkgoT().TempDir()
			state := filepath.Join(dir, "p")
			ok(csm(dir, "principal", "init", "--state", state))
			smRefused(state, "initialize 720", "CSM0022E")
		})
		It("is refused when VMPSFS has fewer than 355,800 free blocks", func() {
			state := newPrincipal("--vmpsfs-blocks", "300000")
			Expect(smRefused(state, "initialize 720", "CSM2902E")).To(ContainSubstring("355800 needed"))
		})
		It("is refused for a release below 7.2", func() {
			state := newPrincipal()
			smRefused(state, "initialize 710", "CSM0021E")
		})
	})

	Describe("on an initialized principal", func() {
		var state string
		BeforeEach(func() {
			state = newPrincipal()
			smOK(state, "initialize 720")
			smOK(state, "srvlvl add 720 vm010102_BLD1 basedon BASE nonesm desc Initial RSU Install")
			smOK(state, "srvlvl service 720 vm010102_bld1 all rsu0801")
			smOK(state, "system add 720 vm01 vm010102_bld1 nonesm hostname vm01.example.com commtype ftp (port 4535 norequire nocontact)")
		})

		DescribeTable("each refusal names its reason and changes nothing",
			func(line, id, detail string) {
				out := smRefused(state, line, id)
				Expect(out).To(ContainSubstring(detail))
			},
			Entry("level name over 16 characters", "srvlvl add 720 VM010802_BLD2_LONG basedon BASE", "CSM0010E", "16"),
			Entry("based-on level missing", "srvlvl add 720 VM2 basedon NOSUCH", "CSM2713E", "NOSUCH"),
			Entry("level exists", "srvlvl add 720 vm010102_bld1 basedon BASE", "CSM2711E", "VM010102_BLD1"),
			Entry("unknown level", "srvlvl service 720 NOSUCH all rsu0802", "CSM2710E", "NOSUCH"),
			Entry("envelope not found", "srvlvl service 720 vm010102_bld1 all rsu9999", "CSM2720E", "RSU9999"),
			Entry("component not in the envelope", "srvlvl service 720 vm010102_bld1 REXX rsu0802", "CSM2722E", "REXX"),
			Entry("SERVICE into BASE, advising a level based on it", "srvlvl service 720 BASE all rsu0802", "CSM2718E", "SERVMGR SRVLVL ADD 720 level BASEDON BASE"),
			Entry("delete while a system is at the level", "srvlvl delete 720 vm010102_bld1", "CSM2716E", "VM01"),
			Entry("delete BASE", "srvlvl delete 720 base", "CSM2718E", "deleted"),
			Entry("package BASE", "srvlvl package 720 base", "CSM2718E", "packaged"),
			Entry("system at an unknown level", "system add 720 vm02 nosuch hostname h", "CSM2710E", "NOSUCH"),
			Entry("system already defined", "system add 720 vm01 vm010102_bld1 hostname h", "CSM2811E", "VM01"),
			Entry("managed system below 7.2", "system add 710 vm02 vm010102_bld1 hostname h", "CSM2816E", "710"),
			Entry("unknown system or nickname (PUT2PROD)", "system put2prod 720 nosuch", "CSM2812E", "NOSUCH"),
			Entry("unknown system or nickname (SEND)", "srvlvl send 720 vm010102_bld1 east (test", "CSM2812E", "EAST"),
			Entry("SEND with no transport", "srvlvl send 720 vm010102_bld1 vm01 (test", "CSM3050E", "SRVLVL SEND"),
			Entry("SERVCHECK with no transport", "system servcheck 720 all", "CSM3050E", "SYSTEM SERVCHECK"),
			Entry("syntax error names token and column", "srvlvl add 720 VM2 basedonn BASE", "CSM0010E", `token 5 "basedonn" at column 20: expected BASEDON`),
			Entry("unknown operand", "srvlvl frob 720", "CSM0010E", "expected ADD, DELETE"),
			Entry("MANAGED on the principal", "managed off", "CSM2911E", "managed system"),
			Entry("a description that would break the Service Level Table", "srvlvl add 720 L9 basedon BASE desc August :LOCK.ON",
				"CSM0010E", `token 9 ":LOCK.ON" at column 44: description: a word that starts with ':' (:LOCK.ON) would read back as a tag`),
		)

		It("refuses deleting a level another level is based on", func() {
			smOK(state, "srvlvl add 720 vm010802_BLD2 basedon vm010102_BLD1")
			smOK(state, "system delete 720 vm01")
			smRefused(state, "srvlvl delete 720 vm010102_bld1", "CSM2717E")
			smOK(state, "srvlvl delete 720 vm010802_bld2")
			smOK(state, "srvlvl delete 720 vm010102_bld1")
		})

		It("refuses SERVICE into a STABLE level", func() {
			editFile(state, "sfs/VMPSFS/CSM720/CSM.SVCSTAT", ":STATE.TEST :LOCK.OFF :ESM.NONE :DESC.Initial", ":STATE.STABLE :LOCK.OFF :ESM.NONE :DESC.Initial")
			smRefused(state, "srvlvl service 720 vm010102_bld1 all rsu0802", "CSM2715E")
		})

		It("refuses a damaged envelope with its reason code and the failing member's offset", func() {
			smOK(state, "srvlvl add 720 vm010802_BLD2 basedon vm010102_BLD1")
			p := filepath.Join(state, "cms/mdisk/MAINTCSM.0191/RSU0802.SERVLINK")
			b, err := os.ReadFile(p)
			Expect(err).NotTo(HaveOccurred())
			off := dataOffset(b, 2) // inside the second part's data
			b[off+3] ^= 0x20
			Expect(os.WriteFile(p, b, 0o644)).To(Succeed())
			out := smRefused(state, "srvlvl service 720 vm010802_BLD2 all rsu0802", "CSM2721E")
			Expect(out).To(MatchRegexp(`reason code 0808 at offset \d+`))
		})

		It("refuses a malformed table, naming file, line and column", func() {
			editFile(state, "sfs/VMPSFS/CSM720/CSM.SVCSTAT", ":SRVLVL.VM010102_BLD1", ":SRVLVL VM010102_BLD1")
			out := smRefused(state, "srvlvl query 720", "CSM3000E")
			Expect(out).To(ContainSubstring("CSM SVCSTAT is malformed at line 3, column 1"))
		})

		It("refuses a level that would not fit the file space quota", func() {
			ok(csm(filepath.Dir(state), "cms", "--state", state, "MODIFY USER CSM720 VMPSFS: (BLOCKS 100"))
			smRefused(state, "srvlvl add 720 vm010802_BLD2 basedon vm010102_BLD1", "CSM0030E")
		})

		It("resolves nicknames, nested, and refuses a cycle", func() {
			names := ":TABLE.NAMES :GEN.1\n:NICK.EAST :LIST.VM01 WEST\n:NICK.WEST :LIST.EAST\n"
			Expect(os.WriteFile(filepath.Join(state, "cms/mdisk/MAINTCSM.0191/MAINTCSM.NAMES"), []byte(names), 0o644)).To(Succeed())
			smRefused(state, "system query 720 east", "CSM2813E")
			names = ":TABLE.NAMES :GEN.1\n:NICK.EAST :LIST.WEST\n:NICK.WEST :LIST.VM01\n"
			Expect(os.WriteFile(filepath.Join(state, "cms/mdisk/MAINTCSM.0191/MAINTCSM.NAMES"), []byte(names), 0o644)).To(Succeed())
			Expect(smOK(state, "system query 720 east")).To(MatchRegexp(`CSM2821I VM01 `))
			smRefused(state, "system put2prod 720 east", "CSM3050E")
		})

		It("reads MAINTCSM NAMES as a CMS NAMES file and names an unknown member", func() {
			names := "* CSM nicknames\n:nick.EAST :userid.MAINT720\n   :list.VM01\n         VM02\n"
			Expect(os.WriteFile(filepath.Join(state, "cms/mdisk/MAINTCSM.0191/MAINTCSM.NAMES"), []byte(names), 0o644)).To(Succeed())
			out := smRefused(state, "system query 720 east", "CSM2823E")
			Expect(out).To(ContainSubstring("CSM2823E VM02, listed in nickname EAST in MAINTCSM NAMES, is neither a system of release 720 nor a nickname"))
			smOK(state, "system add 720 vm02 vm010102_bld1 hostname vm02.example.com (nocontact")
			out = smOK(state, "system query 720 east")
			Expect(out).To(MatchRegexp(`CSM2821I VM01 `))
			Expect(out).To(MatchRegexp(`CSM2821I VM02 `))
		})

		It("refuses the 55th system", func() {
			for i := 2; i <= 54; i++ {
				smOK(state, fmt.Sprintf("system add 720 vm%02d vm010102_bld1 hostname vm%02d.example.com (nocontact", i, i))
			}
			out := smRefused(state, "system add 720 vm55 vm010102_bld1 hostname vm55.example.com (nocontact", "CSM2814E")
			Expect(out).To(ContainSubstring("54 systems"))
		})

		It("loses no update when 50 SERVMGR processes add systems at once", func() {
			var wg sync.WaitGroup
			codes := make([]int, 50)
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cmd := exec.Command(csmsim, "servmgr", "--state", state, fmt.Sprintf("system add 720 p%02d vm010102_bld1 hostname h%d (nocontact", i, i))
					if err := cmd.Run(); err != nil {
						codes[i] = cmd.ProcessState.ExitCode()
					}
				}()
			}
			wg.Wait()
			Expect(codes).To(HaveEach(0))
			out := smOK(state, "system query 720 all")
			Expect(strings.Count(out, "CSM2821I P")).To(Equal(50))
		})
	})
})

// dataOffset is where the data of the n-th tar member (0: the manifest)
// starts in stream b.
func dataOffset(b []byte, n int) int {
	GinkgoHelper()
	cr := &countingReader{r: bytes.NewReader(b)}
	tr := tar.NewReader(cr)
	for i := 0; i <= n; i++ {
		_, err := tr.Next()
		Expect(err).NotTo(HaveOccurred())
	}
	// tar.Reader reads headers in 512-byte blocks and no further.
	return int(cr.n)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// editFile replaces text in a file of the principal's CMS world, as a
// damaged or hand-edited file would.
func editFile(state, rel, from, to string) {
	GinkgoHelper()
	p := filepath.Join(state, "cms", rel)
	b, err := os.ReadFile(p)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(b)).To(ContainSubstring(from))
	Expect(os.WriteFile(p, []byte(strings.Replace(string(b), from, to, 1)), 0o644)).To(Succeed())
}
