package csmserve_test

import (
	"bytes"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/csmserve"
)

// counted is a csmserve.Metrics that remembers what it heard.
type counted struct {
	mu                        sync.Mutex
	connections, loginsFailed int
	received                  int64
}

func (c *counted) Connected()   { c.mu.Lock(); c.connections++; c.mu.Unlock() }
func (c *counted) LoginFailed() { c.mu.Lock(); c.loginsFailed++; c.mu.Unlock() }
func (c *counted) Received(n int64) {
	c.mu.Lock()
	c.received += n
	c.mu.Unlock()
}

func (c *counted) now() (int, int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connections, c.loginsFailed, c.received
}

var _ = Describe("Config.Metrics", func() {
	It("hears every connection, every refused login and the bytes of each upload", func() {
		m := &counted{}
		n := startNode(csmserve.Config{Fs: afero.NewMemMapFs(), Metrics: m})

		c := loggedIn(n)
		body := bytes.Repeat([]byte("CSM"), 10_000)
		code, text := c.upload("STOR A.B", body)
		Expect(code).To(Equal(226), text)
		code, text = c.upload("APPE A.B", []byte("more"))
		Expect(code).To(Equal(226), text)

		// the wrong password, then the right one for another user: each
		// refusal ends its connection
		for _, login := range [][2]string{{"CSMWORK", "not-the-password"}, {"ANONYMOUS", password}} {
			bad, code, _ := dialCtl(n)
			Expect(code).To(Equal(220))
			code, _ = bad.cmd("USER " + login[0])
			Expect(code).To(Equal(331))
			code, _ = bad.cmd("PASS " + login[1])
			Expect(code).To(Equal(530))
		}

		conns, failed, received := m.now()
		Expect(conns).To(Equal(3))
		Expect(failed).To(Equal(2))
		Expect(received).To(Equal(int64(len(body) + len("more"))))
	})
})
