// Package metrics counts what a csmsim node does, for Prometheus:
// CSMSERVE's connections, failed logins and bytes received (it is a
// csmserve.Metrics), and CSMAGENT's jobs and the time of their phases (its
// Job hears agent.Env.Observe). Each Node has its own registry; nothing is
// registered in the client library's global one.
//
// The metric names are csmsim's own (docs/fidelity.md): z/VM's CSMSERVE
// exports none.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/sim/csmserve"
)

// Job results: a job that ended below RC 8 did its work (RC 4 warns), as
// the principal judges it.
const (
	ResultOK     = "ok"
	ResultFailed = "failed"
)

// Node is one node's metrics and the registry that serves them.
type Node struct {
	reg          *prometheus.Registry
	connections  prometheus.Counter
	loginsFailed prometheus.Counter
	received     prometheus.Counter
	jobs         *prometheus.CounterVec
	phases       *prometheus.HistogramVec
	now          func() time.Time

	mu   sync.Mutex
	open map[int]entered // the running job's phase, by job id
}

// entered is a phase a job entered, and when.
type entered struct {
	phase proto.Phase
	at    time.Time
}

var _ csmserve.Metrics = (*Node)(nil)

// New makes the metrics of system's node, timed by now (nil: the wall
// clock): a phase lasts from the job entering it to the next phase or the
// job's end. The registry also has the Go runtime's and the process's
// standard collectors.
func New(system string, now func() time.Time) *Node {
	if now == nil {
		now = time.Now
	}
	labels := prometheus.Labels{"system": system}
	n := &Node{
		reg: prometheus.NewRegistry(),
		now: now,
		connections: prometheus.NewCounter(prometheus.CounterOpts{Name: "csmserve_connections_total", ConstLabels: labels,
			Help: "Control connections CSMSERVE accepted, served or refused."}),
		loginsFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "csmserve_logins_failed_total", ConstLabels: labels,
			Help: "Logins CSMSERVE refused: another user than CSMWORK, a wrong password, or an address locked out."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "csmserve_bytes_received_total", ConstLabels: labels,
			Help: "Bytes of uploads (STOR, APPE) written to the staging area."}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "csmagent_jobs_total", ConstLabels: labels,
			Help: "CSMAGENT jobs ended, by kind (LOAD, PUT2PROD, QUERY) and result (ok: RC below 8; failed)."},
			[]string{"kind", "result"}),
		phases: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "csmagent_phase_duration_seconds", ConstLabels: labels,
			Help:    "Time CSMAGENT jobs spent in each phase (validate, load, put2prod), whatever the result.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 10)}, // 5ms to about 22 minutes
			[]string{"phase"}),
		open: map[int]entered{},
	}
	n.reg.MustRegister(n.connections, n.loginsFailed, n.received, n.jobs, n.phases,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every series from the start, at zero: a scrape before the first job
	// shows what will be counted, and rate() has a first sample.
	for _, kind := range []string{"LOAD", "PUT2PROD", "QUERY"} {
		for _, result := range []string{ResultOK, ResultFailed} {
			n.jobs.WithLabelValues(kind, result)
		}
	}
	for _, p := range []proto.Phase{proto.PhaseValidate, proto.PhaseLoad, proto.PhasePut2Prod} {
		n.phases.WithLabelValues(string(p))
	}
	return n
}

// Registry is the node's own registry.
func (n *Node) Registry() *prometheus.Registry { return n.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (n *Node) Handler() http.Handler { return promhttp.HandlerFor(n.reg, promhttp.HandlerOpts{}) }

// Connected is csmserve.Metrics.
func (n *Node) Connected() { n.connections.Inc() }

// LoginFailed is csmserve.Metrics.
func (n *Node) LoginFailed() { n.loginsFailed.Inc() }

// Received is csmserve.Metrics.
func (n *Node) Received(bytes int64) {
	if bytes > 0 {
		n.received.Add(float64(bytes))
	}
}

// Job hears a job's life (agent.Env.Observe): each phase is timed from
// its start to the next phase or the job's end, and each ended job is
// counted by its kind and result.
func (n *Node) Job(e agent.JobEvent) {
	now := n.now()
	n.mu.Lock()
	prev, had := n.open[e.Job]
	switch {
	case e.End:
		delete(n.open, e.Job)
	default: // the job starts (no phase yet) or enters one
		n.open[e.Job] = entered{phase: e.Phase, at: now}
	}
	n.mu.Unlock()
	if had && prev.phase != "" {
		n.phases.WithLabelValues(string(prev.phase)).Observe(now.Sub(prev.at).Seconds())
	}
	if e.End {
		result := ResultOK
		if e.RC >= 8 {
			result = ResultFailed
		}
		n.jobs.WithLabelValues(e.Kind, result).Inc()
	}
}
