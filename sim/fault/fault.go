// Package fault is seeded fault injection for the simulator: what a
// scenario's faults: entries say, which of them a seed arms (and, in swarm
// mode, which kinds it switches on at all), when an armed fault fires at
// the injection points the world offers (a step, a command, a phase, an
// upload's bytes), how long it lasts on the scenario clock, and the record
// of every fault that fired. It decides; sim/harness and sim/world do what
// it decides. The same seed and scenario give the same decisions.
package fault

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Kind is what a fault does.
type Kind string

const (
	Drop           Kind = "drop"            // a connection closes after AfterBytes
	Refuse         Kind = "refuse"          // the node refuses connections
	Stall          Kind = "stall"           // the node's agent makes no progress for For
	Crash          Kind = "crash"           // the node dies (kill -9) and restarts after For
	DiskFull       Kind = "disk_full"       // a disk has no space left
	IOError        Kind = "io_error"        // one write fails
	Corrupt        Kind = "corrupt"         // one bit flips in an upload
	Skew           Kind = "skew"            // the node's clock is off by By
	PrincipalCrash Kind = "principal_crash" // SERVMGR dies; the next same command restarts it
)

// Kinds lists every kind, in the order of the documentation.
func Kinds() []Kind {
	return []Kind{Drop, Refuse, Stall, Crash, DiskFull, IOError, Corrupt, Skew, PrincipalCrash}
}

// Phases and commands a fault may name in During, besides a step number.
func phases() []string   { return []string{"transfer", "validate", "load", "put2prod"} }
func commands() []string { return []string{"send", "put2prod", "servcheck", "service", "package"} }

// Disks a disk_full fault may name: a node's, or the principal's.
func nodeDisks() []string      { return []string{"staging", "test", "prod"} }
func principalDisks() []string { return []string{"VMPSFS", "MAINTCSM 0191"} }

// Spec is one faults: entry of a scenario.
type Spec struct {
	Kind         Kind
	System       string        // a system, a nickname or ALL; "" for principal faults
	During       string        // a step number, a phase or a command; "" any
	Probability  float64       // that the fault is armed in a run; 0 means 1
	AfterBytes   int64         // drop, corrupt: bytes of the upload before it fires
	AfterSystems int           // principal_crash: systems finished before it fires
	AfterWrites  int           // io_error: the node's writes that succeed before the one that fails
	For          time.Duration // how long it lasts on the scenario clock; 0 until healed
	Times        int           // how many times at most; 0 means 1
	Disk         string        // disk_full: staging, test, prod, VMPSFS or MAINTCSM 0191
	By           time.Duration // skew
}

// Check says what is wrong with s, "" if nothing; the harness reports it
// at the entry's line.
func (s Spec) Check() string {
	if !slices.Contains(Kinds(), s.Kind) {
		return fmt.Sprintf("kind %q is not one of %s", s.Kind, kindList())
	}
	if s.Probability < 0 || s.Probability > 1 {
		return fmt.Sprintf("probability %v is not between 0 and 1", s.Probability)
	}
	if s.Times < 0 || s.For < 0 || s.AfterBytes < 0 || s.AfterSystems < 0 || s.AfterWrites < 0 {
		return "times, for, after_bytes, after_systems and after_writes must not be negative"
	}
	if d := strings.ToLower(s.During); d != "" && !isStep(d) && !slices.Contains(phases(), d) && !slices.Contains(commands(), d) {
		return fmt.Sprintf("during %q is neither a step number, nor a phase (%s), nor a command (%s)", s.During,
			strings.Join(phases(), ", "), strings.Join(commands(), ", "))
	}
	principal := s.Kind == PrincipalCrash || s.Kind == DiskFull && slices.ContainsFunc(principalDisks(), func(d string) bool {
		return strings.EqualFold(d, s.Disk)
	})
	switch {
	case principal && s.System != "":
		return fmt.Sprintf("a %s of the principal names no system", s.Kind)
	case !principal && s.System == "":
		return fmt.Sprintf("a %s fault names a system, a nickname or ALL", s.Kind)
	case s.Kind == DiskFull && !slices.Contains(append(nodeDisks(), principalDisks()...), s.Disk):
		return fmt.Sprintf("disk %q is not one of staging, test, prod (a node's) or VMPSFS, MAINTCSM 0191 (the principal's)", s.Disk)
	case s.Kind == Skew && s.By == 0:
		return "a skew needs by: (how far the node's clock is off, e.g. 2h or -30m)"
	case (s.Kind == Drop || s.Kind == Corrupt) && s.During != "" && !strings.EqualFold(s.During, "transfer") && !isStep(s.During) &&
		!strings.EqualFold(s.During, "send"):
		return fmt.Sprintf("a %s hits an upload: during transfer, send or a step", s.Kind)
	}
	return ""
}

