package main_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/fixtures"
	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
	"github.com/csmsim/csmsim/sim/world"
)

const logTime = "2026-11-23T14:00:00Z"

// sm runs one SERVMGR command against the principal in state.
func sm(state string, line string) result {
	return csm(filepath.Dir(state), "servmgr", "--state", state, "--time", logTime, line)
}

// smOK asserts RC 0 and returns the output.
func smOK(state, line string) string {
	GinkgoHelper()
	r := sm(state, line)
	Expect(r.code).To(Equal(0), "%s\n%s%s", line, r.stdout, r.stderr)
	return r.stdout
}

// smRefused asserts RC 8 with message id and that nothing but the logs
// changed.
func smRefused(state, line, id string) string {
	GinkgoHelper()
	before := snapshot(state)
	r := sm(state, line)
	Expect(r.code).To(Equal(8), "%s\n%s", line, r.stdout)
	Expect(r.stdout).To(ContainSubstring(id+" "), line)
	Expect(snapshot(state)).To(Equal(before), "a refused command changed the principal: "+line)
	return r.stdout
}

// newPrincipal makes a principal ready for INITIALIZE, as the seed's first
// steps do: MAINTCSM enrolled as administrator, sample envelopes placed.
func newPrincipal(extra ...string) string {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	state := filepath.Join(dir, "principal")
	ok(csm(dir, append([]string{"principal", "init", "--state", state}, extra...)...))
	ok(csm(dir, "cms", "--state", state, "ENROLL", "ADMIN", "MAINTCSM", "VMPSFS:"))
	ok(csm(dir, "fixtures", "sample", "--state", state))
	return state
}

// snapshot hashes every file of the principal's CMS world except the
// command logs, which every command appends to by design.
func snapshot(state string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	root := filepath.Join(state, "cms")
	Expect(filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel+"/"] = "dir"
			return nil
		}
		if strings.HasSuffix(p, "$CSMCMD.$MSGLOG") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})).To(Succeed())
	return out
}

// principalWorld opens the state to look inside, as a test.
func principalWorld(state string) *world.System {
	GinkgoHelper()
	s, err := world.Open(afero.NewBasePathFs(afero.NewOsFs(), state))
	Expect(err).NotTo(HaveOccurred())
	return s
}

func dirArea(s *world.System, dir string) cms.FileArea {
	GinkgoHelper()
	p, err := s.FilePool("VMPSFS")
	Expect(err).NotTo(HaveOccurred())
	a, err := p.Dir(cms.MustParseDirID(dir))
	Expect(err).NotTo(HaveOccurred(), dir)
	return a
}

func readAll(a cms.FileArea, id string) []byte {
	GinkgoHelper()
	r, err := a.Open(cms.MustParseFileID(id))
	Expect(err).NotTo(HaveOccurred(), id+" in "+a.String())
	defer r.Close()
	b, err := io.ReadAll(r)
	Expect(err).NotTo(HaveOccurred())
	return b
}

func readTable(a cms.FileArea, id string) *table.Table {
	GinkgoHelper()
	t, err := table.Parse(id, bytes.NewReader(readAll(a, id)))
	Expect(err).NotTo(HaveOccurred())
	return t
}

