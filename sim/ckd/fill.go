package ckd

import "math/rand/v2"

// CMSBlockSize is the CMS file system block size csmsim formats with.
const CMSBlockSize = 4096

// FillSeeded writes, on every track of cylinders from..to, as many 4K
// records as the device holds, with contents drawn from seed: reproducible
// test content such as a nucleus image, for DDR rehearsals.
func FillSeeded(v *Volume, from, to int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, uint64(from)<<32|uint64(to)))
	for c := from; c <= to; c++ {
		for h := 0; h < v.geo.Heads; h++ {
			t := &Track{Cyl: uint16(c), Head: uint16(h)}
			for r := 1; r <= v.geo.BlocksPerTrack; r++ {
				data := make([]byte, CMSBlockSize)
				for i := 0; i < len(data); i += 8 {
					u := rng.Uint64()
					for j := 0; j < 8; j++ {
						data[i+j] = byte(u >> (8 * j))
					}
				}
				t.Records = append(t.Records, Record{Count: Count{Cyl: uint16(c), Head: uint16(h), Rec: uint8(r)}, Data: data})
			}
			if err := v.WriteTrack(t); err != nil {
				return err
			}
		}
	}
	return nil
}
