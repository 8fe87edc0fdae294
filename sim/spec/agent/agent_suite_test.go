package agent_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The agent's specs run against managed systems built by sim/world, from
// packages a principal made once for the suite (buildPrincipal).
func TestAgent(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/spec/agent")
}

var _ = BeforeSuite(func() {
	buildPrincipal()
})
