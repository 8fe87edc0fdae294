package agent_test

import (
	"bytes"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/fixtures"
	"github.com/csmsim/csmsim/sim/world"
)

// RES volume geometry of world.InitManaged: 0490 at cylinder 1, 0190 after
// it, each with its recomp area at the end.
var (
	cyls0490   = world.NucleusDiskCylinders
	recomp0490 = 1 + cyls0490 - agent.RecompCylinders // absolute
	recomp0190 = 1 + 2*cyls0490 - agent.RecompCylinders
)

var _ = Describe("a managed system at BASE", func() {
	var m *managed
	BeforeEach(func() { m = newManaged() })

	It("is recorded in VM SYSSUF, PARTCAT and production side A by Install", func() {
		t := m.sysuf()
		Expect(m.comps()).To(ContainElements("CMS", "CP"))
		for _, c := range m.comps() {
			Expect(m.tag(c, agent.TagLevel)).To(Equal("BASE"))
			Expect(m.tag(c, agent.TagState)).To(Equal("STABLE"))
			Expect(m.tag(c, agent.TagProd)).To(Equal("BASE"))
			Expect(m.tag(c, agent.TagManaged)).To(Equal("NO"))
		}
		side, _ := mustGet(t, agent.SystemKey).Get(agent.TagProdSide)
		Expect(side).To(Equal("A"))
		Expect(m.parts()).To(Equal(princ.parts["BASE"]))
		info, err := agent.Info(m.env)
		Expect(err).NotTo(HaveOccurred())
		Expect(info.String()).To(Equal("CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL BASE MANAGED NO"))
	})

	Describe("LOAD", func() {
		It("loads TEST then STABLE: parts, PARTCAT, SYSSUF and the nucleus on 0490's recomp cylinders only", func() {
			m.stage("L1")
			before := m.volumeBytes()
			res := mustOK(agent.Load(m.env, "L1", false, ""))
			Expect(res.Strings()).To(ContainElement("CSM3122I Service level L1 loaded on system VM01, state TEST"))
			Expect(res.Strings()).To(ContainElement(fmt.Sprintf("CSM3121I Nucleus restored with REORDER onto cylinders %d-%d of MAINT720 0490",
				cyls0490-agent.RecompCylinders, cyls0490-agent.RecompCylinders)))

			Expect(m.parts()).To(Equal(princ.parts["L1"]))
			for _, c := range m.comps() {
				Expect(m.tag(c, agent.TagLevel)).To(Equal("L1"))
				Expect(m.tag(c, agent.TagState)).To(Equal("TEST"))
				Expect(m.tag(c, agent.TagProd)).To(Equal("BASE"))
			}
			// PARTCAT matches the files, nucleus parts flagged.
			p := m.pool()
			got := m.parts()
			for _, c := range m.comps() {
				a, err := p.Dir(agent.CompDir(vrm, c))
				Expect(err).NotTo(HaveOccurred())
				cat, err := table.ParseAs("PARTCAT", "PARTCAT", "PART", bytes.NewReader(readAll(a, inventory.PartcatID(c))))
				Expect(err).NotTo(HaveOccurred())
				n := 0
				for k, s := range got {
					if strings.HasPrefix(k, c+" ") {
						en, ok := cat.Get(strings.TrimPrefix(k, c+" "))
						Expect(ok).To(BeTrue(), k)
						Expect(tagOf(en, "SHA256")).To(Equal(s), k)
						n++
					}
				}
				Expect(cat.Len()).To(Equal(n), c)
			}
			cmsCat, err := p.Dir(agent.CompDir(vrm, "CMS"))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(readAll(cmsCat, inventory.PartcatID("CMS")))).To(ContainSubstring(":PART.BUILD CMSNUC DDRDUMP :SIZE."))

			// The nucleus: its tracks on the first recomp cylinders, with the
			// records' count fields as dumped (REORDER).
			first, tracks := dumpTracks(princ.dump["L1"])
			Expect(first).To(Equal(0))
			for c := range tracks {
				for h := range 15 {
					Expect(m.records(recomp0490+c, h)).To(Equal(tracks[c][h]), "cyl %d head %d", c, h)
				}
			}
			Expect(m.records(recomp0490, 0)).NotTo(BeEmpty())
			Expect(m.records(recomp0490, 0)[0].Cyl).To(Equal(uint16(0)), "REORDER keeps the dumped cylinder number")
			// Everything outside the restored cylinders is byte-identical:
			// 0490's file area (seeded tracks), the rest of its recomp
			// area, 0190, the label.
			after := m.volumeBytes()
			lo, hi := trackOffset(recomp0490, 0), trackOffset(recomp0490+len(tracks), 0)
			Expect(after[:lo]).To(Equal(before[:lo]))
			Expect(after[hi:]).To(Equal(before[hi:]))
			Expect(after[lo:hi]).NotTo(Equal(before[lo:hi]))
			// and 0490's CMS file area.
			Expect(string(readAll(m.disk(agent.TestBuildDisk), cms.MustParseFileID(profileExec)))).To(ContainSubstring("own file"))
			files, err := m.disk(agent.TestBuildDisk).List()
			Expect(err).NotTo(HaveOccurred())
			Expect(files).To(HaveLen(1))

			mustOK(agent.Load(m.env, "L1", true, ""))
			for _, c := range m.comps() {
				Expect(m.tag(c, agent.TagState)).To(Equal("STABLE"))
			}
			Expect(m.parts()).To(Equal(princ.parts["L1"]))

			// L2 on top, conditionally on L1.
			m.stage("L2")
			mustOK(agent.Load(m.env, "L2", true, "L1"))
			Expect(m.parts()).To(Equal(princ.parts["L2"]))
			first, tracks = dumpTracks(princ.dump["L2"])
			Expect(m.records(recomp0490+first, 0)).To(Equal(tracks[0][0]))
			for _, c := range m.comps() {
				Expect(m.tag(c, agent.TagLevel)).To(Equal("L2"))
			}
		})

		It("refuses COND when the system is not at the based-on level, changing nothing", func() {
			m.stage("L2")
			snap := m.snapshot()
			res, err := agent.Load(m.env, "L2", false, "L1")
			Expect(refused(res, err, "CSM3110E")).To(ContainSubstring("is at service level BASE, not at the based-on level L1"))
			Expect(m.snapshot()).To(Equal(snap))
		})

		It("refuses a SERVLINK with a corrupted byte with the reason code and the member's offset, changing nothing", func() {
			m.stage("L1")
			b := bytes.Clone(princ.pkg["L1"]["CMS SERVLINK"])
			off := firstPartOffset(b)
			b[off+512+3] ^= 0x40
			writeAll(m.staging(), agent.ServlinkID("CMS"), b)
			snap := m.snapshot()
			res, err := agent.Load(m.env, "L1", false, "")
			text := refused(res, err, "CSM3112E")
			Expect(text).To(HavePrefix(fmt.Sprintf("CSM3112E CMS SERVLINK is not valid: reason code 0808 at offset %d:", off)))
			Expect(m.snapshot()).To(Equal(snap))
		})

		It("refuses a package whose SERVLINK is missing", func() {
			m.stage("L1")
			Expect(m.staging().Erase(agent.ServlinkID("CP"))).To(Succeed())
			snap := m.snapshot()
			res, err := agent.Load(m.env, "L1", false, "")
			Expect(refused(res, err, "CSM3111E")).To(Equal("CSM3111E CP SERVLINK not found in the staging area CSMSERVE 0191; send the package again"))
			Expect(m.snapshot()).To(Equal(snap))
		})

		It("refuses a SERVLINK that is valid but not the one the manifest lists", func() {
			m.stage("L1")
			writeAll(m.staging(), agent.ServlinkID("CMS"), princ.pkg["L2"]["CMS SERVLINK"])
			res, err := agent.Load(m.env, "L1", false, "")
			Expect(refused(res, err, "CSM3114E")).To(ContainSubstring("CMS SERVLINK does not match CSMPKG MANIFEST"))
		})

		It("refuses a manifest of another level, and a missing manifest", func() {
			m.stage("L1")
			res, err := agent.Load(m.env, "L2", false, "")
			Expect(refused(res, err, "CSM3113E")).To(Equal("CSM3113E CSMPKG MANIFEST in CSMSERVE 0191 is for service level L1 of release 720, not for level L2 of release 720; send the package of that level"))
			Expect(m.staging().Erase(agent.ManifestID)).To(Succeed())
			res, err = agent.Load(m.env, "L1", false, "")
			refused(res, err, "CSM3111E")
		})

		It("refuses a damaged manifest with a reason code", func() {
			writeAll(m.staging(), agent.ManifestID, []byte(`{"format":1,"kind":"PACKAGE","bogus":1}`))
			res, err := agent.Load(m.env, "L1", false, "")
			Expect(refused(res, err, "CSM3112E")).To(HavePrefix("CSM3112E CSMPKG MANIFEST is not valid: reason code 0803 at offset 0"))
		})

		It("refuses a package for a component the system does not have", func() {
			m.stage("L1")
			_, err := agent.Sysuf().Apply(table.NewStore(m.disk(agent.SysufVaddr), m.env.Locker), func(t *table.Table) error {
				return t.Delete("CP")
			})
			Expect(err).NotTo(HaveOccurred())
			res, err := agent.Load(m.env, "L1", false, "")
			Expect(refused(res, err, "CSM3104E")).To(Equal("CSM3104E Component CP is not installed on system VM01 (it is not in VM SYSSUF)"))
		})

		It("refuses to restore the nucleus onto a disk DDR cannot reach", func() {
			m.stage("L1")
			env := *m.env
			env.Sys = plainDisks{m.sys}
			snap := m.snapshot()
			res, err := agent.Load(&env, "L1", false, "")
			Expect(refused(res, err, "CSM3116E")).To(Equal("CSM3116E Minidisk MAINT720 0490 cannot be reached with DDR; CSMPKGLD needs its recomp cylinders"))
			Expect(m.snapshot()).To(Equal(snap))
		})
	})

	Describe("PUT2PROD", func() {
		It("is refused before a stable load", func() {
			m.stage("L1")
			mustOK(agent.Load(m.env, "L1", false, ""))
			snap := m.snapshot()
			res, err := agent.Put2Prod(m.env, "L1")
			Expect(refused(res, err, "CSM3130E")).To(HavePrefix("CSM3130E PUT2PROD before a stable load: service level L1 is not loaded STABLE on system VM01"))
			Expect(m.snapshot()).To(Equal(snap))
			res, err = agent.Put2Prod(m.env, "L2")
			refused(res, err, "CSM3130E")
		})

		It("stages the inactive side, copies the nucleus, then switches", func() {
			m.stage("L1")
			mustOK(agent.Load(m.env, "L1", true, ""))
			oldA := areaFiles(m.pool(), agent.ProdDir(vrm, "A", "CMS"))
			res := mustOK(agent.Put2Prod(m.env, "L1"))
			Expect(res.Strings()).To(ContainElement("CSM3133I Service level L1 is in production on system VM01: production side B is live"))
			side, _ := mustGet(m.sysuf(), agent.SystemKey).Get(agent.TagProdSide)
			Expect(side).To(Equal("B"))
			for _, c := range m.comps() {
				Expect(m.tag(c, agent.TagProd)).To(Equal("L1"))
				Expect(areaFiles(m.pool(), agent.ProdDir(vrm, "B", c))).To(Equal(areaFiles(m.pool(), agent.AreaDir(vrm, c, "BUILD"))), c)
			}
			Expect(areaFiles(m.pool(), agent.ProdDir(vrm, "A", "CMS"))).To(Equal(oldA), "the old side stays as it was")
			for c := range agent.RecompCylinders {
				for h := range 15 {
					Expect(m.records(recomp0190+c, h)).To(Equal(m.records(recomp0490+c, h)), "cyl %d head %d", c, h)
				}
			}
			Expect(m.records(recomp0190, 0)).NotTo(BeEmpty())

			// L2 next: side A is staged afresh and becomes live.
			m.stage("L2")
			mustOK(agent.Load(m.env, "L2", true, "L1"))
			mustOK(agent.Put2Prod(m.env, "L2"))
			side, _ = mustGet(m.sysuf(), agent.SystemKey).Get(agent.TagProdSide)
			Expect(side).To(Equal("A"))
			Expect(areaFiles(m.pool(), agent.ProdDir(vrm, "A", "CMS"))).To(Equal(areaFiles(m.pool(), agent.AreaDir(vrm, "CMS", "BUILD"))))
		})
	})

	Describe("QUERY, MANAGED and local SERVICE", func() {
		It("reports the inventory from the files, and the drift of a local service", func() {
			m.stage("L1")
			mustOK(agent.Load(m.env, "L1", true, ""))
			t, res, err := agent.Query(m.env)
			mustOK(res, err)
			Expect(t.Name).To(Equal("INVENTRY"))
			inv := map[string]string{}
			for _, en := range t.List() {
				if s, ok := en.Get("SHA256"); ok {
					inv[en.Key()] = s
				} else {
					Expect(en.String()).To(Equal(":PART." + en.Key() + " :LEVEL.L1 :STATE.STABLE :PROD.BASE :MANAGED.NO"))
				}
			}
			Expect(inv).To(Equal(princ.parts["L1"]))
			written := string(readAll(m.staging(), proto.Inventory()))
			Expect(written).To(HavePrefix(":TABLE.INVENTRY :GEN.1 :ENTRIES."))
			Expect(written).To(ContainSubstring(":PART.CMS BUILD DMSNUC TEXT :SHA256."))

			// Managed: local service refused.
			base, _, _ := fixtures.Sample()
			cor := fixtures.COR(vrm, "COR0001", 0xC0, base, "CP", 2)
			var buf bytes.Buffer
			Expect(fixtures.WriteEnvelope(&buf, cor)).To(Succeed())
			writeAll(m.disk(agent.LocalDiskVaddr), cms.MustParseFileID(cor.FileID()), buf.Bytes())
			mustOK(agent.Manage(m.env))
			info, err := agent.Info(m.env)
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Managed).To(BeTrue())
			snap := m.snapshot()
			res, err = agent.LocalService(m.env, "CP", "COR0001")
			Expect(refused(res, err, "CSM2912E")).To(ContainSubstring("component CP"))
			Expect(m.snapshot()).To(Equal(snap))

			// MANAGED OFF: applied; the system drifts, SYSSUF keeps its level.
			res = mustOK(agent.Managed(m.env, false))
			Expect(res.Strings()[0]).To(MatchRegexp(`^CSM2910I MANAGED OFF: :CSM_MANAGED NO set in VM SYSSUF for \d+ components$`))
			res = mustOK(agent.LocalService(m.env, "CP", "COR0001"))
			Expect(res.Strings()[0]).To(Equal("CSM3153I Envelope COR0001 applied locally to component CP: 2 parts; system VM01 now differs from service level L1"))
			Expect(m.tag("CP", agent.TagLevel)).To(Equal("L1"))
			t, res, err = agent.Query(m.env)
			mustOK(res, err)
			for _, p := range cor.Parts {
				en, ok := t.Get("CP " + p.Area + " " + p.File)
				Expect(ok).To(BeTrue())
				Expect(tagOf(en, "SHA256")).To(Equal(p.SHA256))
				Expect(p.SHA256).NotTo(Equal(princ.parts["L1"]["CP "+p.Area+" "+p.File]))
			}
			cp, _ := t.Get("CP")
			Expect(tagOf(cp, "MANAGED")).To(Equal("NO"))

			// An envelope that is not there, or damaged.
			res, err = agent.LocalService(m.env, "CP", "COR0002")
			refused(res, err, "CSM3150E")
			b := buf.Bytes()
			b[len(b)/2] ^= 1
			writeAll(m.disk(agent.LocalDiskVaddr), cms.MustParseFileID("COR0003 SERVLINK"), b)
			res, err = agent.LocalService(m.env, "CP", "COR0003")
			Expect(refused(res, err, "CSM3151E")).To(MatchRegexp(`reason code 080[0-9A-F] at offset \d+`))
			res, err = agent.LocalService(m.env, "CMS", "COR0001")
			refused(res, err, "CSM3152E")
		})
	})
})

func tagOf(en table.Entry, tag string) string {
	v, _ := en.Get(tag)
	return v
}

func mustGet(t *table.Table, key string) table.Entry {
	GinkgoHelper()
	en, ok := t.Get(key)
	Expect(ok).To(BeTrue(), key)
	return en
}

// plainDisks hides the DDR capability of the system's minidisks.
type plainDisks struct{ *world.System }

func (p plainDisks) Minidisk(owner, vaddr string) (cms.Minidisk, error) {
	d, err := p.System.Minidisk(owner, vaddr)
	if dd, ok := d.(*world.DASDMinidisk); ok {
		return dd.Minidisk, err
	}
	return d, err
}
