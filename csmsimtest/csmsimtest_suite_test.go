package csmsimtest_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestCsmsimtest(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "csmsimtest")
}
