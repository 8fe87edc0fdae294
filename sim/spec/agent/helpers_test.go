package agent_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
	"github.com/csmsim/csmsim/sim/world"
)

const vrm = "720"

// princ is what the principal made, once for the suite: BASE's files, the
// packages of L1 (based on BASE) and L2 (based on L1), each level's parts
// and nucleus dump.
var princ struct {
	base  map[string][]byte            // "COMP AREA FN FT" -> content
	pkg   map[string]map[string][]byte // level -> staging file id -> content
	parts map[string]map[string]string // level -> "COMP AREA FN FT" -> SHA-256
	dump  map[string][]byte            // level -> CMSNUC DDRDUMP
}

func buildPrincipal() {
	s, err := world.SamplePrincipal(afero.NewMemMapFs())
	Expect(err).NotTo(HaveOccurred())
	clock := cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
	env := &level.Env{Sys: s, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}
	for _, line := range []string{
		"initialize 720",
		"srvlvl add 720 L1 basedon BASE", "srvlvl service 720 L1 all rsu0801", "srvlvl package 720 L1",
		"srvlvl add 720 L2 basedon L1", "srvlvl service 720 L2 all rsu0802", "srvlvl package 720 L2",
	} {
		res := servmgr.Run(context.Background(), env, nil, []string{line})
		Expect(res.RC).To(Equal(0), "%s\n%v", line, res.Strings())
	}
	p, err := s.FilePool(level.Pool)
	Expect(err).NotTo(HaveOccurred())
	princ.pkg = map[string]map[string][]byte{}
	princ.parts = map[string]map[string]string{}
	princ.dump = map[string][]byte{}
	for _, lvl := range []string{"BASE", "L1", "L2"} {
		files := map[string][]byte{}
		dirs, err := p.ListDirs(level.LevelDir(vrm, lvl))
		Expect(err).NotTo(HaveOccurred())
		for _, d := range dirs {
			n := d.Names()
			if len(n) != 3 {
				continue
			}
			for id, b := range areaFiles(p, d) {
				files[n[1]+" "+n[2]+" "+id] = b
			}
		}
		princ.parts[lvl] = sums(files)
		if lvl == "BASE" {
			princ.base = files
			continue
		}
		tb := areaFiles(p, level.TestBuildDir(vrm, lvl))
		princ.dump[lvl] = tb[agent.NucleusID.Name()]
		Expect(princ.dump[lvl]).NotTo(BeEmpty())
		princ.parts[lvl]["CMS BUILD "+agent.NucleusID.Name()] = sum(princ.dump[lvl])
		princ.pkg[lvl] = areaFiles(p, level.PackageDir(vrm, lvl))
		Expect(princ.pkg[lvl]).To(HaveKey("CMS SERVLINK"))
	}
}

// areaFiles reads every file of an SFS directory, by "FN FT".
func areaFiles(p cms.FilePool, d cms.DirID) map[string][]byte {
	GinkgoHelper()
	a, err := p.Dir(d)
	Expect(err).NotTo(HaveOccurred())
	list, err := a.List()
	Expect(err).NotTo(HaveOccurred())
	out := map[string][]byte{}
	for _, f := range list {
		out[f.ID.Name()] = readAll(a, f.ID)
	}
	return out
}

func readAll(a cms.FileArea, id cms.FileID) []byte {
	GinkgoHelper()
	r, err := a.Open(id)
	Expect(err).NotTo(HaveOccurred())
	defer r.Close()
	b, err := io.ReadAll(r)
	Expect(err).NotTo(HaveOccurred())
	return b
}

