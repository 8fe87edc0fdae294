package cmsfs_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestCMSFS(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/cmsfs")
}
