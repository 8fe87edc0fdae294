package servmgr_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestServmgr(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/spec/servmgr")
}
