package fleet_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/fleet"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/engine/servmgr"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/sim/world"
)

// scripted is a transport whose node answers SITE CSMAGENT from a script:
// request words -> reply code and text. Its staging area holds files.
type scripted struct {
	replies map[string]scriptedReply
	files   map[string]string
	asked   []string // the requests, in order
}

type scriptedReply struct {
	code int
	text string
}

func (s *scripted) Dial(context.Context, transport.Target) (transport.Conn, error) { return s, nil }

func (s *scripted) Put(context.Context, string, io.ReadSeeker, int64) error { return nil }

func (s *scripted) Get(_ context.Context, name string, w io.Writer) error {
	body, ok := s.files[name]
	if !ok {
		return errors.New("550 " + name + ": no such file")
	}
	_, err := io.WriteString(w, body)
	return err
}

func (s *scripted) List(context.Context) ([]string, error) { return nil, nil }

func (s *scripted) Site(_ context.Context, args string) (int, string, error) {
	req := strings.TrimPrefix(args, "CSMAGENT ")
	s.asked = append(s.asked, req)
	r, ok := s.replies[req]
	if !ok {
		return 502, "no script for " + args, nil
	}
	return r.code, r.text, nil
}

func (s *scripted) Close() error { return nil }

var _ = Describe("the wire to CSMAGENT", func() {
	var (
		ctx = context.Background()
		fe  *fleet.Env
	)
	BeforeEach(func() {
		ps, err := world.SamplePrincipal(afero.NewMemMapFs())
		Expect(err).NotTo(HaveOccurred())
		clock := cms.NewStepClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), time.Second)
		fe = &fleet.Env{Env: &level.Env{Sys: ps, Locker: table.NewMemLocker(), Clock: clock, User: "MAINTCSM"}}
		for _, l := range []string{"initialize 720", "srvlvl add 720 L1 basedon BASE"} {
			Expect(servmgr.Run(ctx, fe.Env, nil, []string{l}).RC).To(Equal(0), l)
		}
		// SYSTEM ADD asks a scripted node, which answers as VM01 at L1.
		added := &scripted{replies: map[string]scriptedReply{
			"INFO":   {200, "CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL L1 MANAGED NO"},
			"MANAGE": {200, "CSMAGENT MANAGED YES"},
		}}
		l := "system add 720 vm01 L1 hostname h (port 1 norequire"
		Expect(servmgr.Run(ctx, fe.Env, &fleet.Wire{Transport: added}, []string{l}).RC).To(Equal(0), l)
	})
	check := func(s *scripted) fleet.SystemOutcome {
		GinkgoHelper()
		out, err := fleet.Servcheck(ctx, fe, &fleet.Wire{Transport: s}, fleet.ServcheckRequest{VRM: "720", Target: "VM01"})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Systems).To(HaveLen(1))
		return out.Systems[0]
	}

	It("refuses a reply the protocol does not define, with its code and text", func() {
		o := check(&scripted{replies: map[string]scriptedReply{"QUERY": {200, "CSMAGENT JOB 1 QUEUED"}}})
		Expect(o.OK).To(BeFalse())
		Expect(o.Lines).To(HaveLen(1))
		Expect(o.Lines[0].ID).To(Equal("CSM3052E"))
		Expect(o.Lines[0].Text).To(ContainSubstring(`unexpected CSMAGENT reply 200 "CSMAGENT JOB 1 QUEUED"`))
	})

	It("takes a refusal's message line as the system's cause", func() {
		o := check(&scripted{replies: map[string]scriptedReply{
			"QUERY":         {200, "CSMAGENT JOB 4 STARTED"},
			"STATUS 4 WAIT": {550, "CSMAGENT CSM3163E Job 4 is not known on system VM01"},
		}})
		Expect(o.OK).To(BeFalse())
		Expect(o.Cause).NotTo(BeNil())
		Expect(o.Cause.String()).To(Equal("CSM3163E Job 4 is not known on system VM01"))
		Expect(o.Lines[0].String()).To(Equal("CSM3052E VM01: SITE CSMAGENT STATUS 4 WAIT: 550 CSMAGENT CSM3163E Job 4 is not known on system VM01"))
	})

	It("polls with plain STATUS, pausing between, a node that does not know STATUS WAIT (501)", func() {
		s := &scripted{replies: map[string]scriptedReply{
			"QUERY":         {200, "CSMAGENT JOB 3 STARTED"},
			"STATUS 3 WAIT": {501, "CSMAGENT STATUS needs one job number, not 2 operands; STATUS <n>"},
			"STATUS 3":      {200, "CSMAGENT JOB 3 RUNNING"},
		}, files: map[string]string{"J0000003.MSGS": "CSM3160I CSMAGENT QUERY started as job 3\nCSM3161I CSMAGENT QUERY ended RC=0 (job 3)\n"}}
		pauses := 0
		w := &fleet.Wire{Transport: s, Pause: func(context.Context) error {
			// The job ends after the third poll.
			if pauses++; pauses == 3 {
				s.replies["STATUS 3"] = scriptedReply{200, "CSMAGENT JOB 3 ENDED RC=0"}
			}
			return nil
		}}
		out, err := fleet.Servcheck(ctx, fe, w, fleet.ServcheckRequest{VRM: "720", Target: "VM01"})
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Systems[0].Job).NotTo(BeNil())
		Expect(out.Systems[0].Job.RC).To(Equal(0))
		Expect(pauses).To(Equal(3))
		Expect(s.asked).To(Equal([]string{"QUERY", "STATUS 3 WAIT", "STATUS 3", "STATUS 3", "STATUS 3", "STATUS 3"}))
	})

	It("says which job a busy agent runs", func() {
		o := check(&scripted{replies: map[string]scriptedReply{"QUERY": {450, "CSMAGENT BUSY JOB 17"}}})
		Expect(o.Lines[0].String()).To(Equal("CSM3062E VM01: CSMSERVE is busy with job 17; try again when it ends"))
	})

	It("reads the job's messages file as message lines and refuses one that is not", func() {
		o := check(&scripted{
			replies: map[string]scriptedReply{"QUERY": {200, "CSMAGENT JOB 2 STARTED"}, "STATUS 2 WAIT": {200, "CSMAGENT JOB 2 ENDED RC=12"}},
			files:   map[string]string{"J0000002.MSGS": "CSM3160I CSMAGENT QUERY started as job 2\nCSM0000S Internal error: boom\nCSM3161I CSMAGENT QUERY ended RC=12 (job 2)\n"},
		})
		Expect(o.Job).NotTo(BeNil())
		Expect(o.Job.ID).To(Equal(2))
		Expect(o.Job.Lines).To(HaveLen(3))
		Expect(o.Cause.ID).To(Equal("CSM0000S"))
		Expect(o.Lines[0].String()).To(Equal("CSM3055E VM01: CSMAGENT QUERY ended RC=12: CSM0000S Internal error: boom"))

		// Messages that cannot be read leave the outcome to the job's RC,
		// with a warning: the principal records what the node did.
		emptyInventory := ":TABLE.INVENTRY :GEN.1 :ENTRIES.0\n"
		o = check(&scripted{
			replies: map[string]scriptedReply{"QUERY": {200, "CSMAGENT JOB 2 STARTED"}, "STATUS 2 WAIT": {200, "CSMAGENT JOB 2 ENDED RC=0"}},
			files:   map[string]string{"J0000002.MSGS": "all went well\n", "CSMAGENT.INVENTRY": emptyInventory},
		})
		Expect(o.OK).To(BeTrue())
		Expect(o.Lines[0].ID).To(Equal("CSM3066W"))
		Expect(o.Lines[0].Text).To(ContainSubstring("J0000002.MSGS: line 1: message line \"all went well\" does not start with a message id"))
		Expect(o.Lines[1].ID).To(Equal("CSM3059W")) // the empty inventory drifts from the level

		o = check(&scripted{
			replies: map[string]scriptedReply{"QUERY": {200, "CSMAGENT JOB 3 STARTED"}, "STATUS 3 WAIT": {200, "CSMAGENT JOB 3 ENDED RC=0 MESSAGES LOST"}},
			files:   map[string]string{"CSMAGENT.INVENTRY": emptyInventory},
		})
		Expect(o.OK).To(BeTrue())
		Expect(o.Job.RC).To(Equal(0))
		Expect(o.Lines[0].String()).To(Equal("CSM3066W VM01: CSMAGENT job 3 ended RC=0, but its messages cannot be read " +
			"(the system could not write them to its staging disk); the outcome follows the return code, the messages are in the system's $CSMCMD $MSGLOG"))
	})
})
