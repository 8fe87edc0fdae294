package proto_test

import (
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/agent/proto"
	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
)

var _ = Describe("requests", func() {
	DescribeTable("parse in any case and print canonically",
		func(line string, want proto.Request, canonical string) {
			got, err := proto.ParseRequest(line)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
			Expect(got.String()).To(Equal(canonical))
			again, err := proto.ParseRequest(got.String())
			Expect(err).NotTo(HaveOccurred())
			Expect(again).To(Equal(got))
		},
		Entry("INFO", "info", proto.Info{}, "INFO"),
		Entry("MANAGE after SITE CSMAGENT", "SITE CSMAGENT manage", proto.Manage{}, "MANAGE"),
		Entry("LOAD TEST", "load vm010802_bld2 test", proto.Load{Level: "VM010802_BLD2"}, "LOAD VM010802_BLD2 TEST"),
		Entry("LOAD STABLE COND", "LOAD L2 stable cond l1", proto.Load{Level: "L2", Stable: true, Cond: "L1"}, "LOAD L2 STABLE COND L1"),
		Entry("PUT2PROD", "put2prod l2", proto.Put2Prod{Level: "L2"}, "PUT2PROD L2"),
		Entry("QUERY", "QUERY", proto.Query{}, "QUERY"),
		Entry("STATUS with leading zeros", "status 007", proto.Status{Job: 7}, "STATUS 7"),
		Entry("STATUS WAIT, a long poll", "status 7 wait", proto.Status{Job: 7, Wait: true}, "STATUS 7 WAIT"),
	)

	DescribeTable("refuse what is malformed with the problem and the form (501)",
		func(line, problem, form string) {
			_, err := proto.ParseRequest(line)
			var m *proto.Malformed
			Expect(err).To(BeAssignableToTypeOf(m))
			m = err.(*proto.Malformed)
			Expect(m.Problem).To(Equal(problem))
			Expect(m.Form).To(Equal(form))
			Expect(m.Code()).To(Equal(501))
			Expect(m.String()).To(Equal("CSMAGENT " + problem + "; " + form))
		},
		Entry("nothing", "", "no request given", proto.FormAny),
		Entry("unknown", "frob", "unknown request frob", proto.FormAny),
		Entry("INFO with operands", "INFO X", "INFO takes no operands", proto.FormInfo),
		Entry("LOAD without mode", "LOAD L2", "LOAD needs a level and TEST or STABLE", proto.FormLoad),
		Entry("LOAD bad mode", "LOAD L2 PROD", "LOAD: PROD is neither TEST nor STABLE", proto.FormLoad),
		Entry("LOAD bad level", "LOAD L.2 TEST", "LOAD: level L.2 is not valid: character '.' not allowed (use A-Z 0-9 $ # @ + - : _)", proto.FormLoad),
		Entry("LOAD COND without level", "LOAD L2 TEST COND", "LOAD: COND needs the based-on level", proto.FormLoad),
		Entry("LOAD extra", "LOAD L2 TEST COND L1 X", "LOAD: unexpected operand X", proto.FormLoad),
		Entry("PUT2PROD two levels", "PUT2PROD L1 L2", "PUT2PROD needs one level, not 2 operands", proto.FormPut2Prod),
		Entry("STATUS zero", "STATUS 0", "STATUS: job number 0 is not a positive number", proto.FormStatus),
		Entry("STATUS signed", "STATUS +3", "STATUS: job number +3 is not a positive number", proto.FormStatus),
		Entry("STATUS with another operand than WAIT", "STATUS 3 NOW", "STATUS: unexpected operand NOW", proto.FormStatus),
		Entry("STATUS with three operands", "STATUS 3 WAIT X", "STATUS needs one job number, not 3 operands", proto.FormStatus),
	)
})

