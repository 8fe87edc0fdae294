package netem_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestNetem(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/netem")
}
