package servmgr_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/world"
)

// memPrincipal is an in-memory principal ready for INITIALIZE, with the
// sample envelopes on MAINTCSM's A-disk.
func memPrincipal() (*level.Env, afero.Fs) {
	GinkgoHelper()
	mem := afero.NewMemMapFs()
	s, err := world.SamplePrincipal(mem)
	Expect(err).NotTo(HaveOccurred())
	clock := cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
	return &level.Env{Sys: s, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}, mem
}

func run(env *level.Env, line string) int {
	return servmgr.Run(context.Background(), env, nil, []string{line}).RC
}

func must(env *level.Env, line string) {
	GinkgoHelper()
	res := servmgr.Run(context.Background(), env, nil, []string{line})
	Expect(res.RC).To(Equal(0), "%s\n%v", line, res.Strings())
}

// treeSums hashes every file of an fs.
func treeSums(fsys afero.Fs) map[string][32]byte {
	GinkgoHelper()
	out := map[string][32]byte{}
	Expect(afero.Walk(fsys, "/", func(p string, info fs.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := afero.ReadFile(fsys, p)
		out[p] = sha256.Sum256(b)
		return err
	})).To(Succeed())
	return out
}

var _ = Describe("Run, the SERVMGR dispatcher", func() {
	var env *level.Env
	BeforeEach(func() {
		env, _ = memPrincipal()
		must(env, "initialize 720")
		must(env, "srvlvl add 720 L1 basedon BASE")
	})

	It("loses no update when 50 commands add systems concurrently", func() {
		var wg sync.WaitGroup
		rcs := make([]int, 50)
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rcs[i] = run(env, fmt.Sprintf("system add 720 s%02d L1 hostname h%d (nocontact", i, i))
			}()
		}
		wg.Wait()
		Expect(rcs).To(HaveEach(0))
		res := servmgr.Run(context.Background(), env, nil, []string{"system query 720"})
		Expect(res.RC).To(Equal(0))
		Expect(res.Strings()).To(HaveLen(50 + 3))
	})

	It("lets exactly one of ten concurrent SRVLVL ADDs of one name succeed", func() {
		var wg sync.WaitGroup
		rcs := make([]int, 10)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rcs[i] = run(env, "srvlvl add 720 SAME basedon L1")
			}()
		}
		wg.Wait()
		Expect(rcs).To(ContainElement(0))
		Expect(rcs).To(HaveEach(Or(Equal(0), Equal(8))))
		ok := 0
		for _, rc := range rcs {
			if rc == 0 {
				ok++
			}
		}
		Expect(ok).To(Equal(1))
		p, err := env.Pool()
		Expect(err).NotTo(HaveOccurred())
		dirs, err := p.ListDirs(cms.MustParseDirID("VMPSFS:CSM720."))
		Expect(err).NotTo(HaveOccurred())
		n := 0
		for _, d := range dirs {
			if d.Depth() == 1 && d.Names()[0] == "SAME" {
				n++
			}
		}
		Expect(n).To(Equal(1))
	})
})

var _ = Describe("determinism", func() {
	It("gives byte-identical principals for the same commands and clock", func() {
		script := []string{
			"initialize 720",
			"srvlvl add 720 vm010102_BLD1 basedon BASE nonesm desc Initial RSU Install",
			"srvlvl service 720 vm010102_bld1 all rsu0801",
			"system add 720 vm01 vm010102_bld1 nonesm hostname vm01 commtype ftp (port 4535 norequire nocontact)",
			"srvlvl add 720 vm010802_BLD2 basedon vm010102_BLD1 nonesm desc August RSU Install",
			"srvlvl service 720 vm010802_BLD2 all rsu0802",
			"srvlvl package 720 vm010802_BLD2",
			"srvlvl setlock 720 vm010802_BLD2 on",
		}
		var sums []map[string][32]byte
		for range 2 {
			env, mem := memPrincipal()
			for _, l := range script {
				must(env, l)
			}
			sums = append(sums, treeSums(mem))
		}
		Expect(sums[0]).To(HaveKey("/cms/sfs/VMPSFS/CSM720/VM010802_BLD2/PACKAGE/CMS.SERVLINK"))
		Expect(sums[0]).To(Equal(sums[1]))
	})
})
