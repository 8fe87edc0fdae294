package table

import (
	"fmt"
	"sync"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = ginkgo.Describe("the in-memory locker", func() {
	ginkgo.It("forgets a resource once nobody holds or waits for it, so it does not grow", func() {
		l := NewMemLocker().(*memLocker)
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				unlock, err := l.Lock(fmt.Sprintf("VMPSFS:MAINTCSM.VM%03d $CSMCMD $MSGLOG", i%20))
				Expect(err).NotTo(HaveOccurred())
				unlock()
				unlock() // twice is harmless
			}()
		}
		wg.Wait()
		l.mu.Lock()
		defer l.mu.Unlock()
		Expect(l.held).To(BeEmpty())
	})
})
