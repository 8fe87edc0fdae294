package servlink_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestServlink(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "engine/servlink")
}
