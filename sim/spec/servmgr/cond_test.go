package servmgr_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/table/tabletest"
)

var _ = Describe("IWMDINST's conditional update of the CSM tables", func() {
	var first, second *level.Env
	BeforeEach(func() {
		second, _ = memPrincipal()
		must(second, "initialize 720")
		must(second, "srvlvl add 720 L1 basedon BASE")
		must(second, "system add 720 vm01 L1 hostname h0 (nocontact")
		must(second, "system add 720 vm02 L1 hostname h2 (nocontact")
		e := *second
		first = &e
	})

	// interleave runs line in the first session; secondLine runs in the
	// second session between the first's read of file and its write.
	interleave := func(file, line, secondLine string) servmgr.Outcome {
		GinkgoHelper()
		var secondRC int
		lk := &tabletest.BetweenLocker{Locker: second.Locker, File: file, Second: func() {
			secondRC = servmgr.Run(context.Background(), second, nil, []string{secondLine}).RC
		}}
		first.Locker = lk
		out := servmgr.Run(context.Background(), first, nil, []string{line})
		Expect(lk.Fired()).To(BeTrue(), "the second session did not come between")
		Expect(secondRC).To(Equal(0), "the second session's %s", secondLine)
		return out
	}
	sysstat := func() *table.Table {
		GinkgoHelper()
		t, err := (&fleet.Env{Env: second}).ReadTable("720", "SYSSTAT")
		Expect(err).NotTo(HaveOccurred())
		return t
	}
	tag := func(t *table.Table, key, name string) string {
		GinkgoHelper()
		en, ok := t.Get(key)
		Expect(ok).To(BeTrue(), "no entry %s", key)
		v, _ := en.Get(name)
		return v
	}

	It("refuses SYSTEM MODIFY when another writer changed SYSSTAT after it read it, and keeps that change", func() {
		before := sysstat().Gen
		// SYSTEM ADD and MODIFY run one at a time under their own lock, so
		// the other writer here is one that does not take it: a recording
		// of what a system did (fleet's Apply), writing VM01's entry.
		lk := &tabletest.BetweenLocker{Locker: second.Locker, File: "CSM SYSSTAT", Second: func() {
			a, err := (&fleet.Env{Env: second}).Area(level.AdminTop())
			Expect(err).NotTo(HaveOccurred())
			_, err = table.SysStat().Apply(table.NewStore(a, second.Locker), func(t *table.Table) error {
				return t.Modify("VM01", func(x *table.Entry) { x.Set("HOST", "SECOND.EXAMPLE.COM") })
			})
			Expect(err).NotTo(HaveOccurred())
		}}
		first.Locker = lk
		out := servmgr.Run(context.Background(), first, nil, []string{"system modify 720 vm01 hostname first.example.com (nocontact"})
		Expect(lk.Fired()).To(BeTrue(), "the other writer did not come between")
		Expect(out.RC).To(Equal(8), "%v", out.Strings())
		Expect(out.Strings()).To(ContainElement(
			"CSM3001E Table CSM SYSSTAT changed since it was read (generation 3, now 4): reason code 0902; nothing was overwritten; enter the command again"))
		t := sysstat()
		Expect(t.Gen).To(Equal(before+1), "only the other writer wrote")
		Expect(tag(t, "VM01", "HOST")).To(Equal("SECOND.EXAMPLE.COM"), "the other writer's update is not lost")

		// Entered again, it reads the table as it is now.
		first.Locker = second.Locker
		must(first, "system modify 720 vm01 hostname first.example.com (nocontact")
		Expect(tag(sysstat(), "VM01", "HOST")).To(Equal("FIRST.EXAMPLE.COM"))
	})

	It("refuses SYSTEM DELETE when another session changed SYSSTAT after it read it", func() {
		out := interleave("CSM SYSSTAT", "system delete 720 vm01", "system modify 720 vm01 hostname moved.example.com (nocontact")
		Expect(out.RC).To(Equal(8), "%v", out.Strings())
		Expect(out.Strings()).To(ContainElement(HavePrefix("CSM3001E Table CSM SYSSTAT changed since it was read")))
		Expect(tag(sysstat(), "VM01", "HOST")).To(Equal("MOVED.EXAMPLE.COM"))
	})
})