func writeAll(a cms.FileArea, id cms.FileID, b []byte) {
	GinkgoHelper()
	w, err := a.Create(id)
	Expect(err).NotTo(HaveOccurred())
	_, err = w.Write(b)
	Expect(err).NotTo(HaveOccurred())
	Expect(w.Close()).To(Succeed())
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sums(files map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, b := range files {
		out[k] = sum(b)
	}
	return out
}

// managed is a managed system at BASE, with a file on 0490's file area and
// seeded tracks in it, so that a test sees whether anything else moved.
type managed struct {
	sys *world.System
	fs  afero.Fs
	env *agent.Env
}

const profileExec = "PROFILE EXEC"

// managedTemplate is VM01 at BASE, built once: building it writes a 27 MB
// CKD image into a MemMapFs, which under the race detector takes seconds;
// each spec gets a copy.
var managedTemplate struct {
	once sync.Once
	fs   afero.Fs
}

// newManaged is a fresh VM01 at BASE (a copy of the template).
func newManaged() *managed {
	GinkgoHelper()
	managedTemplate.once.Do(func() { managedTemplate.fs = buildManaged().fs })
	mem := afero.NewMemMapFs()
	Expect(copyFs(managedTemplate.fs, mem)).To(Succeed())
	sys, err := world.Open(mem)
	Expect(err).NotTo(HaveOccurred())
	clock := cms.NewStepClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), time.Second)
	return &managed{sys: sys, fs: mem, env: sys.Agent(clock, nil)}
}

// copyFs copies every directory and file of from into to.
func copyFs(from, to afero.Fs) error {
	return afero.Walk(from, "/", func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return to.MkdirAll(p, info.Mode().Perm())
		}
		src, err := from.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := to.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return err
		}
		return dst.Close()
	})
}

func buildManaged() *managed {
	GinkgoHelper()
	mem := afero.NewMemMapFs()
	sys, err := world.InitManaged(mem, world.ManagedOptions{Name: "VM01"})
	Expect(err).NotTo(HaveOccurred())
	clock := cms.NewStepClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), time.Second)
	m := &managed{sys: sys, fs: mem, env: sys.Agent(clock, nil)}
	p := m.pool()
	for key, b := range princ.base {
		w := strings.Fields(key)
		comp, area := w[0], w[1]
		for _, d := range []cms.DirID{agent.CompDir(vrm, comp), agent.AreaDir(vrm, comp, area)} {
			if _, err := p.Dir(d); err != nil {
				Expect(p.CreateDir(d, agent.MaintUser(vrm))).To(Succeed())
			}
		}
		a, err := p.Dir(agent.AreaDir(vrm, comp, area))
		Expect(err).NotTo(HaveOccurred())
		writeAll(a, cms.MustParseFileID(w[2]+" "+w[3]), b)
	}
	v, err := ckd.Open(mem, world.ResVolume())
	Expect(err).NotTo(HaveOccurred())
	// The last cylinders of 0490's file area, next to the recomp area.
	Expect(ckd.FillSeeded(v, recomp0490-2, recomp0490-1, 42)).To(Succeed())
	Expect(v.Close()).To(Succeed())
	writeAll(m.disk(agent.TestBuildDisk), cms.MustParseFileID(profileExec), []byte("/* the test build's own file */\n"))
	res, err := agent.Install(m.env, "BASE")
	Expect(err).NotTo(HaveOccurred())
	Expect(res.RC).To(Equal(0), "%v", res.Strings())
	return m
}

func (m *managed) pool() cms.FilePool {
	GinkgoHelper()
	p, err := m.sys.FilePool(agent.Pool)
	Expect(err).NotTo(HaveOccurred())
	return p
}

// disk is a minidisk of MAINTvrm.
func (m *managed) disk(vaddr string) cms.Minidisk {
	GinkgoHelper()
	d, err := m.sys.Minidisk(agent.MaintUser(vrm), vaddr)
	Expect(err).NotTo(HaveOccurred())
	return d
}

func (m *managed) staging() cms.Minidisk {
	GinkgoHelper()
	d, err := m.sys.Minidisk(agent.StagingOwner, agent.StagingVaddr)
	Expect(err).NotTo(HaveOccurred())
	return d
}

// stage puts a level's package into the staging area, as SEND does.
func (m *managed) stage(lvl string) {
	GinkgoHelper()
	for id, b := range princ.pkg[lvl] {
		writeAll(m.staging(), cms.MustParseFileID(id), b)
	}
}

// parts hashes the files of every component's areas.
func (m *managed) parts() map[string]string {
	GinkgoHelper()
	p := m.pool()
	dirs, err := p.ListDirs(agent.Top(vrm))
	Expect(err).NotTo(HaveOccurred())
	out := map[string]string{}
	for _, d := range dirs {
		n := d.Names()
		if len(n) != 2 || strings.HasPrefix(n[0], "PROD") {
			continue
		}
		for id, b := range areaFiles(p, d) {
			out[n[0]+" "+n[1]+" "+id] = sum(b)
		}
	}
	return out
}

