package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/sim/world"
)

// tableChecks checks rows of the principal's tables.
func (r *runner) tableChecks(checks []TableCheck) []Expectation {
	var out []Expectation
	for _, c := range checks {
		kind := strings.ToUpper(c.Table)
		key := strings.ToUpper(c.Key)
		name := "table " + kind + " " + key
		t, err := r.fleetEnv().ReadTable(r.sc.Release, kind)
		if err != nil {
			out = append(out, Expectation{Name: name, Status: "fail", Reason: err.Error()})
			continue
		}
		en, ok := t.Get(key)
		switch {
		case c.Absent && ok:
			out = append(out, Expectation{Name: name, Want: "absent", Got: en.String(), Status: "fail", Reason: "the row exists"})
			continue
		case c.Absent:
			out = append(out, Expectation{Name: name, Want: "absent", Got: "absent", Status: "pass"})
			continue
		case !ok:
			out = append(out, Expectation{Name: name, Want: "a row", Got: "none", Status: "fail", Reason: "no row with key " + key + " in " + kind})
			continue
		}
		for _, tag := range slices.Sorted(maps.Keys(c.Tags)) {
			got, _ := en.Get(strings.ToUpper(tag))
			e := Expectation{Name: name + " :" + strings.ToUpper(tag) + ".", Want: c.Tags[tag], Got: got, Status: "pass"}
			if !strings.EqualFold(got, c.Tags[tag]) {
				e.Status, e.Reason = "fail", fmt.Sprintf("got %q, expected %q", got, c.Tags[tag])
			}
			out = append(out, e)
		}
	}
	return out
}

func (r *runner) fleetEnv() *fleet.Env { return &fleet.Env{Env: r.penv} }

// fileChecks checks files by SHA-256, or against the same file elsewhere.
func (r *runner) fileChecks(checks []FileCheck) []Expectation {
	var out []Expectation
	for _, c := range checks {
		name := fmt.Sprintf("file %s %s on %s", strings.ToUpper(c.File), strings.ToUpper(c.Area), strings.ToUpper(c.System))
		got, err := r.fileSum(c.System, c.Area, c.File)
		if err != nil {
			out = append(out, Expectation{Name: name, Status: "fail", Reason: err.Error()})
			continue
		}
		want := strings.ToLower(c.SHA256)
		if c.SameAs != "" {
			if want, err = r.fileSum(c.SameAs, c.Area, c.File); err != nil {
				out = append(out, Expectation{Name: name, Status: "fail", Reason: "same_as " + strings.ToUpper(c.SameAs) + ": " + err.Error()})
				continue
			}
		}
		e := Expectation{Name: name, Want: "sha256 " + want, Got: "sha256 " + got, Status: "pass"}
		if got != want {
			e.Status, e.Reason = "fail", "the file's SHA-256 differs"
		}
		out = append(out, e)
	}
	return out
}

// fileSum is the SHA-256 of a file in a minidisk ("MAINTCSM 0191") or an
// SFS directory ("VMPSFS:CSM720.") of the principal or a system.
func (r *runner) fileSum(system, area, file string) (string, error) {
	sys := r.psys
	if !strings.EqualFold(system, "PRINCIPAL") {
		n := r.nodes[strings.ToUpper(system)]
		if n == nil {
			return "", fmt.Errorf("no system %s in the world", strings.ToUpper(system))
		}
		sys = n.Sys
	}
	a, err := openArea(sys, area)
	if err != nil {
		return "", err
	}
	id, err := cms.ParseFileID(file)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if err := cms.ReadFile(a, id, func(rd io.Reader) error { _, err := io.Copy(h, rd); return err }); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func openArea(sys *world.System, area string) (cms.FileArea, error) {
	if pool, dir, ok := strings.Cut(area, ":"); ok {
		d, err := cms.ParseDirID(strings.ToUpper(pool) + ":" + strings.ToUpper(dir))
		if err != nil {
			return nil, err
		}
		p, err := sys.FilePool(d.Pool())
		if err != nil {
			return nil, err
		}
		return p.Dir(d)
	}
	f := strings.Fields(area)
	if len(f) != 2 {
		return nil, fmt.Errorf("area %q: write a minidisk as \"OWNER VADDR\" or an SFS directory as \"POOL:USER.DIR\"", area)
	}
	return sys.Minidisk(strings.ToUpper(f[0]), strings.ToUpper(f[1]))
}