var _ = Describe("replies", func() {
	refusal := msg.Messagef(msg.CSM3163E, 9, "VM01")
	DescribeTable("print as CSMSERVE sends them and parse back",
		func(rep proto.Reply, code int, text string) {
			Expect(rep.Code()).To(Equal(code))
			Expect(rep.String()).To(Equal(text))
			got, err := proto.ParseReply(code, text)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(rep))
		},
		Entry("INFO", proto.SystemInfo{System: "VM01", Release: "720", SSI: "-", Level: "L1", Managed: true}, 200,
			"CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL L1 MANAGED YES"),
		Entry("MANAGE", proto.Managed{}, 200, "CSMAGENT MANAGED YES"),
		Entry("started", proto.Started{Job: 3}, 200, "CSMAGENT JOB 3 STARTED"),
		Entry("running", proto.JobStatus{Job: 3}, 200, "CSMAGENT JOB 3 RUNNING"),
		Entry("running a phase", proto.JobStatus{Job: 3, Phase: proto.PhaseValidate}, 200, "CSMAGENT JOB 3 RUNNING PHASE VALIDATE"),
		Entry("ended", proto.JobStatus{Job: 3, Ended: true, RC: 8}, 200, "CSMAGENT JOB 3 ENDED RC=8"),
		Entry("ended, messages lost", proto.JobStatus{Job: 3, Ended: true, RC: 0, Lost: true}, 200, "CSMAGENT JOB 3 ENDED RC=0 MESSAGES LOST"),
		Entry("busy", proto.Busy{Job: 2}, 450, "CSMAGENT BUSY JOB 2"),
		Entry("shutting down", proto.ShuttingDown{}, 421, "CSMAGENT SHUTTING DOWN"),
		Entry("malformed", &proto.Malformed{Problem: "QUERY takes no operands", Form: "QUERY"}, 501,
			"CSMAGENT QUERY takes no operands; QUERY"),
		Entry("refused", proto.Refused{Line: refusal}, 550, "CSMAGENT CSM3163E Job 9 is not known on system VM01"),
	)

	It("prints empty SSI and level as -", func() {
		Expect(proto.SystemInfo{System: "VM01", Release: "720"}.String()).To(Equal("CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL - MANAGED NO"))
	})

	DescribeTable("refuse what the protocol does not define, naming code and text",
		func(code int, text, problem string) {
			_, err := proto.ParseReply(code, text)
			var re *proto.ReplyError
			Expect(err).To(BeAssignableToTypeOf(re))
			Expect(err.Error()).To(ContainSubstring(problem))
			Expect(err.Error()).To(ContainSubstring(strconv.Quote(text)))
		},
		Entry("no CSMAGENT", 200, "JOB 1 STARTED", "does not start with CSMAGENT"),
		Entry("unknown 200", 200, "CSMAGENT JOB 1 FINISHED", "200 is"),
		Entry("bad job", 200, "CSMAGENT JOB x STARTED", "JOB x is not a job number"),
		Entry("bad RC", 200, "CSMAGENT JOB 1 ENDED RC=-1", "RC=-1 is not a return code"),
		Entry("unknown phase", 200, "CSMAGENT JOB 1 RUNNING PHASE FROB", "phase FROB"),
		Entry("MANAGED maybe", 200, "CSMAGENT SYSTEM A RELEASE 720 SSI - LEVEL - MANAGED MAYBE", "MANAGED is YES or NO"),
		Entry("busy without job", 450, "CSMAGENT BUSY", "450 is BUSY JOB <n>"),
		Entry("550 without a message", 550, "CSMAGENT no such job", "does not start with a message id"),
		Entry("unknown code", 530, "CSMAGENT not logged in", "reply code 530"),
		Entry("two lines", 200, "CSMAGENT JOB 1 STARTED\nCSMAGENT JOB 2 STARTED", "one line"),
	)
})

var _ = Describe("names", func() {
	It("names job messages files J<n, 7 digits> MSGS and reads the number back", func() {
		id := proto.JobMessages(42)
		Expect(id.Name()).To(Equal("J0000042 MSGS"))
		Expect(proto.FileName(id)).To(Equal("J0000042.MSGS"))
		n, ok := proto.JobOfMessages(id)
		Expect(ok).To(BeTrue())
		Expect(n).To(Equal(42))
		_, ok = proto.JobOfMessages(cms.MustParseFileID("J00000X2 MSGS"))
		Expect(ok).To(BeFalse())
		_, ok = proto.JobOfMessages(cms.MustParseFileID("CMS SERVLINK"))
		Expect(ok).To(BeFalse())
	})

	It("reads phases in any case", func() {
		for _, p := range proto.Phases() {
			got, err := proto.ParsePhase(string(p))
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(p))
		}
		got, err := proto.ParsePhase("LOAD")
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(proto.PhaseLoad))
		_, err = proto.ParsePhase("unload")
		Expect(err).To(HaveOccurred())
	})
})
