package level_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/cms/cmstest"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/world"
)

const vrm = "720"

func principal() *level.Env {
	GinkgoHelper()
	s, err := world.SamplePrincipal(afero.NewMemMapFs())
	Expect(err).NotTo(HaveOccurred())
	return &level.Env{Sys: s, Locker: table.NewMemLocker(), Clock: cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second),
		User: "MAINTCSM"}
}

func ok(res msg.Result, err error) msg.Result {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	Expect(res.RC).To(BeNumerically("<", 8), strings.Join(res.Strings(), "\n"))
	return res
}

func refusal(err error) string {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	return level.Lines(err)[0].ID
}

// files hashes every file of a level's component areas, as
// "COMP AREA FN FT" -> SHA-256, by reading the bytes.
func files(e *level.Env, lvl string) map[string]string {
	GinkgoHelper()
	p, err := e.Pool()
	Expect(err).NotTo(HaveOccurred())
	dirs, err := p.ListDirs(level.LevelDir(vrm, lvl))
	Expect(err).NotTo(HaveOccurred())
	out := map[string]string{}
	for _, d := range dirs {
		n := d.Names()
		if len(n) != 3 {
			continue // components and their areas only
		}
		a, err := p.Dir(d)
		Expect(err).NotTo(HaveOccurred())
		list, err := a.List()
		Expect(err).NotTo(HaveOccurred())
		for _, f := range list {
			Expect(cms.ReadFile(a, f.ID, func(r io.Reader) error {
				h := sha256.New()
				_, err := io.Copy(h, r)
				out[n[1]+" "+n[2]+" "+f.ID.Name()] = hex.EncodeToString(h.Sum(nil))
				return err
			})).To(Succeed())
		}
	}
	return out
}

func catalog(e *level.Env, lvl, comp string) *table.Table {
	GinkgoHelper()
	p, err := e.Pool()
	Expect(err).NotTo(HaveOccurred())
	a, err := p.Dir(level.CompDir(vrm, lvl, comp))
	Expect(err).NotTo(HaveOccurred())
	cat, err := inventory.Read(a, comp)
	Expect(err).NotTo(HaveOccurred())
	return cat
}

// envelopeParts lists an envelope's parts, from MAINTCSM's A-disk.
func envelopeParts(e *level.Env, name string) []servlink.Part {
	GinkgoHelper()
	disk, err := e.AdminDisk()
	Expect(err).NotTo(HaveOccurred())
	var parts []servlink.Part
	Expect(cms.ReadFile(disk, cms.MustParseFileID(name+" SERVLINK"), func(r io.Reader) error {
		rd, err := servlink.NewReader(r)
		if err != nil {
			return err
		}
		for {
			p, _, err := rd.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			parts = append(parts, p)
		}
	})).To(Succeed())
	return parts
}

