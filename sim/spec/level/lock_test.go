package level_test

import (
	"context"
	"io/fs"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/world"
)

// snapshot is every file of the principal's world, path -> content.
func snapshot(e *level.Env) map[string]string {
	GinkgoHelper()
	fsys := e.Sys.(*world.System).FS()
	out := map[string]string{}
	Expect(afero.Walk(fsys, "/", func(p string, info fs.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := afero.ReadFile(fsys, p)
		out[p] = string(b)
		return err
	})).To(Succeed())
	Expect(out).NotTo(BeEmpty())
	return out
}

// refusedWith checks that a command was refused with id, changing nothing
// in the world, and returns the refusal's text.
func refusedWith(e *level.Env, id string, run func() (msg.Result, error)) string {
	GinkgoHelper()
	before := snapshot(e)
	_, err := run()
	Expect(refusal(err)).To(Equal(id), "%v", err)
	Expect(snapshot(e)).To(Equal(before), "a refused command changes nothing")
	return level.Lines(err)[0].Text
}

// advice is the SERVMGR command a message tells the user to enter.
var adviceRE = regexp.MustCompile(`SERVMGR (SRVLVL [A-Z]+ [0-9]{3} [A-Za-z0-9_]+(?: [A-Z]+)*)`)

// enter runs the SERVMGR command the text advises, with level standing for
// the name a user would choose, and requires it to succeed.
func enter(e *level.Env, text, name string) {
	GinkgoHelper()
	m := adviceRE.FindStringSubmatch(text)
	Expect(m).NotTo(BeNil(), "no SERVMGR command in %q", text)
	line := strings.Replace(m[1], " level ", " "+name+" ", 1)
	res := servmgr.Run(context.Background(), e, nil, []string{line})
	Expect(res.RC).To(Equal(0), "%s\n%s", line, strings.Join(res.Strings(), "\n"))
}

// markStable does to the level's table entry what SRVLVL SEND (STABLE does
// once every system loaded it.
func markStable(e *level.Env, lvl string) {
	GinkgoHelper()
	st, read, err := e.ReadLevels(vrm)
	Expect(err).NotTo(HaveOccurred())
	_, err = table.SvcStat().Update(st, read, func(t *table.Table) error {
		return t.Modify(lvl, func(x *table.Entry) { x.Set("STATE", "STABLE"); x.Set("LOCK", "ON") })
	})
	Expect(err).NotTo(HaveOccurred())
}

var _ = Describe("the update control lock: SETLOCK stops further updates", func() {
	var e *level.Env
	BeforeEach(func() {
		e = principal()
		ok(level.Initialize(e, vrm))
		ok(level.Add(e, level.AddRequest{VRM: vrm, Level: "L1", BasedOn: "BASE"}))
		ok(level.Service(e, vrm, "L1", "ALL", "RSU0801"))
		ok(level.Package(e, vrm, "L1"))
		ok(level.Setlock(e, vrm, "L1", true))
	})

	It("refuses DELETE of a locked level with CSM2714E, changing nothing; the SETLOCK OFF it advises lets the DELETE through", func() {
		text := refusedWith(e, "CSM2714E", func() (msg.Result, error) { return level.Delete(e, vrm, "L1") })
		Expect(text).To(HaveSuffix("enter SERVMGR SRVLVL SETLOCK 720 L1 OFF first"))
		enter(e, text, "")
		ok(level.Delete(e, vrm, "L1"))
		_, t, err := e.ReadLevels(vrm)
		Expect(err).NotTo(HaveOccurred())
		_, there := t.Get("L1")
		Expect(there).To(BeFalse())
	})

	It("refuses PACKAGE of a locked level with CSM2714E, leaving its package as it was; the SETLOCK OFF it advises lets the PACKAGE through", func() {
		text := refusedWith(e, "CSM2714E", func() (msg.Result, error) { return level.Package(e, vrm, "L1") })
		enter(e, text, "")
		ok(level.Package(e, vrm, "L1"))
	})

	It("refuses PACKAGE of a STABLE level with CSM2715E, locked or not, and DELETE of it while locked; the advice of each works", func() {
		markStable(e, "L1")
		text := refusedWith(e, "CSM2715E", func() (msg.Result, error) { return level.Package(e, vrm, "L1") })
		Expect(text).To(ContainSubstring("define a new level based on it"))
		refusedWith(e, "CSM2715E", func() (msg.Result, error) { return level.Service(e, vrm, "L1", "ALL", "RSU0802") })
		del := refusedWith(e, "CSM2714E", func() (msg.Result, error) { return level.Delete(e, vrm, "L1") })

		// A new level based on it takes the change.
		ok(level.Add(e, level.AddRequest{VRM: vrm, Level: "L2", BasedOn: "L1"}))
		ok(level.Service(e, vrm, "L2", "ALL", "RSU0802"))
		ok(level.Package(e, vrm, "L2"))

		// Unlocked, a STABLE level still keeps its content and package.
		enter(e, del, "")
		refusedWith(e, "CSM2715E", func() (msg.Result, error) { return level.Package(e, vrm, "L1") })
		ok(level.Delete(e, vrm, "L2"))
		ok(level.Delete(e, vrm, "L1"))
	})

	It("refuses every change of BASE with CSM2718E, never advising the SETLOCK BASE OFF it refuses; the SRVLVL ADD it advises works", func() {
		for what, run := range map[string]func() (msg.Result, error){
			"serviced":            func() (msg.Result, error) { return level.Service(e, vrm, "BASE", "ALL", "RSU0802") },
			"changed by LOCALMOD": func() (msg.Result, error) { return level.Localmod(e, vrm, "BASE", "CP", "RSU0802", "") },
			"packaged":            func() (msg.Result, error) { return level.Package(e, vrm, "BASE") },
			"deleted":             func() (msg.Result, error) { return level.Delete(e, vrm, "BASE") },
			"unlocked":            func() (msg.Result, error) { return level.Setlock(e, vrm, "BASE", false) },
		} {
			text := refusedWith(e, "CSM2718E", run)
			Expect(text).To(HavePrefix("Service level BASE of release 720 cannot be "+what+"; "), what)
			Expect(text).NotTo(ContainSubstring("SETLOCK"), what)
			if what != "deleted" {
				Expect(text).To(ContainSubstring("SERVMGR SRVLVL ADD 720 level BASEDON BASE"), what)
			}
		}
		text := refusedWith(e, "CSM2718E", func() (msg.Result, error) { return level.Service(e, vrm, "BASE", "ALL", "RSU0802") })
		enter(e, text, "L9")
		ok(level.Service(e, vrm, "L9", "ALL", "RSU0802"))
	})
})
