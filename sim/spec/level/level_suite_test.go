package level_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The level specs run on an in-memory principal built by sim/world with
// the sample BASE and envelopes.
func TestLevel(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/spec/level")
}
