package main_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// servedNode is a `csmsim node serve` with its metrics exposed.
type servedNode struct {
	s       *gexec.Session
	port    string
	metrics string // host:port of its /metrics
}

// jsonLines parses every line of out as one JSON object, as
// --log-format json writes them.
func jsonLines(out string) []map[string]any {
	GinkgoHelper()
	var events []map[string]any
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var e map[string]any
		Expect(json.Unmarshal([]byte(l), &e)).To(Succeed(), "not a JSON line: %q", l)
		events = append(events, e)
	}
	return events
}

// scrapeNode reads a node's /metrics, as Prometheus would.
func scrapeNode(addr string) map[string]*dto.MetricFamily {
	GinkgoHelper()
	resp, err := http.Get("http://" + addr + "/metrics")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return fams
}

// nodeMetrics are the values the specs follow, from one scrape.
type nodeMetrics struct {
	connections, loginsFailed, bytes, loadsOK, put2prodsOK float64
	phases                                                 map[string]uint64 // samples per phase
}

func readMetrics(addr string) nodeMetrics {
	GinkgoHelper()
	fams := scrapeNode(addr)
	one := func(name string, labels ...string) *dto.Metric {
		GinkgoHelper()
		Expect(fams).To(HaveKey(name))
	next:
		for _, m := range fams[name].Metric {
			have := map[string]string{}
			for _, l := range m.Label {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue next
				}
			}
			return m
		}
		Fail("no " + name + " with " + strings.Join(labels, " "))
		return nil
	}
	m := nodeMetrics{
		connections:  one("csmserve_connections_total").GetCounter().GetValue(),
		loginsFailed: one("csmserve_logins_failed_total").GetCounter().GetValue(),
		bytes:        one("csmserve_bytes_received_total").GetCounter().GetValue(),
		loadsOK:      one("csmagent_jobs_total", "kind", "LOAD", "result", "ok").GetCounter().GetValue(),
		put2prodsOK:  one("csmagent_jobs_total", "kind", "PUT2PROD", "result", "ok").GetCounter().GetValue(),
		phases:       map[string]uint64{},
	}
	for _, p := range []string{"validate", "load", "put2prod"} {
		m.phases[p] = one("csmagent_phase_duration_seconds", "phase", p).GetHistogram().GetSampleCount()
	}
	return m
}

// sentBytes is what a SEND's CSM3053I line says it sent to system.
func sentBytes(out, system string) float64 {
	GinkgoHelper()
	m := regexp.MustCompile(`CSM3053I ` + system + `: .* (\d+) files, (\d+) bytes`).FindStringSubmatch(out)
	Expect(m).To(HaveLen(3), "no CSM3053I for %s in\n%s", system, out)
	n, err := strconv.ParseFloat(m[2], 64)
	Expect(err).NotTo(HaveOccurred())
	return n
}

