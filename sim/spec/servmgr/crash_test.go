package servmgr_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/fixtures"
	"github.com/csmsim/csmsim/sim/world"
)

// errKilled is what every write gets once the process is "killed".
var errKilled = errors.New("killed")

// killFs lets the first n writes through (creating, writing, syncing,
// renaming, removing a file or directory each count) and refuses every
// one after: the process died at write n+1, leaving the disk as it was
// then. Reads go on, as the dying process's own do until it stops.
type killFs struct {
	afero.Fs
	left *atomic.Int64
}

func (k killFs) write() error {
	if k.left.Add(-1) < 0 {
		return errKilled
	}
	return nil
}

func writes(flag int) bool {
	return flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0
}

func (k killFs) Create(name string) (afero.File, error) {
	if err := k.write(); err != nil {
		return nil, err
	}
	f, err := k.Fs.Create(name)
	return killFile{f, k}, err
}
func (k killFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if writes(flag) {
		if err := k.write(); err != nil {
			return nil, err
		}
	}
	f, err := k.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return killFile{f, k}, nil
}
func (k killFs) Open(name string) (afero.File, error) {
	f, err := k.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return killFile{f, k}, nil
}
func (k killFs) Mkdir(name string, perm os.FileMode) error {
	if err := k.write(); err != nil {
		return err
	}
	return k.Fs.Mkdir(name, perm)
}
func (k killFs) MkdirAll(name string, perm os.FileMode) error {
	if _, err := k.Fs.Stat(name); err == nil {
		return nil
	}
	if err := k.write(); err != nil {
		return err
	}
	return k.Fs.MkdirAll(name, perm)
}
func (k killFs) Remove(name string) error {
	if err := k.write(); err != nil {
		return err
	}
	return k.Fs.Remove(name)
}
func (k killFs) RemoveAll(name string) error {
	if err := k.write(); err != nil {
		return err
	}
	return k.Fs.RemoveAll(name)
}
func (k killFs) Rename(o, n string) error {
	if err := k.write(); err != nil {
		return err
	}
	return k.Fs.Rename(o, n)
}

type killFile struct {
	afero.File
	k killFs
}

func (f killFile) Write(p []byte) (int, error) {
	if err := f.k.write(); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}
func (f killFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.k.write(); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}
func (f killFile) WriteString(s string) (int, error) { return f.Write([]byte(s)) }
func (f killFile) Truncate(n int64) error {
	if err := f.k.write(); err != nil {
		return err
	}
	return f.File.Truncate(n)
}
func (f killFile) Sync() error {
	if err := f.k.write(); err != nil {
		return err
	}
	return f.File.Sync()
}

// copyTree copies every directory and file of from into a new MemMapFs.
func copyTree(from afero.Fs) afero.Fs {
	GinkgoHelper()
	to := afero.NewMemMapFs()
	Expect(afero.Walk(from, "/", func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return to.MkdirAll(p, info.Mode().Perm())
		}
		b, err := afero.ReadFile(from, p)
		if err != nil {
			return err
		}
		return afero.WriteFile(to, p, b, info.Mode().Perm())
	})).To(Succeed())
	return to
}

// stateOf is what a command leaves that matters: every file's bytes, but
// not the command logs, the tables' previous generations, nor the tables'
// generation numbers (a retry counts its own updates).
func stateOf(fsys afero.Fs) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	Expect(afero.Walk(fsys, "/", func(p string, info fs.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		base := p[strings.LastIndex(p, "/")+1:]
		if strings.Contains(base, "$MSGLOG") || strings.HasPrefix(base, "$") {
			return nil
		}
		b, err := afero.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		text := string(b)
		if strings.HasPrefix(text, ":TABLE.") {
			head, rest, _ := strings.Cut(text, "\n")
			f := strings.Fields(head)
			for i, w := range f {
				if strings.HasPrefix(w, ":GEN.") {
					f[i] = ":GEN.*"
				}
			}
			text = strings.Join(f, " ") + "\n" + rest
		}
		out[p] = text
		return nil
	})).To(Succeed())
	return out
}

// runOn opens the principal kept in fsys (tidying what a killed process
// left, as the next process does) and runs line.
func runOn(fsys afero.Fs, line string) servmgr.Outcome {
	GinkgoHelper()
	s, err := world.Open(fsys)
	Expect(err).NotTo(HaveOccurred())
	env := &level.Env{Sys: s, Locker: table.NewMemLocker(), Clock: cms.FixedClock{T: time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)}, User: "MAINTCSM"}
	return servmgr.Run(context.Background(), env, nil, []string{line})
}

