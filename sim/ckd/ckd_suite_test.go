package ckd_test

import (
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/ckd/herctest"
)

func TestCKD(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/ckd")
}

var _ = BeforeSuite(func() {
	Expect(herctest.Missing()).To(BeEmpty(), "Hercules utilities missing: "+strings.Join(herctest.Missing(), ", ")+"; run make deps")
})
