package ddr_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestDDR(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/ddr")
}
