package harness

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/sim/world"
)

func (r *runner) endChecks(ctx context.Context) []Expectation {
	ex := r.sc.Expect
	if ex == nil {
		return nil
	}
	var out []Expectation
	check := func(name, want, got string) {
		e := Expectation{Name: name, Want: want, Got: got, Status: "pass"}
		if !strings.EqualFold(want, got) {
			e.Status, e.Reason = "fail", fmt.Sprintf("got %s, expected %s", got, want)
		}
		out = append(out, e)
	}
	var systems []SystemCheck
	for _, s := range ex.Systems {
		if !strings.EqualFold(s.Name, "ALL") {
			systems = append(systems, s)
			continue
		}
		for _, n := range r.names { // ALL: the same check on every system
			c := s
			c.Name = n
			systems = append(systems, c)
		}
	}
	for _, s := range systems {
		name := strings.ToUpper(s.Name)
		got := r.systemState(name)
		if got.Error != "" {
			out = append(out, Expectation{Name: "system " + name, Status: "fail", Reason: r.normalize(got.Error)})
			continue
		}
		if s.Level != "" {
			check("system "+name+" level", s.Level, got.Level)
		}
		if s.State != "" {
			check("system "+name+" state", s.State, got.State)
		}
		if s.Prod != "" {
			check("system "+name+" prod", s.Prod, got.Prod)
		}
		if s.Managed != nil {
			check("system "+name+" managed", strconv.FormatBool(*s.Managed), strconv.FormatBool(got.Managed))
		}
	}
	if len(ex.Levels) > 0 {
		for _, l := range ex.Levels {
			name := strings.ToUpper(l.Name)
			rel := cmp.Or(l.Release, r.sc.Release)
			if rel != r.sc.Release {
				name += " of " + rel
			}
			_, levels, err := r.penv.ReadLevels(rel)
			if err != nil {
				out = append(out, Expectation{Name: "level " + name, Status: "fail", Reason: err.Error()})
				continue
			}
			en, ok := levels.Get(strings.ToUpper(l.Name))
			if !ok {
				out = append(out, Expectation{Name: "level " + name, Want: "defined", Got: "not defined", Status: "fail",
					Reason: "level " + name + " is not in the Service Level Table"})
				continue
			}
			if l.State != "" {
				v, _ := en.Get("STATE")
				check("level "+name+" state", l.State, v)
			}
			if l.Lock != "" {
				v, _ := en.Get("LOCK")
				check("level "+name+" lock", l.Lock, v)
			}
		}
	}
	if sc := ex.Servcheck; sc != nil {
		// SERVCHECK is per release: each release's systems against its
		// levels. The scenario's release always; every other release the
		// systems run once it is initialized.
		drift := map[string]bool{}
		var res msg.Result
		for _, rel := range r.sc.releases() {
			if rel != r.sc.Release {
				if _, _, err := r.penv.ReadLevels(rel); err != nil {
					continue
				}
			}
			one := servmgr.Run(ctx, r.penv, r.wire, []string{"system servcheck " + rel + " all"})
			if one.Fleet != nil {
				for _, s := range one.Fleet.Systems {
					if len(s.Drift) > 0 {
						drift[s.System] = true
					}
				}
			}
			res.RC = max(res.RC, one.RC)
			res.Lines = append(res.Lines, one.Lines...)
		}
		got := sortedKeys(drift)
		want := []string{}
		for _, d := range sc.Drift {
			want = append(want, strings.ToUpper(d))
		}
		sort.Strings(want)
		// clean: false without a list wants drift on some system, any.
		anyDrift := len(want) == 0 && sc.Clean != nil && !*sc.Clean
		e := Expectation{Name: "servcheck", Want: "clean", Got: "clean", Status: "pass"}
		switch {
		case len(want) > 0:
			e.Want = "drift " + strings.Join(want, " ")
		case anyDrift:
			e.Want = "drift"
		}
		if len(got) > 0 {
			e.Got = "drift " + strings.Join(got, " ")
		}
		if anyDrift {
			if len(got) == 0 {
				e.Status, e.Reason = "fail", "got clean, expected drift on at least one system"
			}
		} else if e.Want != e.Got {
			e.Status, e.Reason = "fail", fmt.Sprintf("got %s, expected %s", e.Got, e.Want)
		} else if len(want) == 0 && res.RC != 0 {
			e.Status, e.Reason = "fail", fmt.Sprintf("SERVCHECK ended RC=%d", res.RC)
			for _, l := range res.Lines {
				if l.Sev != msg.Info {
					e.Reason += "; " + r.normalize(l.String())
					break
				}
			}
			e.Got = fmt.Sprintf("RC=%d", res.RC)
		}
		out = append(out, e)
	}
	out = append(out, r.tableChecks(ex.Tables)...)
	out = append(out, r.fileChecks(ex.Files)...)
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tableChecks checks rows of the principal's tables.
func (r *runner) tableChecks(checks []TableCheck) []Expectation {
	var out []Expectation
	for _, c := range checks {
		kind := strings.ToUpper(c.Table)
		key := strings.ToUpper(c.Key)
		name := "table " + kind + " " + key
		rel := cmp.Or(c.Release, r.sc.Release)
		if c.Release != "" && c.Release != r.sc.Release {
			name = "table " + kind + " of " + rel + " " + key
		}
		t, err := r.fleetEnv().ReadTable(rel, kind)
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

// systemState reads a system's CMS component row of VM SYSSUF.
func (r *runner) systemState(name string) SystemReport {
	n := r.nodes[name]
	sr := SystemReport{Name: name, Level: "-", State: "-", Prod: "-"}
	info, err := agent.Info(n.Env)
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	sr.Managed = info.Managed
	inv, _, err := agent.Query(n.Env)
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	if e, ok := inv.Get("CMS"); ok {
		sr.Level, _ = e.Get(agent.TagLevel)
		sr.State, _ = e.Get(agent.TagState)
		sr.Prod, _ = e.Get(agent.TagProd)
	}
	return sr
}

func (r *runner) finalSystems() []SystemReport {
	out := make([]SystemReport, 0, len(r.names))
	for _, name := range r.names {
		out = append(out, r.systemState(name))
	}
	return out
}