// killPoints are the writes to kill a command at: every one of a short
// command, an even spread and the last few of a long one.
func killPoints(total int64) []int64 {
	if total <= 40 {
		out := make([]int64, total)
		for i := range out {
			out[i] = int64(i)
		}
		return out
	}
	seen := map[int64]bool{}
	var out []int64
	for i := int64(0); i < 30; i++ {
		seen[i*total/30] = true
	}
	for i := total - 5; i < total; i++ {
		seen[i] = true
	}
	for k := range seen {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

var _ = Describe("a SERVMGR command killed at any write", func() {
	DescribeTable("leaves the principal as before or as after, and the same command again finishes the work",
		func(prepare []string, line string, done ...string) {
			base := afero.NewMemMapFs()
			ps, err := world.SamplePrincipal(base)
			Expect(err).NotTo(HaveOccurred())
			sample, _, _ := fixtures.Sample()
			Expect(ps.PutEnvelopes(fixtures.LocalMod("720", "LMOD1", 7, sample, "CP", "VENDOR", 2))).To(Succeed())
			for _, l := range prepare {
				Expect(runOn(base, l).RC).To(BeNumerically("<", 8), l)
			}
			before := stateOf(base)

			// The command undisturbed: how many writes it makes, what it leaves.
			clean := copyTree(base)
			var left atomic.Int64
			left.Store(1 << 40)
			s, err := world.Open(killFs{clean, &left})
			Expect(err).NotTo(HaveOccurred())
			env := &level.Env{Sys: s, Locker: table.NewMemLocker(), Clock: cms.FixedClock{T: time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)}, User: "MAINTCSM"}
			left.Store(1 << 40)
			first := servmgr.Run(context.Background(), env, nil, []string{line})
			Expect(first.RC).To(BeNumerically("<", 8), strings.Join(first.Strings(), "\n"))
			total := 1<<40 - left.Load()
			after := stateOf(clean)
			Expect(after).NotTo(Equal(before))

			for _, n := range killPoints(total) {
				fsys := copyTree(base)
				left.Store(1 << 40)
				s, err := world.Open(killFs{fsys, &left})
				Expect(err).NotTo(HaveOccurred())
				left.Store(n)
				env := &level.Env{Sys: s, Locker: table.NewMemLocker(), Clock: cms.FixedClock{T: time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)}, User: "MAINTCSM"}
				servmgr.Run(context.Background(), env, nil, []string{line}) // killed at write n+1 of total

				retry := runOn(fsys, line)
				ok := retry.RC < 8
				for _, id := range done { // the kill came after the command's work was done
					for _, l := range retry.Lines {
						ok = ok || l.ID == id
					}
				}
				Expect(ok).To(BeTrue(), "killed at write %d of %d, the retry failed:\n%s", n+1, total, strings.Join(retry.Strings(), "\n"))
				Expect(stateDiff(stateOf(fsys), after)).To(BeEmpty(), "killed at write %d of %d, the retry left another state", n+1, total)
			}
		},
		Entry("INITIALIZE", nil, "initialize 720", "CSM2901E"),
		Entry("SRVLVL ADD", []string{"initialize 720"}, "srvlvl add 720 L1 basedon BASE desc first", "CSM2711E"),
		Entry("SRVLVL SERVICE", []string{"initialize 720", "srvlvl add 720 L1 basedon BASE"}, "srvlvl service 720 L1 all rsu0801"),
		Entry("SRVLVL LOCALMOD", []string{"initialize 720", "srvlvl add 720 L1 basedon BASE"}, "srvlvl localmod 720 L1 cp lmod1 (vendor"),
		Entry("SRVLVL PACKAGE", []string{"initialize 720", "srvlvl add 720 L1 basedon BASE", "srvlvl service 720 L1 all rsu0801"},
			"srvlvl package 720 L1"),
		Entry("SRVLVL SETLOCK", []string{"initialize 720", "srvlvl add 720 L1 basedon BASE"}, "srvlvl setlock 720 L1 on", "CSM2704W"),
		Entry("SRVLVL DELETE", []string{"initialize 720", "srvlvl add 720 L1 basedon BASE"}, "srvlvl delete 720 L1", "CSM2710E"),
		Entry("SYSTEM ADD (recorded without contact)", []string{"initialize 720", "srvlvl add 720 L1 basedon BASE"},
			"system add 720 vm01 L1 hostname h (port 4535 norequire nocontact", "CSM2811E"),
		Entry("SYSTEM MODIFY", []string{"initialize 720", "srvlvl add 720 L1 basedon BASE", "system add 720 vm01 L1 hostname h (nocontact"},
			"system modify 720 vm01 hostname h2 (nocontact"),
		Entry("SYSTEM DELETE", []string{"initialize 720", "srvlvl add 720 L1 basedon BASE", "system add 720 vm01 L1 hostname h (nocontact"},
			"system delete 720 vm01", "CSM2810E"),
	)
})

// stateDiff lists how got differs from want, path by path.
func stateDiff(got, want map[string]string) []string {
	var out []string
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			out = append(out, "missing "+p)
		case g != w && len(w) < 400 && !strings.ContainsRune(w, 0):
			out = append(out, fmt.Sprintf("changed %s:\n  got  %q\n  want %q", p, g, w))
		case g != w:
			out = append(out, "changed "+p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			out = append(out, "extra "+p)
		}
	}
	sort.Strings(out)
	return out
}
