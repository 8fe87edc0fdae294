package memfs_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/memfs"
)

var _ = Describe("concurrent use", func() {
	It("keeps every goroutine's writes, to its own file and to disjoint parts of a shared one", func() {
		const workers, part, rounds = 8, 3*memfs.PageSize/2 + 333, 40
		m := memfs.New(memfs.Options{})
		Expect(m.Mkdir("/own", 0o755)).To(Succeed())
		shared, err := m.Create("/shared")
		Expect(err).NotTo(HaveOccurred())

		// wants[w] is what worker w's own file and part of /shared end as.
		wants := make([][]byte, workers)
		for w := range wants {
			wants[w] = random(uint64(100+w), part)
		}

		var wg sync.WaitGroup
		errs := make(chan error, 4*workers)
		for w := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 7))
				own, err := m.Create(fmt.Sprintf("/own/%d", w))
				if err != nil {
					errs <- err
					return
				}
				// Its own handle on /shared, and writes through the shared
				// handle too: both at its part's offsets.
				mine, err := m.OpenFile("/shared", os.O_RDWR, 0)
				if err != nil {
					errs <- err
					return
				}
				base := int64(w * part)
				for range rounds {
					lo := r.IntN(part)
					hi := lo + r.IntN(part-lo) + 1
					chunk := wants[w][lo:hi]
					via := []io.WriterAt{own, mine, shared}[r.IntN(3)]
					off := int64(lo)
					if via != own {
						off += base
					}
					if _, err := via.WriteAt(chunk, off); err != nil {
						errs <- err
						return
					}
					switch r.IntN(4) {
					case 0:
						_ = mine.Sync()
					case 1:
						got := make([]byte, hi-lo)
						from := io.ReaderAt(mine)
						if via == own {
							from = own
						}
						if _, err := from.ReadAt(got, off); err != nil {
							errs <- err
							return
						}
						if !bytes.Equal(got, chunk) {
							errs <- fmt.Errorf("worker %d read back other bytes at %d", w, lo)
							return
						}
					case 2:
						_ = m.Usage()
						_, _ = m.Stat("/shared")
					}
				}
				// Then the whole part, through each way, so every byte is set.
				if _, err := own.WriteAt(wants[w], 0); err != nil {
					errs <- err
				}
				if _, err := mine.WriteAt(wants[w], base); err != nil {
					errs <- err
				}
				if err := m.CopyFile(fmt.Sprintf("/own/%d", w), fmt.Sprintf("/own/%d.copy", w)); err != nil {
					errs <- err
				}
				for _, f := range []io.Closer{own, mine} {
					if err := f.Close(); err != nil {
						errs <- err
					}
				}
			})
		}
		// Meanwhile one more goroutine lists and reads everything.
		done := make(chan struct{})
		var lister sync.WaitGroup
		lister.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				d, err := m.Open("/own")
				if err != nil {
					errs <- err
					return
				}
				_, _ = d.Readdir(-1)
				_ = d.Close()
				f, err := m.Open("/shared")
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, f)
				_ = f.Close()
			}
		})
		wg.Wait()
		close(done)
		lister.Wait()
		Expect(shared.Close()).To(Succeed())
		close(errs)
		for err := range errs {
			Expect(err).NotTo(HaveOccurred())
		}

		all := read(m, "/shared")
		Expect(all).To(HaveLen(workers * part))
		for w := range workers {
			Expect(bytes.Equal(all[w*part:(w+1)*part], wants[w])).To(BeTrue(), "worker %d's part", w)
			Expect(bytes.Equal(read(m, fmt.Sprintf("/own/%d", w)), wants[w])).To(BeTrue(), "worker %d's file", w)
			Expect(bytes.Equal(read(m, fmt.Sprintf("/own/%d.copy", w)), wants[w])).To(BeTrue(), "worker %d's copy", w)
		}
		Expect(m.Usage().Private).To(BeZero())
	})
})
