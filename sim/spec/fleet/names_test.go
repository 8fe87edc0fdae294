package fleet_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/world"
)

// MAINTCSM NAMES is a CMS NAMES file, as a sysprog keeps one.
var _ = Describe("MAINTCSM NAMES", func() {
	var penv *level.Env
	run := func(line string) msg.Result {
		GinkgoHelper()
		return servmgr.Run(context.Background(), penv, nil, []string{line}).Result
	}
	text := func(res msg.Result) string { return strings.Join(res.Strings(), "\n") }
	writeNames := func(body string) {
		GinkgoHelper()
		disk, err := penv.AdminDisk()
		Expect(err).NotTo(HaveOccurred())
		w, err := disk.Create(cms.MustParseFileID("MAINTCSM NAMES"))
		Expect(err).NotTo(HaveOccurred())
		_, err = io.WriteString(w, body)
		Expect(err).NotTo(HaveOccurred())
		Expect(w.Close()).To(Succeed())
	}
	// systems are the systems SYSTEM QUERY lists for target, in its order.
	systems := func(target string) []string {
		GinkgoHelper()
		res := run("system query 720 " + target)
		Expect(res.RC).To(Equal(0), text(res))
		var out []string
		for _, l := range res.Lines[2:] { // after the title and the heading
			if l.ID == "CSM2821I" {
				out = append(out, strings.Fields(l.Text)[0])
			}
		}
		return out
	}

	BeforeEach(func() {
		ps, err := world.SamplePrincipal(afero.NewMemMapFs())
		Expect(err).NotTo(HaveOccurred())
		clock := cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
		penv = &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}
		Expect(run("initialize 720").RC).To(Equal(0))
		Expect(run("srvlvl add 720 L1 basedon BASE").RC).To(Equal(0))
		for i := 1; i <= 5; i++ {
			l := fmt.Sprintf("system add 720 vm%02d L1 hostname vm%02d.example.com (nocontact", i, i)
			Expect(run(l).RC).To(Equal(0), l)
		}
	})

	It("reads a sysprog's NAMES file: comments, continuation lines, other tags, tags in any order", func() {
		writeNames(strings.Join([]string{
			"* Nicknames of the systems CSM manages; also MAINTCSM's own NAMES",
			":nick.EAST     :userid.MAINT720 :node.VM01",
			"               :list.VM01 VM02",
			"                     vm03",
			"               :name.East coast systems",
			"*  WEST is still being set up",
			":nick.west :list.VM04",
			":nick.OPS :userid.OPERATOR :node.VM01",
			":name.Everything  :nick.ALLVM",
			"   :list.EAST",
			"         WEST VM05",
			"",
		}, "\n"))
		Expect(systems("east")).To(Equal([]string{"VM01", "VM02", "VM03"}))
		Expect(systems("WEST")).To(Equal([]string{"VM04"}))
		Expect(systems("allvm")).To(Equal([]string{"VM01", "VM02", "VM03", "VM04", "VM05"}))
		// OPS names a user (no :list.), not systems.
		res := run("system query 720 ops")
		Expect(res.RC).To(Equal(8))
		Expect(res.Lines[0].ID).To(Equal("CSM2812E"))
	})

	It("still reads the file as csmsim writes it, with its :TABLE.NAMES header", func() {
		writeNames(":TABLE.NAMES :GEN.3 :ENTRIES.2\n:NICK.EAST :LIST.VM01 VM02\n:NICK.ALLVM :LIST.EAST VM03\n")
		Expect(systems("allvm")).To(Equal([]string{"VM01", "VM02", "VM03"}))
	})

	It("names the member that is unknown, and the nickname that lists it", func() {
		writeNames(":nick.ALLVM :list.EAST VM05\n:nick.EAST :list.VM01\n  VM99\n")
		res := run("system query 720 allvm")
		Expect(res.RC).To(Equal(8))
		Expect(res.Lines[0].String()).To(Equal("CSM2823E VM99, listed in nickname EAST in MAINTCSM NAMES, is neither a system of release 720 nor a nickname; " +
			"add the system with SERVMGR SYSTEM ADD, or take it out of the :list. of EAST"))
	})

	DescribeTable("refuses a malformed file, naming the file, the line and what to do",
		func(body, want string) {
			writeNames(body)
			res := run("system query 720 east")
			Expect(res.RC).To(Equal(8))
			Expect(res.Lines[0].String()).To(Equal(want))
		},
		Entry("text before the first :nick.", "VM01 VM02\n:nick.EAST :list.VM01\n",
			"CSM3000E Table MAINTCSM NAMES is malformed at line 1, column 1 (offset 0): text before the first :nick.; "+
				"every entry of a NAMES file starts with :nick.name (comment lines start with *)"),
		Entry("a tag before the first :nick.", "* groups\n:list.VM01\n",
			"CSM3000E Table MAINTCSM NAMES is malformed at line 2, column 1 (offset 9): tag :LIST. comes before the first :nick.; "+
				"every entry of a NAMES file starts with :nick.name"),
		Entry("a second :list.", ":nick.EAST :list.VM01\n  :list.VM02\n",
			"CSM3000E Table MAINTCSM NAMES is malformed at line 2, column 3 (offset 22): nickname EAST has a second :list. (the first is on line 1); "+
				"put all its members in one :list., continued on the next lines"),
		Entry("a nickname defined twice", ":nick.EAST :list.VM01\n:nick.west :list.VM02\n:nick.east :list.VM03\n",
			"CSM3000E Table MAINTCSM NAMES is malformed at line 3, column 1 (offset 44): nickname EAST is defined twice (first on line 1); keep one entry"),
		Entry("a nickname of two words", ":nick.EAST\n  COAST :list.VM01\n",
			"CSM3000E Table MAINTCSM NAMES is malformed at line 1, column 1 (offset 0): nickname \"EAST COAST\" is more than one word (continued on line 2); "+
				"a nickname is one word: put the members in :list."),
		Entry("a tag without a '.'", ":nick.EAST :list VM01\n",
			"CSM3000E Table MAINTCSM NAMES is malformed at line 1, column 12 (offset 0): tag \":list\" has no '.': a tag is :name. followed by its value"),
	)
})
