package csmsimtest_test

import (
	"net"
	"testing"
	"time"

	"github.com/csmsim/csmsim/csmsimtest"
)

// With plain testing, NewFleet's fleet lives as long as the test that
// made it: once a subtest ends, its fleet's nodes no longer listen.
func TestNewFleetClosesAtCleanup(t *testing.T) {
	var addr string
	t.Run("fleet", func(t *testing.T) {
		f := csmsimtest.NewFleet(t, csmsimtest.Systems(1))
		addr = f.Node("VM01").Addr()
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatalf("VM01's CSMSERVE does not listen while the test runs: %v", err)
		}
		c.Close()
	})
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("VM01's CSMSERVE at %s still listens after its test ended", addr)
	}
}

// Every test of the testing package is a TB (GinkgoT() is too: the specs
// pass it to NewFleet).
var _ csmsimtest.TB = testing.TB(nil)
