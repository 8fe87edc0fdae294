package extents_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestExtents(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/extents")
}
