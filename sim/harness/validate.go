package harness

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/rollout"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/fault"
	"github.com/csmsim/csmsim/sim/world"
)

// Validate loads a file and reports its problems, without running it.
func Validate(path string) error {
	_, err := Load(path)
	return err
}

// The limits of a scenario, checked by validate as by run
// (docs/scenarios.md).
const (
	MaxSystems      = 99        // managed systems in a world
	MaxSteps        = 1000      // steps, each repetition of a repeated step counted
	MaxVMPSFSBlocks = 1 << 31   // a file pool of 8 TiB
	MaxParts        = 500       // parts of a generated envelope
	MaxPartBytes    = 256 << 20 // mean part size of a generated envelope
)

var placeholder = regexp.MustCompile(`\$\{(HOST|PORT):([A-Za-z0-9]+)\}|\$\{(N|NN)\}`)

// check is the semantic validation after decoding.
func (sc *Scenario) check(root *yaml.Node) Errors {
	var errs Errors
	at := func(n *yaml.Node, hint, format string, args ...any) {
		line, col := 1, 1
		if n != nil {
			line, col = n.Line, n.Column
		}
		errs = append(errs, Error{File: sc.File, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
	faults := valueOf(root, "faults")
	for i, f := range sc.Faults {
		var n *yaml.Node
		if faults != nil && i < len(faults.Content) {
			n = faults.Content[i]
		}
		if _, err := f.spec(); err != nil {
			at(n, "see docs/faults.md", "fault %d: %v", i+1, err)
		}
	}
	if sc.Liveness != nil && (sc.Liveness.Within < 0 || sc.Liveness.Within > 100) {
		at(valueOf(root, "liveness"), "retries of the same commands, 0..100", "liveness within %d", sc.Liveness.Within)
	}
	if sc.Rollout != nil {
		sc.checkRollout(sc.Rollout, valueOf(root, "rollout"), at)
	}
	if fx := valueOf(root, "fixtures"); fx != nil {
		envs := valueOf(fx, "envelopes")
		for i, e := range sc.Fixtures.Envelopes {
			var n *yaml.Node
			if envs != nil && i < len(envs.Content) {
				n = envs.Content[i]
			}
			kind := strings.ToUpper(e.Kind)
			switch {
			case kind != "RSU" && kind != "COR":
				at(valueOf(n, "kind"), "RSU or COR", "envelope %s: kind %q", e.Name, e.Kind)
			case kind == "COR" && e.Component == "":
				at(n, "add component: CP (or another component of the BASE)", "envelope %s: a COR needs a component", e.Name)
			}
			if e.Parts < 0 || e.PartBytes < 0 || e.Parts > MaxParts || e.PartBytes > MaxPartBytes {
				at(n, fmt.Sprintf("parts 0..%d, part_bytes 0..%d (0 takes the default)", MaxParts, MaxPartBytes),
					"envelope %s: parts %d, part_bytes %d", e.Name, e.Parts, e.PartBytes)
			}
			if len(e.Name) == 0 || len(e.Name) > 8 {
				at(valueOf(n, "name"), "a CMS file name: 1 to 8 characters", "envelope name %q", e.Name)
			}
		}
	}
	worldNode := valueOf(root, "world")
	if sc.World.Count > 0 && len(sc.World.Systems) > 0 {
		at(valueOf(worldNode, "count"), "use either systems: or count: with prefix:", "world has both systems and count")
	}
	if sc.World.Count < 0 || sc.World.Count > MaxSystems {
		at(valueOf(worldNode, "count"), "", "world count must be 0..%d", MaxSystems)
	}
	if len(sc.World.Systems) > MaxSystems {
		at(valueOf(worldNode, "systems"), "", "world has %d systems; at most %d", len(sc.World.Systems), MaxSystems)
	}
	blocks := func(n *yaml.Node, what string, v int64) {
		if v < 0 || v > MaxVMPSFSBlocks {
			at(n, fmt.Sprintf("4K blocks, 1..%d; leave it out for the default", int64(MaxVMPSFSBlocks)), "%s vmpsfs_blocks %d", what, v)
		}
	}
	blocks(valueOf(valueOf(worldNode, "principal"), "vmpsfs_blocks"), "principal", sc.World.Principal.VMPSFSBlocks)
	for i, s := range sc.World.Systems {
		var n *yaml.Node
		if sys := valueOf(worldNode, "systems"); sys != nil && i < len(sys.Content) {
			n = valueOf(sys.Content[i], "vmpsfs_blocks")
		}
		blocks(n, "system "+strings.ToUpper(s.Name), s.VMPSFSBlocks)
	}
	known := map[string]bool{}
	for i, s := range sc.systemSpecs() {
		name := strings.ToUpper(s.Name)
		if known[name] {
			var n *yaml.Node
			if sys := valueOf(worldNode, "systems"); sys != nil && i < len(sys.Content) {
				n = sys.Content[i]
			}
			at(n, "", "system %s is defined twice", name)
		}
		known[name] = true
		if _, err := sc.link(s); err != nil {
			var n *yaml.Node
			if sys := valueOf(worldNode, "systems"); sys != nil && i < len(sys.Content) {
				n = sys.Content[i]
			} else {
				n = worldNode
			}
			at(n, "latency like 40ms, bandwidth like 10MB/s or 100kbit/s", "system %s: %v", name, err)
		}
	}
	if len(sc.World.Names) > 0 {
		names := valueOf(worldNode, "names")
		if t, err := world.NamesTable(sc.World.Names); err != nil {
			at(names, "a nickname must not contain itself, through others either", "names: %v", err)
		} else {
			for _, en := range t.List() {
				members, _ := en.Get(table.TagList)
				for _, m := range strings.Fields(members) {
					if _, nick := t.Get(m); !nick && !known[m] {
						at(keyNode(names, en.Key()), "name systems of the world or other nicknames",
							"nickname %s lists %s, which is neither a system of the world nor a nickname", en.Key(), m)
					}
				}
			}
		}
	}
	steps := valueOf(root, "steps")
	if len(sc.Steps) == 0 {
		at(steps, "add at least one step", "steps is empty")
	}
	total := 0
	for _, st := range sc.Steps {
		total++
		if st.Repeat != nil && st.Repeat.To >= st.Repeat.From {
			total += st.Repeat.To - st.Repeat.From
		}
	}
	if total > MaxSteps {
		at(steps, "fewer or shorter repeats; split the scenario", "the scenario has %d steps once repeats are counted; at most %d", total, MaxSteps)
	}
	for i, st := range sc.Steps {
		var sn *yaml.Node
		if steps != nil && i < len(steps.Content) {
			sn = steps.Content[i]
		}
		need := func(sys string, key string) {
			if sys == "" || strings.EqualFold(sys, "ALL") && key == "install" {
				return
			}
			if !known[strings.ToUpper(sys)] {
				at(valueOf(sn, key), "define it under world: systems:", "step %d names system %s, which is not in the world", i+1, sys)
			}
		}
		n := 0
		for _, set := range []bool{st.Servmgr != nil, st.Managed != nil, st.LocalService != nil, st.Install != nil, st.Node != nil, st.Wait != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			at(sn, "use exactly one of servmgr:, managed:, local_service:, install:, node:, wait:", "step %d has %d actions", i+1, n)
		}
		if st.Wait != "" {
			if d, err := time.ParseDuration(st.Wait); err != nil || d < 0 {
				at(valueOf(sn, "wait"), "a duration such as 30s, 10m or 2h", "wait %q is not a duration", st.Wait)
			}
		}
		if st.Node != nil {
			need(st.Node.System, "node")
		}
		if (st.Rollout != nil || st.CrashAfter != 0) && st.Servmgr == nil {
			at(sn, "rollout: and crash_after: apply to servmgr steps", "step %d has rollout: or crash_after: without servmgr:", i+1)
		}
		if st.CrashAfter < 0 {
			at(valueOf(sn, "crash_after"), "the number of systems to finish before the principal stops", "crash_after must not be negative")
		}
		if st.Rollout != nil {
			sc.checkRollout(st.Rollout, valueOf(sn, "rollout"), at)
		}
		if st.OnFailure != "" && st.OnFailure != "stop" && st.OnFailure != "continue" {
			at(valueOf(sn, "on_failure"), "stop or continue", "on_failure %q is not valid", st.OnFailure)
		}
		if st.Repeat != nil && st.Servmgr == nil {
			at(valueOf(sn, "repeat"), "repeat applies to servmgr steps", "repeat without servmgr")
		}
		if st.Repeat != nil && (st.Repeat.From > st.Repeat.To || st.Repeat.From < 0) {
			at(valueOf(sn, "repeat"), "from must be 0 or more and not above to", "repeat from %d to %d", st.Repeat.From, st.Repeat.To)
		}

		if st.Servmgr != nil {
			// Each repetition's line, so that ${HOST:VM${NN}} is checked
			// for every system it will name.
			lines := []string{*st.Servmgr}
			if r := st.Repeat; r != nil && r.From >= 0 && r.From <= r.To && total <= MaxSteps {
				lines = lines[:0]
				for n := r.From; n <= r.To; n++ {
					lines = append(lines, repeatLine(*st.Servmgr, n))
				}
			}
			named := map[string]bool{}
			for _, line := range lines {
				for _, m := range placeholder.FindAllStringSubmatch(line, -1) {
					if m[2] != "" && !named[strings.ToUpper(m[2])] {
						named[strings.ToUpper(m[2])] = true
						need(m[2], "servmgr")
					} else if m[2] == "" && st.Repeat == nil {
						at(valueOf(sn, "servmgr"), "add repeat: {from: 1, to: N}", "${%s} needs repeat:", m[3])
					}
				}
			}
		}
		if st.Managed != nil {
			need(st.Managed.System, "managed")
		}
		if st.LocalService != nil {
			need(st.LocalService.System, "local_service")
			if (st.LocalService.Envelope == "") == (st.LocalService.COR == nil) {
				at(valueOf(sn, "local_service"), "give envelope: NAME (on the system's A-disk) or cor: {...} to generate one", "local_service needs exactly one of envelope and cor")
			}
		}
		if st.Install != nil {
			need(st.Install.System, "install")
		}
		for _, u := range st.UnchangedSystems {
			need(u, "unchanged_systems")
		}
	}
	if sc.Expect != nil {
		ex := valueOf(root, "expect")
		for _, s := range sc.Expect.Systems {
			if !known[strings.ToUpper(s.Name)] && !strings.EqualFold(s.Name, "ALL") {
				at(valueOf(ex, "systems"), "", "expect names system %s, which is not in the world", s.Name)
			}
		}
		for i, t := range sc.Expect.Tables {
			if !slices.Contains(fleet.Tables(), strings.ToUpper(t.Table)) {
				var n *yaml.Node
				if ts := valueOf(ex, "tables"); ts != nil && i < len(ts.Content) {
					n = valueOf(ts.Content[i], "table")
				}
				last := len(fleet.Tables()) - 1
				at(n, strings.Join(fleet.Tables()[:last], ", ")+" or "+fleet.Tables()[last], "unknown table %q", t.Table)
			}
		}
		for i, f := range sc.Expect.Files {
			var n *yaml.Node
			if fs := valueOf(ex, "files"); fs != nil && i < len(fs.Content) {
				n = fs.Content[i]
			}
			for _, sys := range []string{f.System, f.SameAs} {
				if sys != "" && !strings.EqualFold(sys, "PRINCIPAL") && !known[strings.ToUpper(sys)] {
					at(n, "PRINCIPAL or a system of the world", "file check names system %s, which is not in the world", sys)
				}
			}
			if (f.SHA256 == "") == (f.SameAs == "") {
				at(n, "give sha256: or same_as:", "file check needs exactly one of sha256 and same_as")
			}
		}
		if c := sc.Expect.Servcheck; c != nil {
			switch {
			case c.Clean != nil && *c.Clean && len(c.Drift) > 0:
				at(valueOf(ex, "servcheck"), "clean: false or no clean: with drift: [...] wants exactly those systems to drift; clean: true alone wants none",
					"servcheck: clean: true wants no drift, and drift: lists %s", strings.Join(c.Drift, " "))
			case c.Clean == nil && len(c.Drift) == 0:
				at(valueOf(ex, "servcheck"), "write {clean: true}, {clean: false} (drift on at least one system) or {drift: [VM02]}",
					"servcheck says neither clean nor drift")
			}
		}
	}
	return errs
}

// checkRollout checks a roll-out policy's values where they are written.
func (sc *Scenario) checkRollout(r *RolloutSpec, n *yaml.Node, at func(*yaml.Node, string, string, ...any)) {
	if r.Off && (r.Canary != "" || len(r.Waves) > 0 || r.Budget != "" || r.Deadline != "" || r.Restart) {
		at(n, "off: true runs the step without a policy; drop the other fields", "rollout off: true with other fields")
	}
	for i, w := range r.Waves {
		if _, err := rollout.ParseSize(w); err != nil {
			var wn *yaml.Node
			if ws := valueOf(n, "waves"); ws != nil && i < len(ws.Content) {
				wn = ws.Content[i]
			}
			at(wn, "a count (5) or a percentage (25%)", "wave size: %v", err)
		}
	}
	if r.Budget != "" {
		if _, err := rollout.ParseSize(r.Budget); err != nil {
			at(valueOf(n, "budget"), "a count (2) or a percentage (10%)", "budget: %v", err)
		}
	}
	if r.Deadline != "" {
		if d, err := time.ParseDuration(r.Deadline); err != nil || d <= 0 {
			at(valueOf(n, "deadline"), "a duration such as 90s or 10m", "deadline %q is not a positive duration", r.Deadline)
		}
	}
}

// keyNode is the node of a mapping's key, matched without case; the
// mapping itself if there is none.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	if m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if strings.EqualFold(m.Content[i].Value, key) {
				return m.Content[i]
			}
		}
	}
	return m
}

// spec is the entry as a fault.Spec, or what is wrong with it.
func (f FaultSpec) spec() (fault.Spec, error) {
	s := fault.Spec{Kind: fault.Kind(strings.ToLower(f.Kind)), System: strings.ToUpper(f.System), During: f.During,
		Probability: f.Probability, AfterBytes: f.AfterBytes, AfterSystems: f.AfterSystems, AfterWrites: f.AfterWrites, Times: f.Times, Disk: f.Disk}
	if strings.EqualFold(s.Disk, "vmpsfs") {
		s.Disk = "VMPSFS"
	} else if strings.EqualFold(s.Disk, "maintcsm 0191") {
		s.Disk = "MAINTCSM 0191"
	} else {
		s.Disk = strings.ToLower(s.Disk)
	}
	for _, d := range []struct {
		text string
		to   *time.Duration
		name string
	}{{f.For, &s.For, "for"}, {f.By, &s.By, "by"}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil {
			return s, fmt.Errorf("%s %q is not a duration such as 10m or 2h", d.name, d.text)
		}
		*d.to = v
	}
	if p := s.Check(); p != "" {
		return s, errors.New(p)
	}
	return s, nil
}
