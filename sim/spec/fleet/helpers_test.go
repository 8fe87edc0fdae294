package fleet_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/fixtures"
	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/world"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"
)

const fleetPassword = "fleet-secret-1"

// node is one in-process managed system with its CSMSERVE on loopback.
type node = world.Node

func startNode(name string, principal *level.Env, clock cms.Clock, lvl string) *node {
	GinkgoHelper()
	s, err := world.InitManaged(afero.NewMemMapFs(), world.ManagedOptions{Name: name})
	Expect(err).NotTo(HaveOccurred())
	env := s.Agent(clock, table.NewMemLocker())
	_, err = world.InstallLevel(s, principal, env, "720", lvl)
	Expect(err).NotTo(HaveOccurred())
	n, err := s.Serve(env, csmserve.Config{Password: fleetPassword, ListenAddr: "127.0.0.1:0"})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	return n
}

// localService applies a generated COR to comp of a node, as its
// MAINT720 would in an emergency (MANAGED OFF first).
func localService(n *node, comp string) {
	GinkgoHelper()
	_, err := agent.Managed(n.Env, false)
	Expect(err).NotTo(HaveOccurred())
	base, _, _ := fixtures.Sample()
	cor := fixtures.COR("720", "COR0001", 77, base, comp, 1)
	disk, err := n.Sys.Minidisk(agent.MaintUser("720"), agent.LocalDiskVaddr)
	Expect(err).NotTo(HaveOccurred())
	w, err := disk.Create(cms.MustParseFileID(cor.FileID()))
	Expect(err).NotTo(HaveOccurred())
	Expect(fixtures.WriteEnvelope(w, cor)).To(Succeed())
	Expect(w.Close()).To(Succeed())
	_, err = agent.LocalService(n.Env, comp, "COR0001")
	Expect(err).NotTo(HaveOccurred())
}

// production lists a node's production copies: every file of the live side,
// with its SHA-256 recomputed from the bytes.
func production(n *node) map[string]string {
	GinkgoHelper()
	p, err := n.Sys.FilePool(agent.Pool)
	Expect(err).NotTo(HaveOccurred())
	inv, _, err := agent.Query(n.Env)
	Expect(err).NotTo(HaveOccurred())
	side := ""
	for _, e := range inv.List() {
		if v, ok := e.Get("PRODSIDE"); ok {
			side = v
		}
	}
	out := map[string]string{}
	for _, s := range []string{"A", "B"} {
		if side != "" && s != side {
			continue
		}
		dirs, err := p.ListDirs(agent.ProdTop("720", s))
		if err != nil {
			continue
		}
		for _, d := range dirs {
			a, err := p.Dir(d)
			Expect(err).NotTo(HaveOccurred())
			files, err := a.List()
			Expect(err).NotTo(HaveOccurred())
			for _, f := range files {
				r, err := a.Open(f.ID)
				Expect(err).NotTo(HaveOccurred())
				b, err := io.ReadAll(r)
				r.Close()
				Expect(err).NotTo(HaveOccurred())
				out[d.Names()[len(d.Names())-1]+" "+f.ID.Name()] = fmt.Sprintf("%x", b)
			}
		}
	}
	return out
}

// tagOf is the value of tag in t's entry key, "" when either is missing.
func tagOf(t *table.Table, key, tag string) string {
	GinkgoHelper()
	e, ok := t.Get(key)
	Expect(ok).To(BeTrue(), "no entry %s", key)
	v, _ := e.Get(tag)
	return v
}

// principalWithVM01 is a principal with L1 (BASE and RSU0801) and L2 (L1
// and RSU0802, packaged), and VM01 at L1 added over the wire.
func principalWithVM01() (*level.Env, *fleet.Wire) {
	GinkgoHelper()
	return principalWith("VM01")
}

// principalWith is principalWithVM01 with the systems named, each a node
// at L1 added over the wire.
func principalWith(systems ...string) (*level.Env, *fleet.Wire) {
	GinkgoHelper()
	ps, err := world.SamplePrincipal(afero.NewMemMapFs())
	Expect(err).NotTo(HaveOccurred())
	clock := cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
	penv := &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}
	wire := &fleet.Wire{Transport: transport.NewFTP(transport.FTPOptions{Timeout: 5 * time.Second, Retries: -1}), Password: fleetPassword,
		Pause: func(ctx context.Context) error { time.Sleep(5 * time.Millisecond); return ctx.Err() }}
	run := func(line string) {
		GinkgoHelper()
		res := servmgr.Run(context.Background(), penv, wire, []string{line})
		Expect(res.RC).To(Equal(0), "%s\n%s", line, strings.Join(res.Strings(), "\n"))
	}
	for _, l := range []string{
		"initialize 720",
		"srvlvl add 720 L1 basedon BASE",
		"srvlvl service 720 L1 all rsu0801",
		"srvlvl add 720 L2 basedon L1",
		"srvlvl service 720 L2 all rsu0802",
		"srvlvl package 720 L2",
	} {
		run(l)
	}
	for _, s := range systems {
		n := startNode(s, penv, clock, "L1")
		host, port, _ := strings.Cut(n.Addr(), ":")
		run("system add 720 " + s + " L1 hostname " + host + " (port " + port + " norequire")
	}
	return penv, wire
}
