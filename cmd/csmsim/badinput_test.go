package main_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Every file csmsim reads has a bounded size: past it, a clear error, at
// once, instead of reading gigabytes.
var _ = Describe("files without end", func() {
	It("refuses /dev/zero as a scenario", func() {
		r := csm(GinkgoT().TempDir(), "validate", "/dev/zero")
		Expect(r.code).NotTo(Equal(0))
		Expect(r.stderr).To(ContainSubstring("/dev/zero:1:1: the file is larger than 1048576 bytes"))
	})

	It("refuses /dev/zero as a password file", func() {
		state := newPrincipal()
		fails(csm(filepath.Dir(state), "servmgr", "--state", state, "--password-file", "/dev/zero", "srvlvl query 720"),
			"--password-file /dev/zero is larger than 4096 bytes")
	})
})
