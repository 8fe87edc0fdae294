package servmgr

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/rollout"
)

// optDef describes one option: a keyword, the group of options it excludes
// (options of one group are alternatives, as TEST|STABLE), and the usage of
// its value ("" for a flag).
type optDef struct{ name, group, value string }

type optHit struct{ kw, val token }

// options parses the options part against defs.
func (p *parser) options(defs ...optDef) map[string]optHit {
	hits := map[string]optHit{}
	groups := map[string]string{}
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.name
	}
	valid := "no options"
	if len(names) > 0 {
		valid = orList(names)
	}
	for i := 0; i < len(p.opts); i++ {
		t := p.opts[i]
		if t.text == "(" {
			p.fail(t, KindParen, `a second "("`, valid)
		}
		kw := asciiUpper(t.text)
		var def *optDef
		for j := range defs {
			if defs[j].name == kw {
				def = &defs[j]
			}
		}
		if def == nil {
			p.fail(t, KindUnknownOption, "unknown option; valid: "+valid, valid)
		}
		if _, dup := hits[kw]; dup {
			p.fail(t, KindDuplicateOption, "option "+kw+" given twice", valid)
		}
		if def.group != "" {
			if other, ok := groups[def.group]; ok {
				p.fail(t, KindConflictingOption, fmt.Sprintf("option %s conflicts with %s", kw, other), def.group)
			}
			groups[def.group] = kw
		}
		h := optHit{kw: t}
		if def.value != "" {
			if i+1 >= len(p.opts) || p.opts[i+1].text == "(" {
				at := p.optEnd
				if i+1 < len(p.opts) {
					at = p.opts[i+1]
				}
				p.fail(at, KindMissingValue, fmt.Sprintf("option %s needs a value: %s", kw, def.value), def.value)
			}
			i++
			h.val = p.opts[i]
		}
		hits[kw] = h
	}
	return hits
}

// noOptions refuses any option.
func (p *parser) noOptions() { p.options() }

// systemOpts are SYSTEM ADD's and MODIFY's options. NOCONTACT records
// without contacting the system (docs/principal.md).
var systemOpts = []optDef{{"PORT", "", "n"}, {"REQUIRE", "REQUIRE|NOREQUIRE", ""}, {"NOREQUIRE", "REQUIRE|NOREQUIRE", ""}, {"NOCONTACT", "", ""}}

func (p *parser) port(h optHit) int {
	n, err := strconv.Atoi(h.val.text)
	if err != nil || !isDigits(h.val.text) || n < 1 || n > 65535 {
		p.fail(h.val, KindBadPort, "port must be a number from 1 to 65535", "n")
	}
	return n
}

// rolloutForm and rolloutOpts are the staged roll-out options of SRVLVL
// SEND and SYSTEM PUT2PROD (docs/rollout.md).
const rolloutForm = "CANARY target WAVES n|n%[,...] BUDGET n|n% DEADLINE secs|dur RESTART"

var rolloutOpts = []optDef{{"CANARY", "", "system|nickname"}, {"WAVES", "", "n|n%[,n|n%...]"},
	{"BUDGET", "", "n|n%"}, {"DEADLINE", "", "seconds or a duration such as 10m"}, {"RESTART", "", ""}}

// rollout reads the roll-out options; nil when none is given.
func (p *parser) rollout(o map[string]optHit) *fleet.Rollout {
	r := &fleet.Rollout{}
	given := false
	if h, ok := o["CANARY"]; ok {
		r.Canary, given = p.name(h.val, "system or nickname", "system|nickname", MaxSystemLen), true
	}
	if h, ok := o["WAVES"]; ok {
		for _, w := range strings.Split(h.val.text, ",") {
			sz, err := rollout.ParseSize(w)
			if err != nil {
				p.fail(h.val, KindBadValue, "WAVES: "+err.Error(), "n|n%[,n|n%...]")
			}
			r.Waves = append(r.Waves, sz)
		}
		given = true
	}
	if h, ok := o["BUDGET"]; ok {
		sz, err := rollout.ParseSize(h.val.text)
		if err != nil {
			p.fail(h.val, KindBadValue, "BUDGET: "+err.Error(), "n|n%")
		}
		r.Budget, given = sz, true
	}
	if h, ok := o["DEADLINE"]; ok {
		d, err := parseDeadline(h.val.text)
		if err != nil {
			p.fail(h.val, KindBadValue, "DEADLINE: "+err.Error(), "seconds or a duration such as 10m")
		}
		r.Deadline, given = d, true
	}
	if _, ok := o["RESTART"]; ok {
		r.Restart, given = true, true
	}
	if !given {
		return nil
	}
	return r
}

// parseDeadline reads seconds (600) or a duration with units (10m, 90s).
func parseDeadline(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.ToLower(s))
	if isDigits(s) {
		n, aerr := strconv.Atoi(s)
		d, err = time.Duration(n)*time.Second, aerr
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive number of seconds or a duration such as 90s or 10m", s)
	}
	return d, nil
}
