// Package herctest runs Hercules' own DASD utilities on images in tests, so
// csmsim's CKD format is checked by a program no one here wrote.
package herctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Tools are the Hercules programs the cross-checks need (Debian package
// hercules; `make deps` installs it).
func Tools() []string { return []string{"dasdinit", "dasdlist", "ckd2cckd", "cckd2ckd", "cckdcdsk"} }

// Missing names the tools not on PATH, so a suite can fail (not skip) with
// a message that says how to install them.
func Missing() []string {
	var out []string
	for _, t := range Tools() {
		if _, err := exec.LookPath(t); err != nil {
			out = append(out, t)
		}
	}
	return out
}

// Run runs one tool and returns its combined output; a non-zero exit is an
// error that carries the output.
func Run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// CheckDisk is the full cross-check of an image csmsim wrote: ckd2cckd
// must read every track without error (it substitutes a null track, and
// says so, for any track whose home address or R0 is wrong), cckdcdsk -3
// must find the compressed image clean, and cckd2ckd must give back the
// same bytes.
func CheckDisk(image string) error {
	dir := filepath.Dir(image)
	cckd := image + ".cckd"
	back := image + ".back"
	defer os.Remove(cckd)
	defer os.Remove(back)
	out, err := Run(dir, "ckd2cckd", "-r", image, cckd)
	if err != nil {
		return err
	}
	if m := errorMessages(out); m != "" {
		return fmt.Errorf("ckd2cckd %s: %s", image, m)
	}
	if out, err = Run(dir, "cckdcdsk", "-3", "-ro", cckd); err != nil {
		return err
	}
	if m := errorMessages(out); m != "" {
		return fmt.Errorf("cckdcdsk -3 %s: %s", cckd, m)
	}
	if _, err := Run(dir, "cckd2ckd", "-q", "-r", cckd, back); err != nil {
		return err
	}
	return sameBytes(image, back)
}

// errorMessages keeps the Hercules messages of severity E or W
// (HHCxxnnnE / HHCxxnnnW).
func errorMessages(out string) string {
	var bad []string
	for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
		for _, f := range strings.Fields(line) {
			if len(f) == 9 && strings.HasPrefix(f, "HHC") && (f[8] == 'E' || f[8] == 'W') {
				bad = append(bad, strings.TrimSpace(line))
				break
			}
		}
	}
	return strings.Join(bad, "; ")
}

func sameBytes(a, b string) error {
	x, err := os.ReadFile(a)
	if err != nil {
		return err
	}
	y, err := os.ReadFile(b)
	if err != nil {
		return err
	}
	if len(x) != len(y) {
		return fmt.Errorf("cckd2ckd gave back %d bytes, the image has %d", len(y), len(x))
	}
	for i := range x {
		if x[i] != y[i] {
			return fmt.Errorf("cckd2ckd gave back different bytes from offset %d", i)
		}
	}
	return nil
}
