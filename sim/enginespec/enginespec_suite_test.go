package enginespec_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestEngineSpec(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/enginespec")
}

var _ = BeforeSuite(func() {
	buildPrincipal()
})
