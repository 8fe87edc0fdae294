package fault_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The fault plan's specs: what a seed arms, where an armed fault fires,
// when it heals, all without a world.
func TestFault(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/fault")
}