func kindList() string {
	var s []string
	for _, k := range Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func isStep(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Point is where the world asks whether a fault fires: at a step of a
// command, on a system, in a phase.
type Point struct {
	Step     int    // the step's index in the scenario, from 1
	Command  string // send, put2prod, servcheck, service, package, or ""
	System   string // "" on the principal
	Phase    string // transfer, validate, load, put2prod, or ""
	Finished int    // systems the step's command has finished
}

// Fired is a fault that fired: what and where, on the scenario clock.
type Fired struct {
	Kind   Kind   `json:"kind"`
	System string `json:"system,omitempty"`
	Step   int    `json:"step"`
	Point  string `json:"point"` // e.g. "phase load", "upload CMS.SERVLINK after 512 bytes"
	// At and Until are on the scenario clock, which concurrent systems
	// read in no fixed order: the timeline shows them, JSON does not.
	At    time.Time `json:"-"`
	Until time.Time `json:"-"` // when it heals; zero: until the end of the steps
	For   string    `json:"for,omitempty"`
}

// Plan is a run's faults: the entries the seed armed, and what fired.
type Plan struct {
	mu     sync.Mutex
	armed  []*armed
	fired  []Fired
	active []*active // faults in force now (lasting ones)
	healed bool      // the steps ended: nothing fires any more
}

type armed struct {
	Spec
	index   int
	targets func(string) bool // does it hit this system
	left    int               // times it may still fire
}

type active struct {
	a     *armed
	sys   string
	until time.Time // zero: until healed
}

// swarmMaxAfterWrites bounds the writes a swarm lets through before an
// io_error that does not say after_writes: enough to land inside a LOAD's
// parts as well as before them.
const swarmMaxAfterWrites = 12

// Swarm switches each fault kind on or off and picks each entry's
// probability (and an io_error's after_writes) from the seed, as FoundationDB's BUGGIFY and TigerBeetle's
// swarm testing do: different seeds exercise different mixes.
type Swarm bool

// NewPlan arms specs for one run: each entry whose probability the seed's
// draw falls under. targets resolves an entry's System (a system, a
// nickname or ALL) to its systems; the seed picks among them the ones it
// hits (as many as it may fire), so that which system a fault hits never
// depends on which one reached the point first. With swarm, each kind is
// first switched on or off, and each entry's probability drawn, from the
// same seed.
func NewPlan(specs []Spec, seed uint64, swarm Swarm, targets func(system string) ([]string, error)) (*Plan, error) {
	rng := rand.New(rand.NewPCG(seed, fnvOf("faults")))
	writes := rand.New(rand.NewPCG(seed, fnvOf("after_writes")))
	on := map[Kind]bool{}
	for _, k := range Kinds() {
		on[k] = !bool(swarm) || rng.IntN(2) == 1
	}
	p := &Plan{}
	for i, s := range specs {
		prob := s.Probability
		if prob == 0 {
			prob = 1
		}
		if swarm {
			prob = rng.Float64()
		}
		draw := rng.Float64()
		if !on[s.Kind] || draw >= prob {
			continue
		}
		a := &armed{Spec: s, index: i, left: max(s.Times, 1), targets: func(string) bool { return true }}
		if swarm && s.Kind == IOError && s.AfterWrites == 0 {
			// Its own stream, so that the draws above do not move.
			a.AfterWrites = writes.IntN(swarmMaxAfterWrites + 1)
		}
		if s.System != "" {
			systems, err := targets(s.System)
			if err != nil {
				return nil, fmt.Errorf("fault %d (%s): %w", i+1, s.Kind, err)
			}
			systems = slices.Clone(systems)
			rng.Shuffle(len(systems), func(i, j int) { systems[i], systems[j] = systems[j], systems[i] })
			victims := systems[:min(len(systems), a.left)]
			a.targets = func(s string) bool { return slices.Contains(victims, s) }
		}
		p.armed = append(p.armed, a)
	}
	return p, nil
}

func fnvOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// ArmedEntries lists the indexes in specs of the entries the seed armed,
// in the order of Armed.
func (p *Plan) ArmedEntries() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, len(p.armed))
	for i, a := range p.armed {
		out[i] = a.index
	}
	return out
}