var _ = Describe("real mode: logs and metrics of a roll-out", Ordered, func() {
	var dir, state, pwFile string
	nodes := map[string]*servedNode{}
	systems := []string{"VM01", "VM02"}
	smw := func(line string, flags ...string) result {
		GinkgoHelper()
		return csm(dir, append([]string{"servmgr", "--state", state, "--time", logTime, "--password-file", pwFile, line}, flags...)...)
	}

	BeforeAll(func() {
		state = newPrincipal()
		dir = filepath.Dir(state)
		pwFile = filepath.Join(dir, "csmwork.pw")
		Expect(os.WriteFile(pwFile, []byte(realPassword+"\n"), 0o600)).To(Succeed())
		for _, l := range []string{"initialize 720", "srvlvl add 720 vm010102_BLD1 basedon BASE", "srvlvl service 720 vm010102_bld1 all rsu0801",
			"srvlvl add 720 vm010802_BLD2 basedon vm010102_BLD1", "srvlvl service 720 vm010802_BLD2 all rsu0802", "srvlvl package 720 vm010802_BLD2"} {
			smOK(state, l)
		}
		for _, sys := range systems {
			root := filepath.Join(dir, strings.ToLower(sys))
			ok(csm(dir, "node", "init", "--root", root, "--system", sys, "--state", state, "--level", "vm010102_bld1"))
			s, port := serveNode(root, pwFile, "--log-format", "json", "--metrics-listen", "127.0.0.1:0")
			Eventually(s.Out, 10*time.Second).Should(gbytes.Say(`metrics of ` + sys + ` on http://127\.0\.0\.1:\d+/metrics`))
			m := regexp.MustCompile(`metrics of ` + sys + ` on http://(127\.0\.0\.1:\d+)/metrics`).FindStringSubmatch(string(s.Out.Contents()))
			nodes[sys] = &servedNode{s: s, port: port, metrics: m[1]}
			r := smw("system add 720 " + sys + " vm010102_bld1 hostname 127.0.0.1 (port " + port + " norequire")
			Expect(r.code).To(Equal(0), r.stdout+r.stderr)
		}
	})

	It("logs one start and one end event per system and phase of a SEND, as JSON lines on stderr", func() {
		r := smw("srvlvl send 720 vm010802_BLD2 all (test", "--log-format", "json")
		Expect(r.code).To(Equal(0), r.stdout+r.stderr)
		// stdout is SERVMGR's messages, as without the log
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			Expect(l).To(MatchRegexp(`^CSM\d{4}[IWE] `))
		}
		Expect(r.stdout).To(ContainSubstring("CSM3060I SRVLVL SEND: 2 of 2 systems succeeded"))

		type key struct{ system, phase, event string }
		seen := map[key]int{}
		for _, e := range jsonLines(r.stderr) {
			Expect(e).To(HaveKey("time"))
			Expect(e).To(HaveKeyWithValue("level", "INFO"))
			ev, _ := e["msg"].(string)
			if ev != "phase start" && ev != "phase end" {
				continue
			}
			sys, phase := e["system"].(string), e["phase"].(string)
			seen[key{sys, phase, ev}]++
			Expect(e).To(HaveKeyWithValue("rollout", "SEND.TEST.VM010802_BLD2.ALL"))
			Expect(e).To(HaveKeyWithValue("of", 3.0))
			if ev == "phase start" {
				Expect(e).NotTo(HaveKey("duration"))
				continue
			}
			Expect(e).To(HaveKeyWithValue("ok", true))
			Expect(e["duration"]).To(BeNumerically(">=", 0), "duration in nanoseconds")
			switch phase {
			case "transfer":
				Expect(e).To(HaveKeyWithValue("seq", 1.0))
				Expect(e).To(HaveKeyWithValue("bytes", sentBytes(r.stdout, sys)))
				Expect(e).To(HaveKeyWithValue("msgid", "CSM3053I"))
			case "validate":
				Expect(e).NotTo(HaveKey("msgid"), "validate ends as load begins, with no line")
			case "load":
				Expect(e).To(HaveKeyWithValue("seq", 3.0))
				Expect(e).To(HaveKeyWithValue("msgid", "CSM3056I"))
			}
		}
		for _, sys := range systems {
			for _, phase := range []string{"transfer", "validate", "load"} {
				for _, ev := range []string{"phase start", "phase end"} {
					Expect(seen[key{sys, phase, ev}]).To(Equal(1), "%s %s %s", sys, phase, ev)
				}
			}
		}
		Expect(seen).To(HaveLen(len(systems) * 3 * 2))
		Expect(r.stdout + r.stderr).NotTo(ContainSubstring(realPassword))
	})

	It("exposes a node's metrics during a SEND: bytes, the LOAD job, the phases' durations", func() {
		before := readMetrics(nodes["VM01"].metrics)
		// VM02 stopped: the SEND cannot end until it goes on, so what
		// VM01's /metrics shows meanwhile is shown during the SEND.
		vm02 := nodes["VM02"].s
		vm02.Signal(syscall.SIGSTOP)
		DeferCleanup(func() { vm02.Signal(syscall.SIGCONT) })
		cmd := exec.Command(csmsim, "servmgr", "--state", state, "--time", logTime, "--password-file", pwFile,
			"srvlvl send 720 vm010802_BLD2 all (stable", "--timeout", "60s")
		cmd.Dir = dir
		send, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { send.Kill().Wait(5 * time.Second) })

		var during nodeMetrics
		Eventually(func() float64 {
			during = readMetrics(nodes["VM01"].metrics)
			return during.loadsOK
		}, 30*time.Second, 50*time.Millisecond).Should(Equal(before.loadsOK + 1))
		Expect(send.ExitCode()).To(Equal(-1), "the SEND is still running: VM02 is stopped")
		Expect(during.connections).To(BeNumerically(">", before.connections))
		Expect(during.phases["validate"]).To(Equal(before.phases["validate"] + 1))
		Expect(during.phases["load"]).To(Equal(before.phases["load"] + 1))
		Expect(during.loginsFailed).To(Equal(before.loginsFailed))

		vm02.Signal(syscall.SIGCONT)
		Eventually(send, 60*time.Second).Should(gexec.Exit(0))
		out := string(send.Out.Contents())
		Expect(out).To(ContainSubstring("CSM3061I"))
		Expect(during.bytes-before.bytes).To(BeNumerically(">=", sentBytes(out, "VM01")), "the package, whole")
		// the default log is text, key=value
		Expect(string(send.Err.Contents())).To(MatchRegexp(`(?m)^time=\S+ level=INFO msg="phase end" rollout=SEND\.STABLE\.VM010802_BLD2\.ALL system=VM02 phase=load seq=3 of=3 ok=true duration=\S+ msgid=CSM3056I$`))

		// PUT2PROD's one phase
		r := smw("system put2prod 720 vm01")
		Expect(r.code).To(Equal(0), r.stdout+r.stderr)
		after := readMetrics(nodes["VM01"].metrics)
		Expect(after.put2prodsOK).To(Equal(before.put2prodsOK + 1))
		Expect(after.phases["put2prod"]).To(Equal(before.phases["put2prod"] + 1))
	})

	It("logs a failed login on a node with the user and the address, never the password", func() {
		n := nodes["VM01"]
		before := readMetrics(n.metrics)
		const wrong = "Not-The-Password-77"
		raw, err := net.DialTimeout("tcp", "127.0.0.1:"+n.port, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		defer raw.Close()
		Expect(raw.SetDeadline(time.Now().Add(20 * time.Second))).To(Succeed())
		c := textproto.NewConn(raw)
		_, _, err = c.ReadResponse(220)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.PrintfLine("USER csmwork")).To(Succeed())
		_, _, err = c.ReadResponse(331)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.PrintfLine("PASS %s", wrong)).To(Succeed())
		code, _, _ := c.ReadResponse(530)
		Expect(code).To(Equal(530))

		var refused []map[string]any
		Eventually(func() []map[string]any {
			refused = nil
			for _, e := range jsonLines(string(n.s.Err.Contents())) {
				if e["msg"] == "login refused" {
					refused = append(refused, e)
				}
			}
			return refused
		}, 10*time.Second).Should(HaveLen(1))
		Expect(refused[0]).To(HaveKeyWithValue("level", "WARN"))
		Expect(refused[0]).To(HaveKeyWithValue("system", "VM01"))
		Expect(refused[0]).To(HaveKeyWithValue("user", "csmwork"))
		Expect(refused[0]).To(HaveKeyWithValue("remote", raw.LocalAddr().String()))
		logs := string(n.s.Err.Contents()) + string(n.s.Out.Contents())
		Expect(logs).NotTo(ContainSubstring(wrong))
		Expect(logs).NotTo(ContainSubstring(realPassword))
		Expect(readMetrics(n.metrics).loginsFailed).To(Equal(before.loginsFailed + 1))
	})

	It("refuses a --log-format it does not know, and a --metrics-listen that is not host:port", func() {
		fails(csm(dir, "servmgr", "--state", state, "--log-format", "xml", "system query 720"), `--log-format "xml": use text or json`)
		root := filepath.Join(dir, "vm01")
		fails(csm(dir, "node", "serve", "--root", root, "--password-file", pwFile, "--log-format", "yaml"), `--log-format "yaml": use text or json`)
		fails(csm(dir, "node", "serve", "--root", root, "--password-file", pwFile, "--listen", "127.0.0.1:0", "--metrics-listen", "9090"),
			"--metrics-listen 9090: address 9090: missing port in address")
		fails(csm(dir, "node", "serve", "--root", root, "--password-file", pwFile, "--listen", "127.0.0.1:0", "--metrics-listen", nodes["VM01"].metrics),
			"--metrics-listen "+nodes["VM01"].metrics+": listen tcp "+nodes["VM01"].metrics+": bind: address already in use; free the port or choose another address")
	})
})
