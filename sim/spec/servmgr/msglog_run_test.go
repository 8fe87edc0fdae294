package servmgr_test

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
)

// logOf is the $CSMCMD $MSGLOG of a, "" when there is none.
func logOf(a cms.FileArea) string {
	GinkgoHelper()
	var b strings.Builder
	err := cms.ReadFile(a, msg.LogFileID(), func(r io.Reader) error {
		_, err := io.Copy(&b, r)
		return err
	})
	if errors.Is(err, cms.ErrNotFound) {
		return ""
	}
	Expect(err).NotTo(HaveOccurred())
	return b.String()
}

// releaseLog is VMPSFS:CSMvrm.'s log; adminLog MAINTCSM 0191's.
func releaseLog(env *level.Env, vrm string) string {
	GinkgoHelper()
	p, err := env.Pool()
	Expect(err).NotTo(HaveOccurred())
	a, err := p.Dir(level.ReleaseTop(vrm))
	Expect(err).NotTo(HaveOccurred())
	return logOf(a)
}

func adminLog(env *level.Env) string {
	GinkgoHelper()
	d, err := env.AdminDisk()
	Expect(err).NotTo(HaveOccurred())
	return logOf(d)
}

// logLine is a $CSMCMD $MSGLOG line: time, user, message.
var logLine = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z0-9?]{1,8} +CSM\d{4}[IWES] `)

// records splits a log into its records, checking that each starts with
// CSM0001I, ends with one CSM0002I, and every line has time and user.
func records(log string) [][]string {
	GinkgoHelper()
	var out [][]string
	for _, l := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		if l == "" {
			continue
		}
		Expect(l).To(MatchRegexp(logLine.String()), "a log line without time or user")
		switch {
		case strings.Contains(l, " CSM0001I "):
			out = append(out, []string{l})
		default:
			Expect(out).NotTo(BeEmpty(), "a line outside any record: %s", l)
			last := out[len(out)-1]
			Expect(strings.Contains(last[len(last)-1], " CSM0002I ")).To(BeFalse(), "a line after its record's end: %s", l)
			out[len(out)-1] = append(last, l)
		}
	}
	for _, r := range out {
		Expect(r[len(r)-1]).To(ContainSubstring(" CSM0002I "), "a record without its end: %v", r)
	}
	return out
}

var _ = Describe("$CSMCMD $MSGLOG of SERVMGR commands run", func() {
	var env *level.Env
	BeforeEach(func() { env, _ = memPrincipal() })
	runLine := func(line string) servmgr.Outcome {
		return servmgr.Run(context.Background(), env, nil, []string{line})
	}

	It("gives each command one record, ending with CSM0002I once", func() {
		must(env, "initialize 720")
		must(env, "srvlvl add 720 L1 basedon BASE")
		Expect(runLine("srvlvl setlock 720 L9 on").RC).To(Equal(8))
		log := releaseLog(env, "720")
		Expect(strings.Count(log, " CSM0002I ")).To(Equal(3), log)
		recs := records(log)
		Expect(recs).To(HaveLen(3))
		Expect(recs[2]).To(HaveLen(3), "start, CSM2710E, end")
		Expect(recs[2][1]).To(ContainSubstring(" CSM2710E "))
		Expect(recs[2][2]).To(HaveSuffix("CSM0002I SERVMGR SRVLVL SETLOCK 720 L9 ON ended RC=8"))
	})

	It("logs a SEND typed without a release, as the seed types it, in CSMvrm of the level's release", func() {
		must(env, "initialize 720")
		must(env, "srvlvl add 720 L1 basedon BASE")
		Expect(runLine("srvlvl send L1 all (stable").RC).To(Equal(8)) // no transport here
		recs := records(releaseLog(env, "720"))
		Expect(recs).To(HaveLen(3))
		Expect(recs[2][0]).To(HaveSuffix("CSM0001I SERVMGR SRVLVL SEND L1 ALL (STABLE) started"))
		Expect(adminLog(env)).To(BeEmpty())
	})

	It("logs a syntax error in CSMvrm of the release it names, not on MAINTCSM 0191", func() {
		must(env, "initialize 720")
		line := "srvlvl add 720 L2 basedonn BASE"
		Expect(runLine(line).RC).To(Equal(8))
		recs := records(releaseLog(env, "720"))
		Expect(recs).To(HaveLen(2))
		Expect(recs[1][0]).To(HaveSuffix("CSM0001I SERVMGR " + line + " started"))
		Expect(recs[1][1]).To(ContainSubstring(" CSM0010E Syntax error"))
		Expect(adminLog(env)).To(BeEmpty())
	})

	It("logs a syntax error in a SEND typed without a release in CSMvrm of the level's release", func() {
		must(env, "initialize 720")
		must(env, "srvlvl add 720 L1 basedon BASE")
		Expect(runLine("srvlvl send L1 vm01 (stabel").RC).To(Equal(8))
		recs := records(releaseLog(env, "720"))
		Expect(recs).To(HaveLen(3))
		Expect(recs[2][0]).To(HaveSuffix("CSM0001I SERVMGR srvlvl send L1 vm01 (stabel started"))
		Expect(adminLog(env)).To(BeEmpty())
	})

	It("logs a syntax error that names no release in CSMvrm of the one release the principal has", func() {
		must(env, "initialize 720")
		Expect(runLine("srvlvl").RC).To(Equal(8))
		recs := records(releaseLog(env, "720"))
		Expect(recs).To(HaveLen(2))
		Expect(recs[1][0]).To(HaveSuffix("CSM0001I SERVMGR srvlvl started"))
		Expect(adminLog(env)).To(BeEmpty())
	})

	It("logs a command that names no release in CSMvrm of the one release the principal has", func() {
		must(env, "initialize 720")
		Expect(runLine("managed off").RC).To(Equal(8)) // MANAGED is for a managed system
		recs := records(releaseLog(env, "720"))
		Expect(recs).To(HaveLen(2))
		Expect(recs[1][1]).To(ContainSubstring(" CSM2911E "))
		Expect(adminLog(env)).To(BeEmpty())
	})

	It("logs on MAINTCSM 0191 what comes before INITIALIZE, a syntax error too", func() {
		Expect(runLine("srvlvl add 720 L2 basedonn BASE").RC).To(Equal(8))
		Expect(runLine("srvlvl query 720").RC).To(Equal(8))
		recs := records(adminLog(env))
		Expect(recs).To(HaveLen(2))
		Expect(recs[0][1]).To(ContainSubstring(" CSM0010E "))
		Expect(recs[1][1]).To(ContainSubstring(" CSM0020E "))
	})
})