func (m *managed) sysuf() *table.Table {
	GinkgoHelper()
	t, err := agent.Sysuf().Read(table.NewStore(m.disk(agent.SysufVaddr), table.NewMemLocker()))
	Expect(err).NotTo(HaveOccurred())
	return t
}

func (m *managed) tag(comp, tag string) string {
	en, ok := m.sysuf().Get(comp)
	Expect(ok).To(BeTrue(), comp)
	v, _ := en.Get(tag)
	return v
}

// components of the sample release.
func (m *managed) comps() []string {
	var out []string
	for _, en := range m.sysuf().List() {
		if en.Key() != agent.SystemKey {
			out = append(out, en.Key())
		}
	}
	return out
}

var logFiles = regexp.MustCompile(`(^\$CSMCMD\.\$MSGLOG$)|(^J[0-9]{7}\.MSGS$)`)

// snapshot hashes every file of the system's fs but the logs.
func (m *managed) snapshot() map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	Expect(afero.Walk(m.fs, "/", func(p string, info fs.FileInfo, err error) error {
		if err != nil || info.IsDir() || logFiles.MatchString(path.Base(p)) {
			return err
		}
		b, err := afero.ReadFile(m.fs, p)
		out[p] = sum(b)
		return err
	})).To(Succeed())
	Expect(out).NotTo(BeEmpty())
	return out
}

// records reads the user records of a track of the RES volume.
func (m *managed) records(absCyl, head int) []ckd.Record {
	GinkgoHelper()
	v, err := ckd.OpenReadOnly(m.fs, world.ResVolume())
	Expect(err).NotTo(HaveOccurred())
	defer v.Close()
	t, err := v.ReadTrack(absCyl, head)
	Expect(err).NotTo(HaveOccurred())
	return t.Records
}

// volumeBytes is the raw RES image.
func (m *managed) volumeBytes() []byte {
	GinkgoHelper()
	b, err := afero.ReadFile(m.fs, world.ResVolume())
	Expect(err).NotTo(HaveOccurred())
	return b
}

// trackOffset is where a track starts in a 3390 image.
func trackOffset(cyl, head int) int { return 512 + (cyl*15+head)*56832 }

// dumpTracks restores a dump onto a scratch volume where DDR dumped it
// from and returns the records of its tracks, by relative cylinder and head.
func dumpTracks(dump []byte) (first int, tracks [][][]ckd.Record) {
	GinkgoHelper()
	h, err := ddr.Verify(bytes.NewReader(dump))
	Expect(err).NotTo(HaveOccurred())
	scratch := afero.NewMemMapFs()
	v, err := ckd.Create(scratch, "/scratch.img", "3390", h.LastCyl+1, "SCR001")
	Expect(err).NotTo(HaveOccurred())
	defer v.Close()
	e, err := v.Extent(0, h.LastCyl+1)
	Expect(err).NotTo(HaveOccurred())
	_, err = ddr.Restore(bytes.NewReader(dump), e, -1)
	Expect(err).NotTo(HaveOccurred())
	for c := h.FirstCyl; c <= h.LastCyl; c++ {
		var cyl [][]ckd.Record
		for hd := 0; hd < 15; hd++ {
			t, err := v.ReadTrack(c, hd)
			Expect(err).NotTo(HaveOccurred())
			cyl = append(cyl, t.Records)
		}
		tracks = append(tracks, cyl)
	}
	return h.FirstCyl, tracks
}

// mustOK runs an operation expecting RC 0.
func mustOK(res msg.Result, err error) msg.Result {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	Expect(res.RC).To(Equal(0), "%v", res.Strings())
	return res
}

// refused expects a refusal with message id and returns its text.
func refused(res msg.Result, err error, id string) string {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	Expect(agent.IsRefusal(err)).To(BeTrue(), "%v", err)
	lines := agent.Lines(err)
	Expect(lines).To(HaveLen(1))
	Expect(lines[0].ID).To(Equal(id), lines[0].String())
	return lines[0].String()
}

// firstPartOffset is the header offset of the first part of a SERVLINK.
func firstPartOffset(b []byte) int64 {
	GinkgoHelper()
	rd, err := servlink.NewReader(bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
	_, _, err = rd.Next()
	Expect(err).NotTo(HaveOccurred())
	return rd.Offset()
}
