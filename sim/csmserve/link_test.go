package csmserve_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/netem"
)

var _ = Describe("a node behind a shaped link", func() {
	It("still transfers a file byte-identical, with every reply a latency late", func() {
		const latency = 30 * time.Millisecond
		n := startNode(csmserve.Config{Link: netem.Link{Latency: latency}})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tr := transport.NewFTP(transport.FTPOptions{Timeout: 10 * time.Second})
		conn, err := tr.Dial(ctx, transport.Target{System: "VM01", Host: n.host, Port: n.port, User: "CSMWORK", Password: password})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(conn.Close)
		c := conn.(*transport.FTPConn)

		src := randomFile(GinkgoT().TempDir(), 256<<10, 9)
		body, err := os.ReadFile(src)
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		Expect(c.Put(ctx, "CMS.SERVLINK", bytes.NewReader(body), int64(len(body)))).To(Succeed())
		took := time.Since(start)
		// A put is several exchanges on the control connection (passive
		// mode, STOR's 150 and 226, the SHA-256 check), each answered a
		// latency late: a floor, not a speed target.
		Expect(took).To(BeNumerically(">=", 2*latency), "the put took %s", took)
		AddReportEntry("put of 256 KiB behind 30ms latency", took.String())

		sum := sha256.Sum256(body)
		Expect(c.LastPut().SHA256).To(Equal(hex.EncodeToString(sum[:])))
		Expect(fileSHA(filepath.Join(n.dir, "CMS.SERVLINK"))).To(Equal(hex.EncodeToString(sum[:])))
		var got bytes.Buffer
		Expect(c.Get(ctx, "CMS.SERVLINK", &got)).To(Succeed())
		Expect(bytes.Equal(got.Bytes(), body)).To(BeTrue(), "the file came back different")
	})

	It("sends each reply whole, a multi-line one too: FEAT costs one latency, as any reply", func() {
		const latency = 150 * time.Millisecond
		var clock netem.Clock
		n := startNode(csmserve.Config{Link: netem.Link{Latency: latency, Charge: clock.Charge}})
		tc, err := textproto.Dial("tcp", net.JoinHostPort(n.host, strconv.Itoa(n.port)))
		Expect(err).NotTo(HaveOccurred())
		defer tc.Close()
		exchange := func(cmd string, want int) string {
			GinkgoHelper()
			if cmd != "" {
				Expect(tc.PrintfLine("%s", cmd)).To(Succeed())
			}
			_, msg, err := tc.ReadResponse(want)
			Expect(err).NotTo(HaveOccurred())
			return msg
		}
		exchange("", 220)
		exchange("USER CSMWORK", 331)
		exchange("PASS "+password, 230)
		before := clock.Elapsed()
		feat := exchange("FEAT", 211)
		Expect(strings.Count(feat, "\n")).To(BeNumerically(">=", 4), "FEAT's reply has several lines:\n%s", feat)
		Expect(clock.Elapsed() - before).To(Equal(latency))
		Expect(before).To(Equal(3*latency), "the greeting, USER's and PASS's replies")
	})
})