var _ = Describe("service levels", Ordered, func() {
	var e *level.Env
	BeforeAll(func() {
		e = principal()
		ok(level.Initialize(e, vrm))
	})

	It("INITIALIZE catalogs every file of BASE: PARTCAT matches the bytes, IBM's, nucleus parts flagged", func() {
		parts, err := level.Parts(e, vrm, level.BaseLevel)
		Expect(err).NotTo(HaveOccurred())
		Expect(parts).NotTo(BeEmpty())
		Expect(parts).To(Equal(files(e, level.BaseLevel)))
		nuc := 0
		for _, en := range catalog(e, level.BaseLevel, "CMS").List() {
			origin, _ := en.Get("ORIGIN")
			Expect(origin).To(Equal("IBM"), en.String())
			if flag, _ := en.Get("NUC"); flag == "YES" {
				nuc++
				_, file, _ := strings.Cut(en.Key(), " ")
				Expect(inventory.NucleusFiles()).To(ContainElement(file))
			}
		}
		Expect(nuc).To(Equal(len(inventory.NucleusFiles())))
	})

	It("BASE has the directories of every component supplied with z/VM, ICKDSF and LE among them", func() {
		parts, err := level.Parts(e, vrm, level.BaseLevel)
		Expect(err).NotTo(HaveOccurred())
		for _, comp := range []string{"CMS", "CP", "ICKDSF", "LE"} {
			res := ok(level.Vmfsetup(e, vrm, level.BaseLevel, comp))
			Expect(res.Strings()).To(ContainElement(HaveSuffix("VMPSFS:CSM720.BASE." + comp + ".BUILD as D")))
			n := 0
			for k := range parts {
				if strings.HasPrefix(k, comp+" ") {
					n++
				}
			}
			Expect(n).To(BeNumerically(">=", 3), comp)
		}
	})

	It("SRVLVL ADD primes the new level with its base's parts and lists them in CSMPKG BASELIST", func() {
		res := ok(level.Add(e, level.AddRequest{VRM: vrm, Level: "L1", BasedOn: "BASE", Desc: "first"}))
		Expect(res.Lines[0].ID).To(Equal("CSM2705I"))
		base, err := level.Parts(e, vrm, level.BaseLevel)
		Expect(err).NotTo(HaveOccurred())
		Expect(files(e, "L1")).To(Equal(base))
		p, err := e.Pool()
		Expect(err).NotTo(HaveOccurred())
		top, err := p.Dir(level.LevelDir(vrm, "L1"))
		Expect(err).NotTo(HaveOccurred())
		bl, err := table.Load(top, level.BaselistID, "BASELIST", "PART")
		Expect(err).NotTo(HaveOccurred())
		listed := map[string]string{}
		for _, en := range bl.List() {
			listed[en.Key()], _ = en.Get("SHA256")
		}
		Expect(listed).To(Equal(base))
	})

	It("SRVLVL SERVICE changes exactly the envelope's parts, records their PTFs, and rebuilds the nucleus when it must", func() {
		before := files(e, "L1")
		env := envelopeParts(e, "RSU0801")
		res := ok(level.Service(e, vrm, "L1", "ALL", "RSU0801"))
		after := files(e, "L1")
		changed := map[string]bool{}
		for k, v := range after {
			if before[k] != v {
				changed[k] = true
			}
		}
		want := map[string]bool{}
		nucleus := false
		for _, p := range env {
			want[p.Component+" "+p.Area+" "+p.File] = true
			nucleus = nucleus || inventory.IsNucleus(p)
			en, ok := catalog(e, "L1", p.Component).Get(inventory.Key(p.Area, p.File))
			Expect(ok).To(BeTrue(), p.File)
			ptf, _ := en.Get("PTF")
			Expect(ptf).To(Equal(p.PTF))
		}
		if nucleus {
			want["CMS BUILD "+level.NucleusID.Name()] = true // the rebuilt dump travels as a BUILD part
			Expect(res.Strings()).To(ContainElement(HavePrefix("CSM2730I")))
		}
		delete(changed, "CMS BUILD "+level.NucleusID.Name())
		delete(want, "CMS BUILD "+level.NucleusID.Name())
		Expect(changed).To(Equal(want))
		parts, err := level.Parts(e, vrm, "L1")
		Expect(err).NotTo(HaveOccurred())
		for k, v := range after {
			Expect(parts).To(HaveKeyWithValue(k, v))
		}
	})

	It("SRVLVL PACKAGE sends only what differs from the based-on level, one SERVLINK per changed component", func() {
		ok(level.Package(e, vrm, "L1"))
		base, err := level.Parts(e, vrm, level.BaseLevel)
		Expect(err).NotTo(HaveOccurred())
		now, err := level.Parts(e, vrm, "L1")
		Expect(err).NotTo(HaveOccurred())
		want := map[string]string{}
		for k, v := range now {
			if base[k] != v {
				want[k] = v
			}
		}
		p, err := e.Pool()
		Expect(err).NotTo(HaveOccurred())
		pkg, err := p.Dir(level.PackageDir(vrm, "L1"))
		Expect(err).NotTo(HaveOccurred())
		list, err := pkg.List()
		Expect(err).NotTo(HaveOccurred())
		sent := map[string]string{}
		for _, f := range list {
			if f.ID.FT() != "SERVLINK" {
				continue
			}
			Expect(cms.ReadFile(pkg, f.ID, func(r io.Reader) error {
				rd, err := servlink.NewReader(r)
				if err != nil {
					return err
				}
				for {
					part, _, err := rd.Next()
					if err == io.EOF {
						return nil
					}
					if err != nil {
						return err
					}
					Expect(part.Component).To(Equal(f.ID.FN()))
					sent[part.Component+" "+part.Area+" "+part.File] = part.SHA256
				}
			})).To(Succeed())
		}
		Expect(want).NotTo(BeEmpty())
		Expect(sent).To(Equal(want))
	})

	It("refuses SERVICE of a locked level (CSM2714E) and a DELETE of a level another is based on (CSM2717E), changing nothing", func() {
		ok(level.Add(e, level.AddRequest{VRM: vrm, Level: "L2", BasedOn: "L1"}))
		ok(level.Setlock(e, vrm, "L1", true))
		before := files(e, "L1")
		_, err := level.Service(e, vrm, "L1", "ALL", "RSU0802")
		Expect(refusal(err)).To(Equal("CSM2714E"))
		_, err = level.Delete(e, vrm, "L1")
		Expect(refusal(err)).To(Equal("CSM2717E"))
		Expect(files(e, "L1")).To(Equal(before))
	})
})

