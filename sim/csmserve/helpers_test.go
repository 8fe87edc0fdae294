package csmserve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/sim/csmserve"
)

const password = "Pw-for-CSMWORK-7x1"

// fakeAgent answers SITE CSMAGENT requests with fixed replies of each
// kind, and records what it was asked: LOAD starts job 1, PUT2PROD finds
// job 1 busy, QUERY is refused, STATUS says job 1 ended.
type fakeAgent struct {
	mu    sync.Mutex
	calls []string
}

func (a *fakeAgent) Handle(req proto.Request) proto.Reply {
	a.mu.Lock()
	a.calls = append(a.calls, req.String())
	a.mu.Unlock()
	switch req.(type) {
	case proto.Info:
		return proto.SystemInfo{System: "VM01", Release: "720", SSI: "-", Level: "-"}
	case proto.Manage:
		return proto.Managed{}
	case proto.Load:
		return proto.Started{Job: 1}
	case proto.Put2Prod:
		return proto.Busy{Job: 1}
	case proto.Query:
		return proto.Refused{Line: msg.Messagef(msg.CSM3163E, 7, "VM01")}
	}
	return proto.JobStatus{Job: 1, Ended: true}
}

// Calls are the requests the agent got, as sent.
func (a *fakeAgent) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

// node is a started CSMSERVE on loopback.
type node struct {
	srv   *csmserve.Server
	agent *fakeAgent
	dir   string // the staging directory on disk, for disk-backed nodes
	host  string
	port  int
}

func (n *node) url(path string) string {
	return fmt.Sprintf("ftp://%s:%d/%s", n.host, n.port, path)
}

// startNode starts a node; a nil cfg.Fs means disk-backed in a temp dir.
// It is stopped when the spec ends.
func startNode(cfg csmserve.Config) *node {
	GinkgoHelper()
	n := &node{agent: &fakeAgent{}}
	if cfg.Fs == nil {
		n.dir = GinkgoT().TempDir()
		cfg.Fs = afero.NewBasePathFs(afero.NewOsFs(), n.dir)
	}
	if cfg.Password == "" {
		cfg.Password = password
	}
	if cfg.Agent == nil {
		cfg.Agent = n.agent
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	if cfg.System == "" {
		cfg.System = "VM01"
	}
	if cfg.Sleep == nil {
		// the login delays have their own spec (hardening_test.go); the
		// specs that fail logins on purpose need not wait them out
		cfg.Sleep = func(time.Duration) {}
	}
	srv, err := csmserve.New(cfg)
	Expect(err).NotTo(HaveOccurred())
	Expect(srv.Start()).To(Succeed())
	n.srv = srv
	DeferCleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		Expect(srv.Stop(ctx)).To(Succeed())
	})
	h, p, err := net.SplitHostPort(srv.Addr())
	Expect(err).NotTo(HaveOccurred())
	n.host = h
	n.port, _ = strconv.Atoi(p)
	return n
}

// tool finds an external program; a missing one fails the spec with the
// Debian package to install (make deps), it is never skipped.
func tool(name, debPackage string) string {
	GinkgoHelper()
	p, err := exec.LookPath(name)
	if err != nil {
		Fail(fmt.Sprintf("%s is not installed: install the Debian package %s (make deps)", name, debPackage))
	}
	return p
}

// run runs a command with a deadline and returns its stdout, stderr and
// exit code.
func run(timeout time.Duration, name string, args ...string) (string, string, int) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "HOME="+GinkgoT().TempDir(), "LC_ALL=C")
	err := cmd.Run()
	Expect(ctx.Err()).NotTo(HaveOccurred(), "%s timed out; stderr: %s", name, errb.String())
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		Expect(ok).To(BeTrue(), "running %s: %v", name, err)
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// randomFile writes size deterministic pseudo-random bytes to a new file.
func randomFile(dir string, size int64, seed uint64) string {
	GinkgoHelper()
	p := filepath.Join(dir, fmt.Sprintf("src-%d-%d.bin", size, seed))
	f, err := os.Create(p)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	r := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 7})
	_, err = io.CopyN(f, r, size)
	Expect(err).NotTo(HaveOccurred())
	return p
}

// pki is a CA and a node certificate it signed, made for one spec.
type pki struct {
	caFile    string
	serverTLS *tls.Config
}

func newPKI(dir, cn string) pki {
	GinkgoHelper()
	return newPKIFor(dir, cn, []net.IP{net.ParseIP("127.0.0.1")}, []string{"localhost"})
}

// newPKIFor makes a CA and a node certificate for the given names.
func newPKIFor(dir, cn string, ips []net.IP, dns []string) pki {
	GinkgoHelper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn + " test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	Expect(err).NotTo(HaveOccurred())
	caCert, err := x509.ParseCertificate(caDER)
	Expect(err).NotTo(HaveOccurred())
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "csmserve.vm01"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  ips,
		DNSNames:     dns,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	Expect(err).NotTo(HaveOccurred())
	caFile := filepath.Join(dir, cn+"-ca.pem")
	Expect(os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)).To(Succeed())
	return pki{
		caFile: caFile,
		serverTLS: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}},
			MinVersion:   tls.VersionTLS12,
		},
	}
}

// freePort is a loopback port nothing listens on.
func freePort() int {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	port := l.Addr().(*net.TCPAddr).Port
	Expect(l.Close()).To(Succeed())
	return port
}

// runEnv is run with extra environment variables.
func runEnv(timeout time.Duration, env []string, name string, args ...string) (string, string, int) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(append(os.Environ(), "HOME="+GinkgoT().TempDir(), "LC_ALL=C"), env...)
	err := cmd.Run()
	Expect(ctx.Err()).NotTo(HaveOccurred(), "%s timed out; stderr: %s", name, errb.String())
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		Expect(ok).To(BeTrue(), "running %s: %v", name, err)
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

func fmtInt(i int) string { return strconv.Itoa(i) }