func tag(t *table.Table, key, tagName string) string {
	GinkgoHelper()
	e, found := t.Get(key)
	Expect(found).To(BeTrue(), "no entry %s in %s", key, t.Name)
	v, _ := e.Get(tagName)
	return v
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var _ = Describe("the seed's principal-side steps through the CLI", Ordered, func() {
	var state string
	base, rsu0801, rsu0802 := fixtures.Sample()
	bld1 := base.Apply(rsu0801)
	bld2 := bld1.Apply(rsu0802)

	BeforeAll(func() { state = newPrincipal() })

	It("servmgr initialize 720 loads BASE and creates the Service Level Table", func() {
		out := smOK(state, "servmgr initialize 720")
		Expect(out).To(ContainSubstring("CSM2900I"))
		s := principalWorld(state)
		svc := readTable(dirArea(s, "VMPSFS:CSM720."), "CSM SVCSTAT")
		Expect(svc.Len()).To(Equal(1))
		Expect(tag(svc, "BASE", "STATE")).To(Equal("STABLE"))
		for _, p := range base.Parts {
			_, want := fixtures.PartInfo(p)
			got := readAll(dirArea(s, "VMPSFS:CSM720.BASE."+p.Component+"."+p.Area), p.File)
			Expect(sha(got)).To(Equal(want), p.Member())
		}
		cat := readTable(dirArea(s, "VMPSFS:CSM720.BASE.CMS"), "CMS PARTCAT")
		Expect(tag(cat, "BUILD DMSNUC TEXT", "NUC")).To(Equal("YES"))
		top := dirArea(s, "VMPSFS:CSM720.BASE")
		for _, f := range []string{"SERVLVL DESCRIPT", "CSMSRV BITMAP", "VVTLCL SUMMARY", "CSMPKG BASELIST"} {
			Expect(readAll(top, f)).NotTo(BeEmpty(), f)
		}
		Expect(readTable(dirArea(s, "VMPSFS:MAINTCSM."), "CSM SYSSTAT").Len()).To(Equal(0))
	})

	It("servmgr srvlvl add 720 vm010102_BLD1 basedon BASE primes the level from BASE", func() {
		smOK(state, "servmgr srvlvl add 720 vm010102_BLD1 basedon\nBASE nonesm desc Initial RSU Install")
		s := principalWorld(state)
		svc := readTable(dirArea(s, "VMPSFS:CSM720."), "CSM SVCSTAT")
		Expect(tag(svc, "VM010102_BLD1", "STATE")).To(Equal("TEST"))
		Expect(tag(svc, "VM010102_BLD1", "BASEDON")).To(Equal("BASE"))
		Expect(tag(svc, "VM010102_BLD1", "DESC")).To(Equal("Initial RSU Install"))
		for _, p := range base.Parts {
			_, want := fixtures.PartInfo(p)
			Expect(sha(readAll(dirArea(s, "VMPSFS:CSM720.VM010102_BLD1."+p.Component+"."+p.Area), p.File))).To(Equal(want))
		}
		top := dirArea(s, "VMPSFS:CSM720.VM010102_BLD1")
		Expect(string(readAll(top, "VMSESE PROFILE"))).To(ContainSubstring("VM010102_BLD1"))
		Expect(string(readAll(top, "CSM PPF"))).To(ContainSubstring("VMPSFS:CSM720.VM010102_BLD1.CMS.BUILD"))
	})

	It("servmgr srvlvl service 720 vm010102_bld1 all rsu0801 applies the RSU and builds the nucleus", func() {
		out := smOK(state, "servmgr srvlvl service 720 vm010102_bld1 all\nrsu0801")
		Expect(out).To(ContainSubstring("CSM2730I"))
		s := principalWorld(state)
		for _, p := range rsu0801.Parts {
			lvl := "VMPSFS:CSM720.VM010102_BLD1." + p.Component
			Expect(sha(readAll(dirArea(s, lvl+"."+p.Area), p.File))).To(Equal(p.SHA256), p.Member())
			cat := readTable(dirArea(s, lvl), p.Component+" PARTCAT")
			Expect(tag(cat, p.Area+" "+p.File, "SHA256")).To(Equal(p.SHA256))
			Expect(tag(cat, p.Area+" "+p.File, "PTF")).To(Equal(p.PTF))
			apps := readTable(dirArea(s, lvl), p.Component+" SRVAPPS")
			Expect(tag(apps, p.PTF, "ENVELOPE")).To(Equal("RSU0801"))
			recs := readTable(dirArea(s, lvl), p.Component+" SRVRECS")
			Expect(tag(recs, "RSU0801", "KIND")).To(Equal("RSU"))
		}
		expectNucleus(s, "VM010102_BLD1", bld1)
	})

	It("servmgr system add 720 vm01 ... without CSMWORK's password is refused, saying how to give it", func() {
		out := smRefused(state, "servmgr system add 720 vm01 vm010102_bld1\nnonesm hostname vm01.Washington.ibm.com\ncommtype ftp (port 4535 norequire)", "CSM2817E")
		Expect(out).To(ContainSubstring("--password-file FILE, or the environment variable CSMSIM_CSMWORK_PASSWORD"))
		Expect(out).To(ContainSubstring("NOCONTACT"))
	})

	It("servmgr system add 720 vm01 ... (port 4535 norequire nocontact) records the system unconfirmed", func() {
		out := smOK(state, "servmgr system add 720 vm01 vm010102_bld1\nnonesm hostname vm01.Washington.ibm.com\ncommtype ftp (port 4535 norequire nocontact)")
		Expect(out).To(ContainSubstring("CSM2803I System VM01 recorded without contacting it (NOCONTACT)"))
		s := principalWorld(state)
		sys := readTable(dirArea(s, "VMPSFS:MAINTCSM."), "CSM SYSSTAT")
		Expect(tag(sys, "VM01", "SRVLVL")).To(Equal("VM010102_BLD1"))
		Expect(tag(sys, "VM01", "PORT")).To(Equal("4535"))
		Expect(tag(sys, "VM01", "SECURE")).To(Equal("NOREQUIRE"))
		dirArea(s, "VMPSFS:MAINTCSM.VM01")
	})

	It("servmgr srvlvl add vm010802_BLD2 and service rsu0802 build the second level", func() {
		smOK(state, "servmgr srvlvl add 720 vm010802_BLD2 basedon\nvm010102_BLD1 nonesm desc August RSU Install")
		smOK(state, "servmgr srvlvl service 720 vm010802_BLD2 all\nrsu0802")
		s := principalWorld(state)
		for _, p := range bld2.Parts {
			_, want := fixtures.PartInfo(p)
			Expect(sha(readAll(dirArea(s, "VMPSFS:CSM720.VM010802_BLD2."+p.Component+"."+p.Area), p.File))).To(Equal(want), p.Member())
		}
		expectNucleus(s, "VM010802_BLD2", bld2)
	})

	It("servmgr srvlvl package 720 vm010802_BLD2 writes SERVLINKs of only the changed parts", func() {
		out := smOK(state, "servmgr srvlvl package 720 vm010802_BLD2")
		Expect(out).To(ContainSubstring("CSM2737I"))
		s := principalWorld(state)
		pkg := dirArea(s, "VMPSFS:CSM720.VM010802_BLD2.PACKAGE")
		// What changed from BLD1 to BLD2, by component; CMS also carries
		// the rebuilt nucleus dump.
		want := map[string][]string{}
		for _, p := range fixtures.Diff(bld1, bld2) {
			want[p.Component] = append(want[p.Component], p.Member())
		}
		want["CMS"] = append(want["CMS"], "CMS/BUILD/CMSNUC.DDRDUMP")
		var man servlink.Manifest
		Expect(json.Unmarshal(readAll(pkg, "CSMPKG MANIFEST"), &man)).To(Succeed())
		Expect(man.Kind).To(Equal(servlink.KindPackage))
		Expect(man.BasedOn).To(Equal("VM010102_BLD1"))
		files, err := pkg.List()
		Expect(err).NotTo(HaveOccurred())
		var links []string
		for _, f := range files {
			if f.ID.FT() == "SERVLINK" {
				links = append(links, f.ID.FN())
			}
		}
		Expect(links).To(ConsistOf(mapKeys(want)))
		Expect(man.Servlinks).To(HaveLen(len(want)))
		for _, ref := range man.Servlinks {
			b := readAll(pkg, ref.File)
			Expect(sha(b)).To(Equal(ref.SHA256))
			Expect(int64(len(b))).To(Equal(ref.Size))
			m, err := servlink.Validate(bytes.NewReader(b))
			Expect(err).NotTo(HaveOccurred())
			Expect(m.Level).To(Equal("VM010802_BLD2"))
			var members []string
			for _, p := range m.Parts {
				members = append(members, p.Member())
				if p.File != "CMSNUC DDRDUMP" {
					Expect(p.SHA256).To(Equal(sha(readAll(dirArea(s, "VMPSFS:CSM720.VM010802_BLD2."+p.Component+"."+p.Area), p.File))))
				}
			}
			Expect(members).To(ConsistOf(want[ref.Component]), ref.Component)
		}
	})

	It("servmgr srvlvl setlock 720 vm010802_BLD2 on locks it; SERVICE into it is then refused", func() {
		smOK(state, "servmgr srvlvl setlock 720 vm010802_BLD2 on")
		svc := readTable(dirArea(principalWorld(state), "VMPSFS:CSM720."), "CSM SVCSTAT")
		Expect(tag(svc, "VM010802_BLD2", "LOCK")).To(Equal("ON"))
		smRefused(state, "servmgr srvlvl service 720 vm010802_BLD2 all rsu0801", "CSM2714E")
	})

	It("servmgr srvlvl query 720 lists the levels in aligned columns", func() {
		out := smOK(state, "servmgr srvlvl query 720")
		Expect(out).To(MatchRegexp(`CSM2741I BASE +- +STABLE ON `))
		Expect(out).To(MatchRegexp(`CSM2741I VM010102_BLD1 +BASE +TEST +OFF +Initial RSU Install`))
		Expect(out).To(MatchRegexp(`CSM2741I VM010802_BLD2 +VM010102_BLD1 +TEST +ON +August RSU Install`))
		cols := func(line string) int { return strings.Index(line, "TEST") }
		var rows []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "TEST ") {
				rows = append(rows, l)
			}
		}
		Expect(rows).To(HaveLen(2))
		Expect(cols(rows[0])).To(Equal(cols(rows[1])))
	})

	It("logs every command in $CSMCMD $MSGLOG with the injected time", func() {
		log := string(readAll(dirArea(principalWorld(state), "VMPSFS:CSM720."), "$CSMCMD $MSGLOG"))
		Expect(log).To(ContainSubstring("2026-11-23 14:00:00 MAINTCSM"))
		Expect(log).To(ContainSubstring("SRVLVL PACKAGE 720 VM010802_BLD2"))
		Expect(log).To(ContainSubstring("CSM2714E"))
		Expect(strings.Count(log, "CSM0002I")).To(BeNumerically(">=", 8))
	})
})

