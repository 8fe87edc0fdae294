package harness_test

import (
	"bytes"

	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/harness"
)

// roundTrip writes sc as YAML, parses it back under the same file name,
// and checks the two decode to the same Scenario (positions aside: they
// are where the text was, not what it says) and that writing again gives
// the same bytes.
func roundTrip(sc *harness.Scenario) string {
	GinkgoHelper()
	var b bytes.Buffer
	Expect(sc.WriteYAML(&b)).To(Succeed())
	back, err := harness.Parse(sc.File, b.Bytes())
	Expect(err).NotTo(HaveOccurred(), b.String())
	Expect(back).To(BeComparableTo(sc, cmpopts.IgnoreUnexported(harness.Step{}, harness.FaultSpec{})), b.String())
	var again bytes.Buffer
	Expect(back.WriteYAML(&again)).To(Succeed())
	Expect(again.String()).To(Equal(b.String()))
	return b.String()
}

var _ = Describe("writing a scenario as YAML", func() {
	DescribeTable("round-trips every committed scenario: Parse(WriteYAML(Load(f))) is Load(f)",
		func(file string) {
			sc, err := harness.Load(file)
			Expect(err).NotTo(HaveOccurred())
			roundTrip(sc)
		},
		scenarioEntries(),
	)

	It("round-trips every field of the schema, and leaves out what is zero or a default", func() {
		// Each section, with the values the committed scenarios do not
		// use: a list of return codes, a generated envelope, a nickname,
		// a fault of every field, a node and a managed step, false
		// booleans that must stay written.
		src := `name: every-field
description: |-
  two lines:
  "quoted" and ${N}
seed: 7
release: "720"
world:
  principal: {vmpsfs_blocks: 400000, ssi: ""}
  systems:
    - {name: VM01, ssi: C1, release: "720", latency: 10ms, bandwidth: 10MB/s, password: pw, vmpsfs_blocks: 20000}
    - {name: vm02}
  names: {east: [VM01], all2: [east, VM02]}
  latency: 1ms
  bandwidth: 1GB/s
fixtures:
  sample: false
  envelopes:
    - {name: RSU0901, kind: RSU, parts: 2, part_bytes: 64, seed: 3}
    - {name: COR9, kind: COR, component: CP}
steps:
  - name: first
    servmgr: "initialize 720"
    expect: {rc: [0, 8], messages: [CSM2700I], not_messages: [CSM2714E]}
    on_failure: continue
    nothing_changed: true
    unchanged_systems: [VM01]
  - servmgr: srvlvl query 720 ${N}
    repeat: {from: 0, to: 2}
    offline: true
  - servmgr: srvlvl send 720 L1 all (test
    rollout: {canary: east, waves: ["1", 50%], budget: "1", deadline: 90s, restart: true}
    crash_after: 1
    expect: {rc: 8, rollout: {halted: false, done: 0, failed: [VM02], untouched: 0, skipped: 0, reason: budget}}
  - servmgr: system put2prod 720 all
    rollout: {off: true}
    expect: {rollout: {failed: []}}
  - managed: {system: VM01, on: false}
  - local_service: {system: VM02, component: CP, cor: {name: COR1, component: CP, parts: 1, seed: 9}}
  - local_service: {system: VM02, component: CP, envelope: COR1}
  - install: {system: ALL, level: L1}
  - node: {system: VM02, up: false}
  - wait: 2h
expect:
  systems: [{name: ALL, level: L1, state: STABLE, prod: L1, managed: false}]
  levels: [{name: L1, state: TEST, lock: "ON"}]
  servcheck: {clean: false, drift: [VM02]}
  tables: [{table: NAMES, key: EAST, tags: {list: VM01}}, {table: NAMES, key: GHOST, absent: true}]
  files:
    - {system: PRINCIPAL, area: "MAINTCSM 0191", file: "MAINTCSM NAMES", sha256: abc}
    - {system: VM02, area: "VMPSFS:MAINT720.CMS", file: "CMS PARTCAT", same_as: VM01}
faults:
  - {kind: drop, system: VM01, during: transfer, probability: 0.25, after_bytes: 512, times: 2}
  - {kind: principal_crash, after_systems: 1}
  - {kind: stall, system: east, during: "3", for: 10m}
  - {kind: skew, system: ALL, by: -30m}
  - {kind: disk_full, disk: MAINTCSM 0191}
swarm: true
liveness: {within: 2}
rollout: {budget: 10%}
`
		sc, err := harness.Parse("every.yaml", []byte(src))
		Expect(err).NotTo(HaveOccurred())
		out := roundTrip(sc)
		Expect(out).To(ContainSubstring("sample: false"), "a false *bool is written")
		Expect(out).To(ContainSubstring(`"on": false`))
		Expect(out).To(ContainSubstring("from: 0"), "a required zero is written")
		Expect(out).To(ContainSubstring("rc: 8\n"), "one return code as a scalar")
		Expect(out).NotTo(ContainSubstring("on_failure: stop"), "the default is left to Parse")
		Expect(out).To(ContainSubstring("on_failure: continue"))
		Expect(out).To(ContainSubstring("failed: []"), "no system may fail, which is not the same as unchecked")
		Expect(out).NotTo(ContainSubstring("count:"), "zero values are left out")
		Expect(out).NotTo(ContainSubstring("prefix:"))
	})

	It("writes a counted world without its default prefix, and keeps another one", func() {
		sc, err := harness.Parse("c.yaml", []byte("name: c\nworld: {count: 3, prefix: LP}\nsteps:\n  - servmgr: initialize 720\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(roundTrip(sc)).To(ContainSubstring("prefix: LP"))
		sc, err = harness.Parse("c.yaml", []byte("name: c\nworld: {count: 3}\nsteps:\n  - servmgr: initialize 720\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(roundTrip(sc)).To(ContainSubstring("count: 3"))
	})
})
