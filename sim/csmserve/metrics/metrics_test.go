package metrics_test

import (
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/sim/csmserve/metrics"
)

// scrape reads what the node's handler serves, as Prometheus would.
func scrape(m *metrics.Node) map[string]*dto.MetricFamily {
	GinkgoHelper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	Expect(rec.Code).To(Equal(200))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	Expect(err).NotTo(HaveOccurred())
	return fams
}

// sample is the metric of family name whose labels include want.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	GinkgoHelper()
	f, ok := fams[name]
	Expect(ok).To(BeTrue(), "no family %s", name)
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	Fail("no sample of " + name + " with the labels asked for")
	return nil
}

var _ = Describe("a node's metrics", func() {
	It("count connections, failed logins, bytes, jobs by kind and result, and time each phase on their clock", func() {
		t := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
		m := metrics.New("VM01", func() time.Time { return t })
		fams := scrape(m)
		// every series from the start, at zero
		Expect(sample(fams, "csmagent_jobs_total", map[string]string{"kind": "LOAD", "result": "ok"}).GetCounter().GetValue()).To(BeZero())
		Expect(sample(fams, "csmagent_phase_duration_seconds", map[string]string{"phase": "load"}).GetHistogram().GetSampleCount()).To(BeZero())

		m.Connected()
		m.Connected()
		m.LoginFailed()
		m.Received(1000)
		m.Received(24)
		m.Received(0)
		// a LOAD: 2s validating, 30s loading, RC 0; then a PUT2PROD that
		// fails after 5s; a QUERY with no phase
		m.Job(agent.JobEvent{Job: 1, Kind: "LOAD"})
		m.Job(agent.JobEvent{Job: 1, Kind: "LOAD", Phase: proto.PhaseValidate})
		t = t.Add(2 * time.Second)
		m.Job(agent.JobEvent{Job: 1, Kind: "LOAD", Phase: proto.PhaseLoad})
		t = t.Add(30 * time.Second)
		m.Job(agent.JobEvent{Job: 1, Kind: "LOAD", End: true, RC: 0})
		m.Job(agent.JobEvent{Job: 2, Kind: "PUT2PROD"})
		m.Job(agent.JobEvent{Job: 2, Kind: "PUT2PROD", Phase: proto.PhasePut2Prod})
		t = t.Add(5 * time.Second)
		m.Job(agent.JobEvent{Job: 2, Kind: "PUT2PROD", End: true, RC: 8})
		m.Job(agent.JobEvent{Job: 3, Kind: "QUERY"})
		m.Job(agent.JobEvent{Job: 3, Kind: "QUERY", End: true, RC: 4})

		fams = scrape(m)
		sys := map[string]string{"system": "VM01"}
		Expect(sample(fams, "csmserve_connections_total", sys).GetCounter().GetValue()).To(Equal(2.0))
		Expect(sample(fams, "csmserve_logins_failed_total", sys).GetCounter().GetValue()).To(Equal(1.0))
		Expect(sample(fams, "csmserve_bytes_received_total", sys).GetCounter().GetValue()).To(Equal(1024.0))
		jobs := func(kind, result string) float64 {
			return sample(fams, "csmagent_jobs_total", map[string]string{"kind": kind, "result": result}).GetCounter().GetValue()
		}
		Expect(jobs("LOAD", "ok")).To(Equal(1.0))
		Expect(jobs("LOAD", "failed")).To(BeZero())
		Expect(jobs("PUT2PROD", "failed")).To(Equal(1.0))
		Expect(jobs("QUERY", "ok")).To(Equal(1.0), "RC 4 warns; the job did its work")
		phase := func(p string) *dto.Histogram {
			return sample(fams, "csmagent_phase_duration_seconds", map[string]string{"phase": p}).GetHistogram()
		}
		Expect(phase("validate").GetSampleCount()).To(Equal(uint64(1)))
		Expect(phase("validate").GetSampleSum()).To(Equal(2.0))
		Expect(phase("load").GetSampleSum()).To(Equal(30.0))
		Expect(phase("put2prod").GetSampleSum()).To(Equal(5.0))
		Expect(fams).To(HaveKey("go_goroutines"))
		Expect(fams).To(HaveKey("process_start_time_seconds"))
	})

	It("keeps each node's registry to itself: two nodes in one process count apart", func() {
		a, b := metrics.New("VM01", nil), metrics.New("VM02", nil)
		a.Connected()
		Expect(sample(scrape(a), "csmserve_connections_total", nil).GetCounter().GetValue()).To(Equal(1.0))
		Expect(sample(scrape(b), "csmserve_connections_total", map[string]string{"system": "VM02"}).GetCounter().GetValue()).To(BeZero())
	})
})
