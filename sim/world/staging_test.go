package world_test

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/world"
)

var _ = Describe("a node", func() {
	It("takes Up, Down and Addr from several goroutines at once, and serves on its address after the last Up", func() {
		s, err := world.InitManaged(afero.NewMemMapFs(), world.ManagedOptions{Name: "VM05"})
		Expect(err).NotTo(HaveOccurred())
		n, err := s.Serve(s.Agent(fixedClock{time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)}, nil),
			csmserve.Config{Password: "node-secret-5", ListenAddr: "127.0.0.1:0"})
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		DeferCleanup(func() { _ = n.Stop(ctx) })
		addr := n.Addr()
		Expect(addr).To(MatchRegexp(`^127\.0\.0\.1:\d+$`))

		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				defer GinkgoRecover()
				for range 5 {
					if i%2 == 0 {
						Expect(n.Down(ctx)).To(Succeed())
					} else {
						Expect(n.Up()).To(Succeed())
					}
					Expect(n.Addr()).To(Equal(addr))
					n.Running()
				}
			})
		}
		wg.Wait()

		Expect(n.Up()).To(Succeed())
		Expect(n.Running()).To(BeTrue())
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(conn.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
		banner, err := bufio.NewReader(conn).ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(banner).To(HavePrefix("220"))
		Expect(conn.Close()).To(Succeed())

		Expect(n.Down(ctx)).To(Succeed())
		Expect(n.Running()).To(BeFalse())
		_, err = net.DialTimeout("tcp", addr, 5*time.Second)
		Expect(err).To(HaveOccurred())
	})
})
