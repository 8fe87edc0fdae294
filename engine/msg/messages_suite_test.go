package msg_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestMsg(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "engine/msg")
}
