package leakcheck_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestLeakcheck(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/leakcheck")
}