func mapKeys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// expectNucleus restores the level's nucleus dump onto a scratch volume and
// checks that its records hold the CMS nucleus parts of spec, in order.
func expectNucleus(s *world.System, lvl string, spec fixtures.BaseSpec) {
	GinkgoHelper()
	dump := readAll(dirArea(s, "VMPSFS:CSM720."+lvl+".TESTBLD"), "CMSNUC DDRDUMP")
	h, err := ddr.Verify(bytes.NewReader(dump))
	Expect(err).NotTo(HaveOccurred())
	Expect(h.DevType).To(Equal("3390"))
	var want []byte
	for _, p := range spec.Parts {
		if p.Component == "CMS" && p.Area == "BUILD" && p.Nucleus {
			b, err := io.ReadAll(fixtures.Open(p))
			Expect(err).NotTo(HaveOccurred())
			want = append(want, b...)
		}
	}
	Expect(want).NotTo(BeEmpty())
	mem := afero.NewMemMapFs()
	v, err := ckd.Create(mem, "nuc.390", "3390", h.LastCyl+1, "NUC")
	Expect(err).NotTo(HaveOccurred())
	e, _ := v.Extent(0, v.Cylinders())
	_, err = ddr.Restore(bytes.NewReader(dump), e, -1)
	Expect(err).NotTo(HaveOccurred())
	var got []byte
	for c := 0; c < v.Cylinders(); c++ {
		for hd := 0; hd < 15; hd++ {
			t, err := v.ReadTrack(c, hd)
			Expect(err).NotTo(HaveOccurred())
			for _, r := range t.Records {
				got = append(got, r.Data...)
			}
		}
	}
	Expect(len(got)).To(BeNumerically(">=", len(want)))
	Expect(got[:len(want)]).To(Equal(want), "the nucleus dump does not hold the nucleus parts")
}