var _ = Describe("a SERVICE that does not finish", func() {
	It("marks the level: PACKAGE, SETLOCK ON, an ADD based on it and other service are refused until the same SERVICE is entered again", func() {
		count := principal()
		ok(level.Initialize(count, vrm))
		ok(level.Add(count, level.AddRequest{VRM: vrm, Level: "L1", BasedOn: "BASE"}))
		counter := &cmstest.Killer{After: 1 << 40}
		counted := *count
		counted.Sys = counter.System(count.Sys)
		ok(level.Service(&counted, vrm, "L1", "ALL", "RSU0801"))

		e := principal()
		ok(level.Initialize(e, vrm))
		ok(level.Add(e, level.AddRequest{VRM: vrm, Level: "L1", BasedOn: "BASE"}))
		ok(level.Package(e, vrm, "L1")) // a package that the SERVICE makes stale
		killed := *e
		killed.Sys = (&cmstest.Killer{After: counter.Made() / 2}).System(e.Sys)
		_, err := level.Service(&killed, vrm, "L1", "ALL", "RSU0801")
		Expect(err).To(MatchError(cmstest.ErrKilled))

		for _, refused := range []func() (msg.Result, error){
			func() (msg.Result, error) { return level.Package(e, vrm, "L1") },
			func() (msg.Result, error) { return level.Setlock(e, vrm, "L1", true) },
			func() (msg.Result, error) {
				return level.Add(e, level.AddRequest{VRM: vrm, Level: "L2", BasedOn: "L1"})
			},
			func() (msg.Result, error) { return level.Service(e, vrm, "L1", "ALL", "RSU0802") },
		} {
			_, err := refused()
			Expect(refusal(err)).To(Equal("CSM2719E"))
			Expect(level.Lines(err)[0].Text).To(HavePrefix("SRVLVL SERVICE RSU0801 into service level L1 did not finish; enter it again before "))
		}
		_, levels, err := e.ReadLevels(vrm)
		Expect(err).NotTo(HaveOccurred())
		l1, _ := levels.Get("L1")
		_, packaged := l1.Get("PACKAGE")
		Expect(packaged).To(BeFalse(), "the stale package is not offered to SEND")

		ok(level.Service(e, vrm, "L1", "ALL", "RSU0801"))
		want, err := level.Parts(count, vrm, "L1")
		Expect(err).NotTo(HaveOccurred())
		Expect(level.Parts(e, vrm, "L1")).To(Equal(want))
		Expect(files(e, "L1")).To(Equal(files(count, "L1")))
		ok(level.Package(e, vrm, "L1"))
	})
})
