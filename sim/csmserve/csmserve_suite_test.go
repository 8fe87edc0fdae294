package csmserve_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestCSMSERVE(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/csmserve")
}
