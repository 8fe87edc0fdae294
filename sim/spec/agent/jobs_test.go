package agent_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/sim/world"
)

var _ = Describe("jobs", func() {
	var (
		m    *managed
		jobs *agent.Jobs
	)
	BeforeEach(func() {
		m = newManaged()
		jobs = agent.NewJobs(m.env)
	})

	// blocker submits a job that runs until release is closed.
	blocker := func(name string) (int, chan struct{}) {
		GinkgoHelper()
		release := make(chan struct{})
		id, err := jobs.Submit(name, func() (msg.Result, error) {
			<-release
			var res msg.Result
			res.Addf(msg.CSM3122I, "L9", "VM01", "TEST")
			return res, nil
		})
		Expect(err).NotTo(HaveOccurred())
		return id, release
	}

	It("runs one job at a time, numbered from 1, and writes its messages when it ends", func() {
		id, release := blocker("LOAD L9 TEST")
		Expect(id).To(Equal(1))
		_, err := jobs.Submit("QUERY", func() (msg.Result, error) { return msg.Result{}, nil })
		Expect(err).To(Equal(&agent.BusyError{Running: 1}))
		Expect(agent.Lines(err)[0].String()).To(Equal("CSM3162E CSMAGENT is busy with job 1; try again when it has ended"))
		st, _, err := jobs.Status(1)
		Expect(err).NotTo(HaveOccurred())
		Expect(st).To(Equal(proto.JobStatus{Job: 1}))
		Expect(jobs.Running()).To(Equal(1))
		_, err = m.staging().Stat(proto.JobMessages(1))
		Expect(err).To(HaveOccurred(), "no messages before the job ends")

		close(release)
		rc, lines, err := jobs.Wait(1)
		Expect(err).NotTo(HaveOccurred())
		Expect(rc).To(Equal(0))
		want := "CSM3160I CSMAGENT LOAD L9 TEST started as job 1\n" +
			"CSM3122I Service level L9 loaded on system VM01, state TEST\n" +
			"CSM3161I CSMAGENT LOAD L9 TEST ended RC=0 (job 1)\n"
		Expect(lines).To(HaveLen(3))
		Expect(string(readAll(m.staging(), proto.JobMessages(1)))).To(Equal(want))
		st, lines, err = jobs.Status(1)
		Expect(err).NotTo(HaveOccurred())
		Expect(st).To(Equal(proto.JobStatus{Job: 1, Ended: true, RC: 0}))
		Expect(lines).To(HaveLen(3))

		top, err := m.pool().Dir(agent.Top(vrm))
		Expect(err).NotTo(HaveOccurred())
		log := string(readAll(top, msg.LogFileID()))
		Expect(log).To(MatchRegexp(`(?m)^2026-12-01 \d\d:\d\d:\d\d MAINT720 CSM3160I CSMAGENT LOAD L9 TEST started as job 1$`))
		Expect(log).To(MatchRegexp(`(?m)^2026-12-01 \d\d:\d\d:\d\d MAINT720 CSM3161I CSMAGENT LOAD L9 TEST ended RC=0 \(job 1\)$`))

		// The next job is 2; a failing one ends with its RC.
		id, err = jobs.Submit("PUT2PROD L1", func() (msg.Result, error) { return agent.Put2Prod(m.env, "L1") })
		Expect(err).NotTo(HaveOccurred())
		Expect(id).To(Equal(2))
		rc, lines, err = jobs.Wait(2)
		Expect(err).NotTo(HaveOccurred())
		Expect(rc).To(Equal(8))
		Expect(lines[1].ID).To(Equal("CSM3130E"))

		_, _, err = jobs.Status(3)
		Expect(agent.Lines(err)[0].String()).To(Equal("CSM3163E Job 3 is not known on system VM01"))

		// A new runner of the same system goes on after the last job.
		Expect(agent.NewJobs(m.env).Submit("QUERY", func() (msg.Result, error) { return msg.Result{}, nil })).To(Equal(3))
	})

	It("remembers the last 64 ended jobs, not every job it ever ran; older messages stay in their files", func() {
		for i := 1; i <= 70; i++ {
			id, err := jobs.Submit("QUERY", func() (msg.Result, error) { return msg.Result{}, nil })
			Expect(err).NotTo(HaveOccurred())
			Expect(id).To(Equal(i))
			_, _, err = jobs.Wait(id)
			Expect(err).NotTo(HaveOccurred())
		}
		_, _, err := jobs.Status(6)
		Expect(agent.Lines(err)[0].ID).To(Equal("CSM3163E"))
		st, _, err := jobs.Status(7)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Ended).To(BeTrue())
		Expect(string(readAll(m.staging(), proto.JobMessages(6)))).To(ContainSubstring("CSM3161I CSMAGENT QUERY ended RC=0 (job 6)"))
	})

	It("says its messages are lost when the staging disk cannot take them, and keeps the job's RC", func() {
		// A system with a one-cylinder staging disk, filled to the last block.
		sys, err := world.InitManaged(afero.NewMemMapFs(), world.ManagedOptions{Name: "VM01", StagingCylinders: 1})
		Expect(err).NotTo(HaveOccurred())
		env := sys.Agent(cms.NewStepClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), time.Second), nil)
		jobs := agent.NewJobs(env)
		stage, err := sys.Minidisk(agent.StagingOwner, agent.StagingVaddr)
		Expect(err).NotTo(HaveOccurred())
		block := make([]byte, 4096)
		for i := 0; ; i++ {
			w, err := stage.Create(cms.MustParseFileID(fmt.Sprintf("F%d BIN", i)))
			if err == nil {
				_, err = w.Write(block)
			}
			if err == nil {
				err = w.Close()
			}
			if err != nil {
				Expect(errors.Is(err, cms.ErrDiskFull)).To(BeTrue(), "%v", err)
				break
			}
		}

		id, err := jobs.Submit("QUERY", func() (msg.Result, error) { return msg.Result{}, nil })
		Expect(err).NotTo(HaveOccurred())
		rc, _, err := jobs.Wait(id)
		Expect(err).NotTo(HaveOccurred())
		Expect(rc).To(Equal(0))
		st, _, err := jobs.Status(id)
		Expect(err).NotTo(HaveOccurred())
		Expect(st).To(Equal(proto.JobStatus{Job: id, Ended: true, RC: 0, Lost: true}))
		Expect(siteCSMAGENT(jobs, env, "STATUS "+itoa(id))).To(Equal("200 CSMAGENT JOB " + itoa(id) + " ENDED RC=0 MESSAGES LOST"))
	})

	It("turns a panic into a CSM0000S message", func() {
		id, err := jobs.Submit("QUERY", func() (msg.Result, error) { panic("boom") })
		Expect(err).NotTo(HaveOccurred())
		rc, lines, _ := jobs.Wait(id)
		Expect(rc).To(Equal(12))
		Expect(lines[1].String()).To(Equal("CSM0000S Internal error: CSMAGENT failed: boom"))
	})

	It("shuts down: waits for the running job, or gives up when the context ends", func() {
		_, release := blocker("LOAD L9 TEST")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		Expect(jobs.Shutdown(ctx)).To(MatchError(context.DeadlineExceeded))
		_, err := jobs.Submit("QUERY", func() (msg.Result, error) { return msg.Result{}, nil })
		Expect(err).To(MatchError(agent.ErrShutdown))
		go close(release)
		Expect(jobs.Shutdown(context.Background())).To(Succeed())
		st, _, _ := jobs.Status(1)
		Expect(st.Ended).To(BeTrue())
	})

	Describe("Request, the SITE CSMAGENT dispatcher", func() {
		req := func(line string) string {
			return strings.TrimSpace(siteCSMAGENT(jobs, m.env, line))
		}
		waitEnded := func(n int) string {
			GinkgoHelper()
			_, _, err := jobs.Wait(n)
			Expect(err).NotTo(HaveOccurred())
			return req("STATUS " + itoa(n))
		}

		It("answers each verb as the protocol says", func() {
			Expect(req("INFO")).To(Equal("200 CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL BASE MANAGED NO"))
			Expect(req("SITE CSMAGENT info")).To(Equal("200 CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL BASE MANAGED NO"))
			Expect(req("MANAGE")).To(Equal("200 CSMAGENT MANAGED YES"))
			Expect(req("INFO")).To(HaveSuffix("MANAGED YES"))

			m.stage("L1")
			Expect(req("LOAD L1 TEST")).To(Equal("200 CSMAGENT JOB 1 STARTED"))
			Expect(waitEnded(1)).To(Equal("200 CSMAGENT JOB 1 ENDED RC=0"))
			Expect(req("INFO")).To(Equal("200 CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL L1 MANAGED YES"))
			Expect(req("PUT2PROD L1")).To(Equal("200 CSMAGENT JOB 2 STARTED"))
			Expect(waitEnded(2)).To(Equal("200 CSMAGENT JOB 2 ENDED RC=8"))
			Expect(string(readAll(m.staging(), proto.JobMessages(2)))).To(ContainSubstring("CSM3130E PUT2PROD before a stable load"))
			Expect(req("load l1 stable cond l1")).To(Equal("200 CSMAGENT JOB 3 STARTED"))
			Expect(waitEnded(3)).To(Equal("200 CSMAGENT JOB 3 ENDED RC=0"))
			Expect(req("PUT2PROD L1")).To(Equal("200 CSMAGENT JOB 4 STARTED"))
			Expect(waitEnded(4)).To(Equal("200 CSMAGENT JOB 4 ENDED RC=0"))
			Expect(req("QUERY")).To(Equal("200 CSMAGENT JOB 5 STARTED"))
			Expect(waitEnded(5)).To(Equal("200 CSMAGENT JOB 5 ENDED RC=0"))
			Expect(string(readAll(m.staging(), proto.Inventory()))).To(ContainSubstring(":PART.CMS :LEVEL.L1 :STATE.STABLE :PROD.L1 :MANAGED.YES"))
			Expect(req("STATUS 9")).To(Equal("550 CSMAGENT CSM3163E Job 9 is not known on system VM01"))
		})

		It("answers 450 to a job request while a job runs", func() {
			_, release := blocker("LOAD L9 TEST")
			Expect(req("LOAD L1 TEST")).To(Equal("450 CSMAGENT BUSY JOB 1"))
			Expect(req("PUT2PROD L1")).To(Equal("450 CSMAGENT BUSY JOB 1"))
			Expect(req("QUERY")).To(Equal("450 CSMAGENT BUSY JOB 1"))
			Expect(req("MANAGE")).To(Equal("450 CSMAGENT BUSY JOB 1"))
			Expect(req("STATUS 1")).To(Equal("200 CSMAGENT JOB 1 RUNNING"))
			Expect(req("INFO")).To(HavePrefix("200 CSMAGENT SYSTEM VM01"))
			close(release)
			Expect(waitEnded(1)).To(Equal("200 CSMAGENT JOB 1 ENDED RC=0"))
			Expect(req("QUERY")).To(Equal("200 CSMAGENT JOB 2 STARTED"))
			waitEnded(2)
		})
	})
})

