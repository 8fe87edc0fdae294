package harness_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/extents"
	"github.com/csmsim/csmsim/sim/harness"
)

// A level of large parts sent to two systems: on disk, each system stores
// every byte once (the parts linked from what CSMSERVE received).
const largeParts = `name: large-parts
description: a level of 16 parts of 160 KiB sent to two systems
seed: 7
world: {count: 2}
fixtures:
  envelopes:
    - {name: BIGENV, kind: RSU, parts: 16, part_bytes: 163840}
steps:
  - servmgr: initialize 720
  - servmgr: srvlvl add 720 L1 basedon BASE nonesm
  - servmgr: srvlvl service 720 L1 all rsu0801
  - install: {system: ALL, level: L1}
  - servmgr: system add 720 vm${NN} L1 nonesm hostname ${HOST:VM${NN}} commtype ftp (port ${PORT:VM${NN}} norequire)
    repeat: {from: 1, to: 2}
  - servmgr: srvlvl add 720 L2 basedon L1 nonesm
  - servmgr: srvlvl service 720 L2 all bigenv
  - servmgr: srvlvl package 720 L2
  - servmgr: srvlvl setlock 720 L2 on
  - servmgr: srvlvl send 720 L2 all (test
    expect: {rc: 0, messages: [CSM3060I]}
expect:
  systems:
    - {name: ALL, level: L2, state: TEST}
`

var _ = Describe("a disk-backed world stores what a SEND carries once", func() {
	report := func(sc *harness.Scenario, workdir string) []byte {
		GinkgoHelper()
		rep, err := harness.Run(context.Background(), sc, harness.Options{Workdir: workdir})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Pass).To(BeTrue(), rep.FailureText())
		var b bytes.Buffer
		Expect(rep.WriteJSON(&b)).To(Succeed())
		return b.Bytes()
	}

	It("links every large part into MAINT720's file space from the SERVLINK CSMSERVE received, and reports as in memory", func() {
		sc, err := harness.Parse("large-parts.yaml", []byte(largeParts))
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		onDisk := report(sc, dir)
		Expect(onDisk).To(Equal(report(sc, "")), "the same report on disk and in memory")

		systems, _ := filepath.Glob(filepath.Join(dir, "large-parts-*", "VM0[12]"))
		Expect(systems).To(HaveLen(2))
		for _, sys := range systems {
			ext, err := os.ReadDir(filepath.Join(sys, "cms", "mdisk", "CSMSERVE.0191", extents.DirName))
			Expect(err).NotTo(HaveOccurred())
			held := map[uint64]bool{}
			for _, e := range ext {
				fi, err := e.Info()
				Expect(err).NotTo(HaveOccurred())
				held[fi.Sys().(*syscall.Stat_t).Ino] = true
			}
			linked := 0
			Expect(filepath.WalkDir(filepath.Join(sys, "cms", "sfs", "VMPSFS", "MAINT720"), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				fi, err := d.Info()
				if err != nil {
					return err
				}
				if st := fi.Sys().(*syscall.Stat_t); st.Nlink > 1 {
					Expect(held[st.Ino]).To(BeTrue(), "%s is an extent of a SERVLINK CSMSERVE received", p)
					linked++
				}
				return nil
			})).To(Succeed())
			Expect(linked).To(BeNumerically(">=", 16), sys)
		}
	})

	// A resumed upload (made whole first) is sim/csmserve's spec; here a
	// LOAD killed among its links, and the same LOAD again.
	It("reports a node killed during LOAD on disk as in memory", func() {
		sc, err := harness.Load("../../scenarios/fault-crash-during-load.yaml")
		Expect(err).NotTo(HaveOccurred())
		Expect(report(sc, GinkgoT().TempDir())).To(Equal(report(sc, "")))
	})
})
