package csmsimtest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/sim/world"
)

// MaxSystems is the most managed systems a fleet may have, as a scenario.
const MaxSystems = 99

// An Option configures a fleet (NewFleet, StartFleet). The zero Option
// changes nothing.
type Option struct{ set func(*config) }

// config is what the options chose; check tells what is wrong with it.
type config struct {
	systems   *int // Systems' count; nil when not given
	names     []string
	release   string
	level     string   // Installed's level; "" for none
	services  []string // Installed's envelopes, in order
	envelopes []Envelope
	links     []link
	nicknames map[string][]string
	seed      uint64
}

// link is a Link option: systems empty means every system.
type link struct {
	latency   time.Duration
	bandwidth int64
	systems   []string
}

// Systems makes n managed systems, VM01 to VMnn (n from 0 to MaxSystems).
// Without Systems or Names a fleet has one, VM01.
func Systems(n int) Option { return Option{func(c *config) { c.systems = &n }} }

// Names makes a managed system of each name, in the order given, e.g.
// Names("VM01", "VM02", "DALLAS"): 1 to 8 characters of A-Z 0-9 _ @ # $,
// folded to upper case. With Systems too, both must give the same count.
func Names(names ...string) Option {
	return Option{func(c *config) {
		c.names = make([]string, 0, len(names)) // given, even if empty: no systems
		for _, n := range names {
			c.names = append(c.names, strings.ToUpper(n))
		}
	}}
}

// Release is the z/VM release of the principal's service and of every
// managed system, e.g. "730"; "720" by default.
func Release(vrm string) Option { return Option{func(c *config) { c.release = vrm }} }

// Installed puts every system at level, and into SYSSTAT, as a shop that
// runs CSM already has them. The fleet types on the principal, each line
// checked to end with RC 0:
//
//	initialize <release>
//	srvlvl add <release> <level> basedon BASE
//	srvlvl service <release> <level> all <envelope>    (for each envelope)
//
// then installs the level on every system as installing z/VM does (full
// package, loaded STABLE, put into production), and adds each system:
//
//	system add <release> <system> <level> hostname 127.0.0.1 (port <port> norequire
//
// The envelopes are SERVLINK files on MAINTCSM's A-disk: the sample's
// RSU0801 and RSU0802 (release 720), or those of Envelopes. With none, the
// level is the release's BASE as shipped.
//
// Without Installed the principal is fresh, ready for INITIALIZE, and the
// systems have no level: the test types every command (Fleet.Install puts
// a system at a level, as Installed does).
func Installed(level string, envelopes ...string) Option {
	return Option{func(c *config) {
		c.level = strings.ToUpper(level)
		c.services = nil
		for _, e := range envelopes {
			c.services = append(c.services, strings.ToUpper(e))
		}
	}}
}

// Envelope is a service envelope the fleet generates onto MAINTCSM's
// A-disk (file <Name> SERVLINK), where SRVLVL SERVICE finds it: an RSU or
// a COR against the BASE of the fleet's release, with seeded parts, as
// csmsim's scenario fixtures make them.
type Envelope struct {
	Name      string // e.g. RSU0901 or COR0001
	Kind      string // "RSU" (also when empty) or "COR"
	Component string // a COR's component, e.g. CP
	Parts     int    // parts it replaces; 3 when 0
	PartBytes int64  // mean part size in bytes; the BASE's (256) when 0
	Seed      uint64 // seeds its parts; the fleet's seed when 0
}

// Envelopes generates envelopes onto MAINTCSM's A-disk, beside the
// sample's RSU0801 and RSU0802.
func Envelopes(envs ...Envelope) Option {
	return Option{func(c *config) { c.envelopes = append(c.envelopes, envs...) }}
}

// Link makes the network link of the systems named (every system when
// none is) a distant one: each write waits latency once, and the bytes
// flow at bytesPerSecond (0: unlimited) both ways. The waits are charged
// to the fleet's virtual link clock (Fleet.LinkTime), not slept: a
// roll-out's DEADLINE runs on that clock, and no test waits for the link.
func Link(latency time.Duration, bytesPerSecond int64, systems ...string) Option {
	return Option{func(c *config) {
		l := link{latency: latency, bandwidth: bytesPerSecond}
		for _, s := range systems {
			l.systems = append(l.systems, strings.ToUpper(s))
		}
		c.links = append(c.links, l)
	}}
}