// sharedSystem is one managed system for specs that change nothing.
type sharedSystem struct {
	m    *managed
	jobs *agent.Jobs
}

func (s *sharedSystem) req(line string) string {
	if s.m == nil {
		s.m = newManaged()
		s.jobs = agent.NewJobs(s.m.env)
	}
	return siteCSMAGENT(s.jobs, s.m.env, line)
}

// siteCSMAGENT answers SITE CSMAGENT line as CSMSERVE does: the request
// parsed by proto (a malformed one answered there), the agent's reply
// formatted, "code text".
func siteCSMAGENT(jobs *agent.Jobs, env *agent.Env, line string) string {
	var rep proto.Reply
	req, err := proto.ParseRequest(line)
	if err != nil {
		rep = err.(*proto.Malformed)
	} else {
		rep = agent.Handle(jobs, env, req)
	}
	return itoa(rep.Code()) + " " + rep.String()
}

var shared sharedSystem

var _ = Describe("Request", func() {
	DescribeTable("answers 501 to malformed requests",
		func(line, want string) { Expect(shared.req(line)).To(Equal(want)) },
		Entry("nothing", "", "501 CSMAGENT no request given; INFO, MANAGE, LOAD <level> TEST|STABLE [COND <base>], PUT2PROD <level>, QUERY or STATUS <n> [WAIT]"),
		Entry("unknown verb", "FROB x", "501 CSMAGENT unknown request FROB; INFO, MANAGE, LOAD <level> TEST|STABLE [COND <base>], PUT2PROD <level>, QUERY or STATUS <n> [WAIT]"),
		Entry("INFO with operands", "INFO X", "501 CSMAGENT INFO takes no operands; INFO"),
		Entry("MANAGE with operands", "MANAGE NOW", "501 CSMAGENT MANAGE takes no operands; MANAGE"),
		Entry("LOAD alone", "LOAD", "501 CSMAGENT LOAD needs a level and TEST or STABLE; LOAD <level> TEST|STABLE [COND <base>]"),
		Entry("LOAD without mode", "LOAD L1", "501 CSMAGENT LOAD needs a level and TEST or STABLE; LOAD <level> TEST|STABLE [COND <base>]"),
		Entry("LOAD bad mode", "LOAD L1 MAYBE", "501 CSMAGENT LOAD: MAYBE is neither TEST nor STABLE; LOAD <level> TEST|STABLE [COND <base>]"),
		Entry("LOAD bad level", "LOAD L.1 TEST", `501 CSMAGENT LOAD: level L.1 is not valid: character '.' not allowed (use A-Z 0-9 $ # @ + - : _); LOAD <level> TEST|STABLE [COND <base>]`),
		Entry("LOAD COND without base", "LOAD L1 TEST COND", "501 CSMAGENT LOAD: COND needs the based-on level; LOAD <level> TEST|STABLE [COND <base>]"),
		Entry("LOAD other operand", "LOAD L1 TEST IF L0", "501 CSMAGENT LOAD: unexpected operand IF; LOAD <level> TEST|STABLE [COND <base>]"),
		Entry("LOAD extra operand", "LOAD L1 TEST COND L0 X", "501 CSMAGENT LOAD: unexpected operand X; LOAD <level> TEST|STABLE [COND <base>]"),
		Entry("PUT2PROD without level", "PUT2PROD", "501 CSMAGENT PUT2PROD needs one level, not 0 operands; PUT2PROD <level>"),
		Entry("QUERY with operands", "QUERY ALL", "501 CSMAGENT QUERY takes no operands; QUERY"),
		Entry("STATUS without job", "STATUS", "501 CSMAGENT STATUS needs one job number, not 0 operands; STATUS <n> [WAIT]"),
		Entry("STATUS not a number", "STATUS x1", "501 CSMAGENT STATUS: job number x1 is not a positive number; STATUS <n> [WAIT]"),
		Entry("STATUS zero", "STATUS 0", "501 CSMAGENT STATUS: job number 0 is not a positive number; STATUS <n> [WAIT]"),
	)
})

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
