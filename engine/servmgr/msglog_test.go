package servmgr_test

import (
	"bytes"
	"errors"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	sm "github.com/csmsim/csmsim/engine/servmgr"
)

var t0 = time.Date(2026, 11, 23, 14, 0, 5, 0, time.UTC)

func mustParse(line string) sm.Command {
	c, err := sm.Parse(line)
	Expect(err).NotTo(HaveOccurred())
	return c
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

var _ = Describe("$CSMCMD $MSGLOG", func() {
	It("logs the start, every message and the end, in UTC, with the user", func() {
		cmd := mustParse(seedAddBLD2)
		var res msg.Result
		res.Addf(msg.CSM2705I, "VM010802_BLD2", "VM010102_BLD1", 1234)
		res.Addf(msg.CSM2700I, "VM010802_BLD2", "720", "VM010102_BLD1")
		est := time.FixedZone("EST", -5*3600)
		lines := sm.FormatLog(cms.FixedClock{T: t0.In(est)}, "maintcsm", cmd, res)
		Expect(lines).To(Equal([]string{
			"2026-11-23 14:00:05 MAINTCSM CSM0001I SERVMGR SRVLVL ADD 720 VM010802_BLD2 BASEDON VM010102_BLD1 NONESM DESC August RSU Install started",
			"2026-11-23 14:00:05 MAINTCSM CSM2705I Directories of service level VM010802_BLD2 primed from VM010102_BLD1: 1234 files",
			"2026-11-23 14:00:05 MAINTCSM CSM2700I Service level VM010802_BLD2 added to release 720, based on VM010102_BLD1, state TEST",
			"2026-11-23 14:00:05 MAINTCSM CSM0002I SERVMGR SRVLVL ADD 720 VM010802_BLD2 BASEDON VM010102_BLD1 NONESM DESC August RSU Install ended RC=0",
		}))
	})

	It("stamps the start line with the start and the rest with the end", func() {
		var res msg.Result
		res.Addf(msg.CSM3050E, "SRVLVL SEND")
		e := sm.LogEntry{Start: t0, End: t0.Add(90 * time.Second), User: "MAINTCSM", Cmd: mustParse(seedSendStable), Result: res}
		Expect(e.Lines()).To(Equal([]string{
			"2026-11-23 14:00:05 MAINTCSM CSM0001I SERVMGR SRVLVL SEND VM010802_BLD2 VM01 (STABLE) started",
			"2026-11-23 14:01:35 MAINTCSM CSM3050E SERVMGR SRVLVL SEND needs the transport to managed systems, and none is configured",
			"2026-11-23 14:01:35 MAINTCSM CSM0002I SERVMGR SRVLVL SEND VM010802_BLD2 VM01 (STABLE) ended RC=8",
		}))
	})

	It("pads short user ids and keeps each record on one line", func() {
		var res msg.Result
		res.Addf(msg.CSM0000S, "line one\nline two\ttabbed")
		lines := sm.FormatLog(cms.FixedClock{T: t0}, "op", mustParse("srvlvl query 720"), res)
		Expect(lines).To(Equal([]string{
			"2026-11-23 14:00:05 OP       CSM0001I SERVMGR SRVLVL QUERY 720 ALL started",
			"2026-11-23 14:00:05 OP       CSM0000S Internal error: line one line two tabbed",
			"2026-11-23 14:00:05 OP       CSM0002I SERVMGR SRVLVL QUERY 720 ALL ended RC=12",
		}))
	})

	It("appends newline-terminated lines to a writer, reading the clock once", func() {
		var buf bytes.Buffer
		clock := cms.NewStepClock(t0, time.Minute)
		Expect(sm.AppendLog(&buf, clock, "MAINTCSM", mustParse(seedPut2Prod), msg.Result{})).To(Succeed())
		Expect(sm.AppendLog(&buf, clock, "MAINTCSM", mustParse(seedPackage), msg.Result{})).To(Succeed())
		Expect(buf.String()).To(Equal(
			"2026-11-23 14:00:05 MAINTCSM CSM0001I SERVMGR SYSTEM PUT2PROD 720 VM01 started\n" +
				"2026-11-23 14:00:05 MAINTCSM CSM0002I SERVMGR SYSTEM PUT2PROD 720 VM01 ended RC=0\n" +
				"2026-11-23 14:01:05 MAINTCSM CSM0001I SERVMGR SRVLVL PACKAGE 720 VM010802_BLD2 started\n" +
				"2026-11-23 14:01:05 MAINTCSM CSM0002I SERVMGR SRVLVL PACKAGE 720 VM010802_BLD2 ended RC=0\n"))
		Expect(sm.AppendLog(failingWriter{}, clock, "MAINTCSM", mustParse(seedPackage), msg.Result{})).NotTo(Succeed())
	})

	It("logs a line that did not parse with its syntax error", func() {
		line := "servmgr srvlvl add 720 vm010802_BLD2 basedonn vm010102_BLD1"
		_, err := sm.Parse(line)
		se, ok := sm.AsSyntaxError(err)
		Expect(ok).To(BeTrue())
		var res msg.Result
		res.Add(se.Lines()...)
		lines := sm.FormatLog(cms.FixedClock{T: t0}, "MAINTCSM", sm.Unparsed{Line: line}, res)
		Expect(lines).To(Equal([]string{
			"2026-11-23 14:00:05 MAINTCSM CSM0001I SERVMGR srvlvl add 720 vm010802_BLD2 basedonn vm010102_BLD1 started",
			`2026-11-23 14:00:05 MAINTCSM CSM0010E Syntax error in SERVMGR SRVLVL ADD, token 6 "basedonn" at column 38: expected BASEDON`,
			"2026-11-23 14:00:05 MAINTCSM CSM0012I Form: SRVLVL ADD vrm level BASEDON level [NONESM] [DESC text]",
			"2026-11-23 14:00:05 MAINTCSM CSM0002I SERVMGR srvlvl add 720 vm010802_BLD2 basedonn vm010102_BLD1 ended RC=8",
		}))
	})

	It("never writes a password", func() {
		line := "servmgr system add 720 vm01 l1 hostname h (password Secret1 pw=Secret2"
		_, err := sm.Parse(line)
		Expect(err).To(HaveOccurred(), "the grammar has no PASSWORD option")
		var res msg.Result
		se, _ := sm.AsSyntaxError(err)
		res.Add(se.Lines()...)
		var buf bytes.Buffer
		Expect(sm.AppendLog(&buf, cms.FixedClock{T: t0}, "MAINTCSM", sm.Unparsed{Line: line}, res)).To(Succeed())
		Expect(buf.String()).NotTo(ContainSubstring("Secret"))
		Expect(buf.String()).To(ContainSubstring("(password ******** pw=********"))
		Expect(sm.Redact("x PASSWORD a passwd b (pwd c d")).To(Equal("x PASSWORD ******** passwd ******** (pwd ******** d"))
	})

	It("logs a missing command without failing", func() {
		lines := sm.FormatLog(cms.FixedClock{T: t0}, "", nil, msg.Result{})
		Expect(lines).To(HaveLen(2))
		Expect(lines[0]).To(Equal("2026-11-23 14:00:05 ?        CSM0001I SERVMGR (no command) started"))
	})

	It("uses the same start and end lines as Started and Ended", func() {
		cmd := mustParse(seedSetlock)
		lines := sm.FormatLog(cms.FixedClock{T: t0}, "MAINTCSM", cmd, msg.Result{RC: 4})
		Expect(lines[0]).To(HaveSuffix(sm.Started(cmd).String()))
		Expect(lines[1]).To(HaveSuffix(sm.Ended(cmd, 4).String()))
		Expect(strings.Fields(lines[1])[3]).To(Equal("CSM0002I"))
	})
})
