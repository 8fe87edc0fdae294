package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/csmsim/csmsim/sim/ckd/herctest"
)

func TestCLI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "cmd/csmsim")
}

var csmsim string

var _ = SynchronizedBeforeSuite(func() []byte {
	bin, err := gexec.Build("github.com/csmsim/csmsim/cmd/csmsim")
	Expect(err).NotTo(HaveOccurred())
	return []byte(bin)
}, func(bin []byte) {
	csmsim = string(bin)
	Expect(herctest.Missing()).To(BeEmpty(), "Hercules utilities missing; run make deps")
})

var _ = SynchronizedAfterSuite(func() {}, func() { gexec.CleanupBuildArtifacts() })

// result is one finished CLI run.
type result struct {
	code           int
	stdout, stderr string
}

// repoRoot is the repository's top directory, where scenarios/ and docs/ are.
func repoRoot() string {
	GinkgoHelper()
	root, err := filepath.Abs("../..")
	Expect(err).NotTo(HaveOccurred())
	return root
}

// csm runs the built binary in dir, as a user would from a shell.
func csm(dir string, args ...string) result { return runBinary(csmsim, dir, nil, args...) }

// runBinary runs build bin of csmsim in dir, as a user would from a shell,
// with env added to an environment cleared of the shard variables, so that
// a CI matrix running this suite does not shard the sweeps under test.
func runBinary(bin, dir string, env []string, args ...string) result {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "CSMSIM_SHARD" && k != "JOB_COMPLETION_INDEX" && k != "JOB_COMPLETIONS" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// ok asserts success and returns stdout.
func ok(r result) string {
	ExpectWithOffset(1, r.code).To(Equal(0), "stderr: "+r.stderr)
	return r.stdout
}

// fails asserts a non-zero exit with exactly one line on stderr containing want.
func fails(r result, want string) {
	ExpectWithOffset(1, r.code).NotTo(Equal(0), "stdout: "+r.stdout)
	ExpectWithOffset(1, strings.Count(strings.TrimRight(r.stderr, "\n"), "\n")).To(Equal(0), "stderr must be one line: "+r.stderr)
	ExpectWithOffset(1, r.stderr).To(HavePrefix("csmsim: "))
	ExpectWithOffset(1, r.stderr).To(ContainSubstring(want))
}
