package fleet_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The fleet's specs run the principal on an in-memory world from
// sim/world against in-process CSMSERVE nodes on loopback, or against a
// scripted transport where the wire itself is the subject.
func TestFleet(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/spec/fleet")
}