var _ = Describe("csmsim fixtures gen", func() {
	It("generates envelopes that SERVICE and LOCALMOD apply, and writes them to a file", func() {
		state := newPrincipal()
		dir := filepath.Dir(state)
		smOK(state, "initialize 720")
		smOK(state, "srvlvl add 720 L1 basedon BASE")
		ok(csm(dir, "fixtures", "gen", "--state", state, "--kind", "cor", "--name", "cor0001", "--component", "CP", "--parts", "2"))
		Expect(smOK(state, "srvlvl service 720 L1 cp cor0001")).To(ContainSubstring("CSM2724I Envelope COR0001 applied to component CP"))
		ok(csm(dir, "fixtures", "gen", "--state", state, "--kind", "localmod", "--name", "lm01", "--component", "CMS", "--origin", "vendor"))
		Expect(smOK(state, "srvlvl localmod 720 L1 cms lm01 (vendor")).To(ContainSubstring("(VENDOR)"))
		out := filepath.Join(dir, "big.servlink")
		ok(csm(dir, "fixtures", "gen", "--state", state, "--kind", "rsu", "--name", "rsu9901", "--parts", "6", "--scale", "small", "--out", out))
		f, err := os.Open(out)
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		m, err := servlink.Validate(f)
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Kind).To(Equal(servlink.KindRSU))
		st, _ := f.Stat()
		Expect(st.Size()).To(BeNumerically(">", 64<<10))
	})
})