// Nickname defines a nickname in MAINTCSM NAMES, which SEND, PUT2PROD and
// SERVCHECK take as a target: members are systems or other nicknames.
func Nickname(name string, members ...string) Option {
	return Option{func(c *config) {
		if c.nicknames == nil {
			c.nicknames = map[string][]string{}
		}
		c.nicknames[strings.ToUpper(name)] = members
	}}
}

// Seed seeds the generated data: each system's own (the system's seed is
// Seed plus its index) and the envelopes that have no seed of their own.
func Seed(n uint64) Option { return Option{func(c *config) { c.seed = n }} }

// newConfig applies the options to the defaults and checks the result.
func newConfig(opts []Option) (*config, error) {
	c := &config{release: world.DefaultRelease}
	for _, o := range opts {
		if o.set != nil {
			o.set(c)
		}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *config) check() error {
	if err := level.CheckRelease(c.release); err != nil {
		return fmt.Errorf("Release(%q): %v", c.release, err)
	}
	if c.systems != nil && (*c.systems > MaxSystems || *c.systems < 0) {
		return fmt.Errorf("Systems(%d): a fleet has 0 to %d managed systems", *c.systems, MaxSystems)
	}
	switch {
	case c.names == nil && c.systems == nil:
		c.names = []string{"VM01"}
	case c.names == nil:
		for i := range *c.systems {
			c.names = append(c.names, fmt.Sprintf("VM%02d", i+1))
		}
	case c.systems != nil && *c.systems != len(c.names):
		return fmt.Errorf("Systems(%d) and Names with %d names disagree; give one of them", *c.systems, len(c.names))
	}
	if len(c.names) > MaxSystems {
		return fmt.Errorf("Names: %d systems; a fleet has at most %d", len(c.names), MaxSystems)
	}
	for i, n := range c.names {
		if slices.Contains(c.names[:i], n) {
			return fmt.Errorf("Names: system %s is named twice; name each system once", n)
		}
		// SYSTEM ADD's own grammar judges the name, so that a fleet never
		// has a system SERVMGR could not name.
		if _, err := servmgr.Parse(fmt.Sprintf("system add %s %s BASE hostname 127.0.0.1", c.release, n)); err != nil {
			return fmt.Errorf("Names: system %q cannot be named in SERVMGR: %v", n, err)
		}
	}
	for _, l := range c.links {
		if l.latency < 0 || l.bandwidth < 0 {
			return fmt.Errorf("Link(%v, %d): latency and bandwidth cannot be negative", l.latency, l.bandwidth)
		}
		for _, s := range l.systems {
			if !slices.Contains(c.names, s) {
				return fmt.Errorf("Link names system %s, which is not in the fleet (%s)", s, strings.Join(c.names, ", "))
			}
		}
	}
	for _, e := range c.envelopes {
		if e.Name == "" {
			return fmt.Errorf("Envelopes: an envelope has no Name; name it, e.g. RSU0901")
		}
		if k := strings.ToUpper(e.Kind); k != "" && k != "RSU" && k != "COR" {
			return fmt.Errorf("Envelopes: envelope %s has Kind %q; use RSU or COR", e.Name, e.Kind)
		}
		if strings.EqualFold(e.Kind, "COR") && e.Component == "" {
			return fmt.Errorf("Envelopes: COR %s has no Component; name the component it services, e.g. CP", e.Name)
		}
	}
	if len(c.nicknames) > 0 {
		if _, err := world.NamesTable(c.nicknames); err != nil {
			return fmt.Errorf("Nickname: %v; a nickname must not contain itself, through others either", err)
		}
		for _, nick := range slices.Sorted(maps.Keys(c.nicknames)) {
			for _, m := range c.nicknames[nick] {
				if _, isNick := c.nicknames[strings.ToUpper(m)]; !isNick && !slices.Contains(c.names, strings.ToUpper(m)) {
					return fmt.Errorf("Nickname %s lists %s, which is neither a system of the fleet (%s) nor a nickname", nick, m,
						strings.Join(c.names, ", "))
				}
			}
		}
	}
	return nil
}

// linkOf is system's link: the last Link option that names it, or names
// no system.
func (c *config) linkOf(system string) (time.Duration, int64) {
	var lat time.Duration
	var bw int64
	for _, l := range c.links {
		if len(l.systems) == 0 || slices.Contains(l.systems, system) {
			lat, bw = l.latency, l.bandwidth
		}
	}
	return lat, bw
}