// Armed lists the entries the seed armed, as their Specs, with what the
// seed drew for them.
func (p *Plan) Armed() []Spec {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Spec, len(p.armed))
	for i, a := range p.armed {
		out[i] = a.Spec
	}
	return out
}

// matches says an armed fault applies at pt.
func (a *armed) matches(pt Point) bool {
	if a.left <= 0 {
		return false
	}
	if a.System != "" && (pt.System == "" || !a.targets(pt.System)) {
		return false
	}
	if a.System == "" && pt.System != "" && a.Kind != PrincipalCrash {
		return false
	}
	if a.AfterSystems > 0 && pt.Finished < a.AfterSystems {
		return false
	}
	d := strings.ToLower(a.During)
	switch {
	case d == "":
		return true
	case isStep(d):
		return fmt.Sprint(pt.Step) == d
	}
	// put2prod is a phase and a command: it names either.
	return slices.Contains(phases(), d) && pt.Phase == d || slices.Contains(commands(), d) && pt.Command == d
}

// Fire asks for the faults of kind k that fire at pt, now: each fires at
// most Times, and is recorded. The caller does what each says.
func (p *Plan) Fire(k Kind, pt Point, now time.Time, what string) []Spec {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.healed {
		return nil
	}
	var out []Spec
	for _, a := range p.armed {
		if a.Kind != k || !a.matches(pt) {
			continue
		}
		a.left--
		f := Fired{Kind: k, System: pt.System, Step: pt.Step, Point: what, At: now}
		if a.For > 0 {
			f.Until, f.For = now.Add(a.For), a.For.String()
		}
		p.fired = append(p.fired, f)
		p.active = append(p.active, &active{a: a, sys: pt.System, until: f.Until})
		out = append(out, a.Spec)
	}
	return out
}

// Heal ends the lasting faults whose time is up at now, and returns them
// so the world can undo what they did. With all true (the end of the
// steps) it ends every one and no fault fires after it: what runs next,
// the liveness retries, runs in a healed world.
func (p *Plan) Heal(now time.Time, all bool) []Healed {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.healed = p.healed || all
	var out []Healed
	kept := p.active[:0]
	for _, ac := range p.active {
		if all || !ac.until.IsZero() && !now.Before(ac.until) {
			out = append(out, Healed{Kind: ac.a.Kind, System: ac.sys, Spec: ac.a.Spec})
			continue
		}
		kept = append(kept, ac)
	}
	p.active = kept
	return out
}

// Healed is a lasting fault that ended.
type Healed struct {
	Kind   Kind
	System string
	Spec   Spec
}

// Mark is where the record of fired faults stands now, for Since.
func (p *Plan) Mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.fired)
}

// Hit says which systems ("" for the principal) a fault fired on since
// mark, or is in force on now: what happened there is the fault's doing,
// not the command's.
func (p *Plan) Hit(mark int) map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	hit := map[string]bool{}
	for _, f := range p.fired[mark:] {
		hit[f.System] = true
	}
	for _, ac := range p.active {
		hit[ac.sys] = true
	}
	return hit
}

// FiredAll is every fault that fired, by step, system, kind and point:
// concurrent systems fire in no fixed order.
func (p *Plan) FiredAll() []Fired {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Clone(p.fired)
	slices.SortStableFunc(out, func(a, b Fired) int {
		return cmp.Or(cmp.Compare(a.Step, b.Step), cmp.Compare(a.System, b.System), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Point, b.Point))
	})
	return out
}
