package ddr_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ddr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("random ranges and REORDER targets", func() {
	It("writes exactly the target range with the source records, 50 seeded cases", func() {
		const cyls = 20
		fs := diskFs()
		a := newVol(fs, "/a.ckd", "3390", cyls, "AAA", 11)
		b := newVol(fs, "/b.ckd", "3390", cyls, "BBB", 12)
		aSnap := images(a) // a is only ever a source
		rng := rand.New(rand.NewPCG(2024, 6))

		// randExtent picks an extent of at least 6 cylinders.
		randExtent := func(v *ckd.Volume) ckd.Extent {
			start := rng.IntN(5)
			e, err := v.Extent(start, cyls-start-rng.IntN(cyls-start-5))
			Expect(err).NotTo(HaveOccurred())
			return e
		}
		refused := 0
		for i := range 50 {
			mode := rng.IntN(3) // 0 dump+restore a->b, 1 copy a->b, 2 copy b->b
			srcVol := a
			if mode == 2 {
				srcVol = b
			}
			srcExt, dstExt := randExtent(srcVol), randExtent(b)
			from := rng.IntN(srcExt.Count)
			to := from + rng.IntN(min(srcExt.Count-from, 6))
			n := to - from + 1
			reorder := -1
			if rng.IntN(4) > 0 {
				reorder = rng.IntN(dstExt.Count - n + 3) // sometimes too high
			}
			target := from
			if reorder >= 0 {
				target = reorder
			}
			before := images(b)
			srcSnap := aSnap
			if mode == 2 {
				srcSnap = before
			}
			desc := fmt.Sprintf("case %d: mode %d src extent %d+%d cyls %d-%d dst extent %d+%d reorder %d",
				i, mode, srcExt.Start, srcExt.Count, from, to, dstExt.Start, dstExt.Count, reorder)

			var err error
			if mode == 0 {
				var d bytes.Buffer
				_, err = ddr.Dump(srcExt, from, to, &d)
				Expect(err).NotTo(HaveOccurred(), desc)
				_, err = ddr.Restore(bytes.NewReader(d.Bytes()), dstExt, reorder)
			} else {
				_, err = ddr.Copy(srcExt, from, to, dstExt, reorder)
			}
			fits := target+n <= dstExt.Count
			if !fits {
				refused++
				Expect(err).To(MatchError(ddr.ErrTargetTooSmall), desc)
			} else {
				Expect(err).NotTo(HaveOccurred(), desc)
			}

			lo, hi := dstExt.Start+target, dstExt.Start+target+n-1
			for c := range cyls {
				for hd := range 15 {
					if fits && c >= lo && c <= hi {
						s := srcExt.Start + from + c - lo
						expectHolds(b, c, hd, recordsOf(srcSnap[s][hd], s, hd))
					} else {
						Expect(image(b, c, hd)).To(Equal(before[c][hd]), "cyl %d head %d: %s", c, hd, desc)
					}
				}
			}
		}
		Expect(refused).To(BeNumerically(">", 0), "some cases must exercise the refusal")
		Expect(refused).To(BeNumerically("<", 25), "most cases must write")
	})
})
