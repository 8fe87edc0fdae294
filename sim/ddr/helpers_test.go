package ddr_test

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"

	"github.com/csmsim/csmsim/sim/ckd"
	"github.com/csmsim/csmsim/sim/ckd/herctest"
	"github.com/csmsim/csmsim/sim/ddr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"
)

// requireHercules fails (never skips) when the cross-check tools are absent.
func requireHercules() {
	GinkgoHelper()
	Expect(herctest.Missing()).To(BeEmpty(), "Hercules tools missing: run make deps")
}

func checkDisk(v *ckd.Volume) {
	GinkgoHelper()
	requireHercules()
	Expect(v.Sync()).To(Succeed())
	Expect(herctest.CheckDisk(v.Path())).To(Succeed())
}

// newVol makes a volume; seed != 0 fills every track but the label track
// with random records whose count fields name the track.
func newVol(fs afero.Fs, path, devType string, cyls int, volser string, seed uint64) *ckd.Volume {
	GinkgoHelper()
	v, err := ckd.Create(fs, path, devType, cyls, volser)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = v.Close() })
	if seed != 0 {
		fillRandom(v, seed)
	}
	return v
}

func fillRandom(v *ckd.Volume, seed uint64) {
	GinkgoHelper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	bytesRng := rand.NewChaCha8(key)
	for c := range v.Cylinders() {
		for h := range v.Geometry().Heads {
			if c == 0 && h == 0 {
				continue
			}
			t := &ckd.Track{Cyl: uint16(c), Head: uint16(h)}
			for i := range rng.IntN(5) {
				r := ckd.Record{Count: ckd.Count{Cyl: uint16(c), Head: uint16(h), Rec: uint8(i + 1)},
					Key: randBytes(bytesRng, rng.IntN(9)), Data: randBytes(bytesRng, rng.IntN(4097))}
				t.Records = append(t.Records, r)
			}
			Expect(v.WriteTrack(t)).To(Succeed())
		}
	}
}

func randBytes(rng *rand.ChaCha8, n int) []byte {
	b := make([]byte, n)
	_, _ = rng.Read(b) // ChaCha8.Read never fails
	return b
}

func whole(v *ckd.Volume) ckd.Extent {
	GinkgoHelper()
	e, err := v.Extent(0, v.Cylinders())
	Expect(err).NotTo(HaveOccurred())
	return e
}

func image(v *ckd.Volume, c, h int) []byte {
	GinkgoHelper()
	b := make([]byte, v.Geometry().ImageTrackSize())
	Expect(v.ReadTrackImage(c, h, b)).To(Succeed())
	return b
}

// images snapshots every track image of a volume, [cyl][head].
func images(v *ckd.Volume) [][][]byte {
	GinkgoHelper()
	out := make([][][]byte, v.Cylinders())
	for c := range out {
		for h := range v.Geometry().Heads {
			out[c] = append(out[c], image(v, c, h))
		}
	}
	return out
}

// recordsOf parses a snapshot image at its own position.
func recordsOf(img []byte, c, h int) []ckd.Record {
	GinkgoHelper()
	t, err := ckd.ParseTrack(img, c, h)
	Expect(err).NotTo(HaveOccurred())
	return t.Records
}

// expectHolds asserts that the track at its real position cyl/head has a
// home address and R0 of that position and exactly the given records
// (whose count fields keep their source cylinder).
func expectHolds(v *ckd.Volume, cyl, head int, want []ckd.Record) {
	GinkgoHelper()
	t, err := v.ReadTrack(cyl, head)
	Expect(err).NotTo(HaveOccurred())
	Expect(int(t.Cyl)).To(Equal(cyl))
	Expect(int(t.Head)).To(Equal(head))
	Expect(len(t.Records)).To(Equal(len(want)), "records on cyl %d head %d", cyl, head)
	for i := range want {
		Expect(t.Records[i].Count).To(Equal(want[i].Count))
		Expect(t.Records[i].Key).To(Equal(want[i].Key))
		Expect(t.Records[i].Data).To(Equal(want[i].Data))
	}
}

func fileSum(fs afero.Fs, path string) [32]byte {
	GinkgoHelper()
	b, err := afero.ReadFile(fs, path)
	Expect(err).NotTo(HaveOccurred())
	return sha256.Sum256(b)
}

// dumpRec locates one track record in a dump, following
// docs/ddr-dump-format.md rather than the package's code.
type dumpRec struct{ off, n int }

func dumpRecs(d []byte) []dumpRec {
	var out []dumpRec
	off := ddr.HeaderSize
	for range int(binary.BigEndian.Uint32(d[52:])) {
		n := int(binary.BigEndian.Uint32(d[off+4:]))
		out = append(out, dumpRec{off, n})
		off += ddr.TrackHeaderSize + n + ddr.TrackSumSize
	}
	return out
}

// reseal recomputes every SHA-256 in a dump, so a test can plant damage
// the hashes do not catch.
func reseal(d []byte) {
	for _, r := range dumpRecs(d) {
		end := r.off + ddr.TrackHeaderSize + r.n
		sum := sha256.Sum256(d[r.off:end])
		copy(d[end:], sum[:])
	}
	resealEnds(d)
}

// resealEnds recomputes the header's and the whole file's SHA-256 only.
func resealEnds(d []byte) {
	sum := sha256.Sum256(d[:64])
	copy(d[64:96], sum[:])
	tail := len(d) - 32
	sum = sha256.Sum256(d[:tail])
	copy(d[tail:], sum[:])
}

// diskFs is a fresh directory on the real file system, seen as "/".
// afero's MemMapFs rewrites the file tail on every WriteAt (O(file size)),
// which makes track-by-track writes to multi-megabyte images slow.
func diskFs() afero.Fs {
	return afero.NewBasePathFs(afero.NewOsFs(), GinkgoT().TempDir())
}
