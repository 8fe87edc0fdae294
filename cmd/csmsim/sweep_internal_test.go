package main

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// These specs hold the parts of csmsim sweep that no scenario can drive:
// a run that is not deterministic (the harness has none to offer), and the
// environment a CI matrix or an Indexed Job gives, passed in as a
// function instead of set on the test process.
var _ = Describe("sweep internals", func() {
	It("names the first line where two JSON reports differ, with the lines before it", func() {
		a := []byte("{\n  \"seed\": 3,\n  \"pass\": true,\n  \"steps\": [\n    \"rc\": 0\n  ]\n}\n")
		b := []byte("{\n  \"seed\": 3,\n  \"pass\": true,\n  \"steps\": [\n    \"rc\": 8\n  ]\n}\n")
		Expect(firstDifference(a, a)).To(BeEmpty())
		// Three lines of context, not the whole report: no "{".
		Expect(firstDifference(a, b)).To(Equal(`line 5:
        2     "seed": 3,
        3     "pass": true,
        4     "steps": [
  -     5       "rc": 0   (first run)
  +     5       "rc": 8   (second run)`))
		Expect(firstDifference([]byte("{\n}"), []byte("{\n}\n{}"))).To(HaveSuffix("  -     3   (end of the report)   (first run)\n  +     3   {}   (second run)"))
	})

	It("fails a sweep whose seed was not deterministic before one that failed", func() {
		rep := &sweepReport{Runs: []sweepRun{{File: "x.yaml", Seed: 4, Failure: "x.yaml: step 1 failed", Replay: "csmsim run x.yaml --seed 4"}}}
		rep.finish()
		Expect(verdict(rep, []string{"x.yaml seed 4: its two JSON reports differ at line 9:\n..."}, 2)).To(MatchError(
			"x.yaml seed 4 is not deterministic: its two runs gave different JSON reports (the first difference is in the summary); 1 of 2 seeds checked differ"))
		Expect(verdict(rep, nil, 0)).To(MatchError("1 of 1 seeds failed; the first: x.yaml seed 4: x.yaml: step 1 failed; replay: csmsim run x.yaml --seed 4"))
	})

	DescribeTable("picks the shard from --shard, then CSMSIM_SHARD, then an Indexed Job",
		func(flag string, env map[string]string, want string) {
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			s, err := shardFrom(flag, flag != "", lookup)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.String()).To(Equal(want))
		},
		Entry("nothing: every seed", "", nil, ""),
		Entry("the flag over both", "1/3", map[string]string{"CSMSIM_SHARD": "2/3", "JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"}, "1/3"),
		Entry("CSMSIM_SHARD over the Job", "", map[string]string{"CSMSIM_SHARD": "2/3", "JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"}, "2/3"),
		Entry("the Job's 0-based index", "", map[string]string{"JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"}, "3/3"),
		Entry("an empty CSMSIM_SHARD is unset", "", map[string]string{"CSMSIM_SHARD": "", "JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "3"}, "1/3"),
	)

	It("takes every n-th seed of the range for a shard, the first at index i-1", func() {
		var got []uint64
		for idx := range uint64(10) {
			if (shard{2, 4}).has(idx) {
				got = append(got, idx)
			}
		}
		Expect(got).To(Equal([]uint64{1, 5, 9}))
	})

	It("joins seed ranges where they meet or overlap", func() {
		Expect(joinRanges([][2]uint64{{7, 9}, {1, 3}, {4, 5}, {8, 12}, {20, 20}})).To(Equal("1..5,7..12,20..20"))
		Expect(joinRanges([][2]uint64{{0, 0}, {0, 18446744073709551615}})).To(Equal("0..18446744073709551615"))
		rs, err := parseRanges("1..5,7..12")
		Expect(err).NotTo(HaveOccurred())
		Expect(rs).To(Equal([][2]uint64{{1, 5}, {7, 12}}))
		_, err = parseRanges("5..1")
		Expect(err).To(HaveOccurred())
	})

	It("merges shards of one range into the whole, and lists the ones missing", func() {
		shardOf := func(i int, seeds ...uint64) *sweepReport {
			r := &sweepReport{Format: sweepFormat, Files: []string{"x.yaml"}, Seeds: "1..6", Shard: shard{i, 3}.String()}
			for _, s := range seeds {
				r.Runs = append(r.Runs, sweepRun{File: "x.yaml", Seed: s, Pass: true})
			}
			return r
		}
		m, missing, err := mergeSweepReports([]string{"a", "c"}, []*sweepReport{shardOf(1, 1, 4), shardOf(3, 3, 6)})
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Shard).To(Equal("1/3,3/3"))
		Expect(missing).To(Equal([]string{"2/3"}))
		Expect(m.Passed).To(Equal(4))
		m, missing, err = mergeSweepReports([]string{"a", "b", "c"}, []*sweepReport{shardOf(3, 3, 6), shardOf(1, 1, 4), shardOf(2, 2, 5)})
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Shard).To(BeEmpty(), "every shard: the whole range")
		Expect(missing).To(BeEmpty())
		Expect(m.Runs).To(HaveLen(6))
		Expect(m.Runs[0].Seed).To(Equal(uint64(1)), "sorted by file and seed")
		_, _, err = mergeSweepReports([]string{"a", "b"}, []*sweepReport{shardOf(1, 1), {Format: sweepFormat, Seeds: "1..6", Swarm: true}})
		Expect(err).To(MatchError(ContainSubstring("a was swept with --swarm=false, b with --swarm=true")))
	})
})
