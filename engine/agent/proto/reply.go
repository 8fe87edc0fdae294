package proto

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/msg"
)

// FTP reply codes of SITE CSMAGENT.
const (
	CodeOK           = 200 // done, job started, or job status
	CodeShuttingDown = 421 // CSMSERVE is shutting down; no new job
	CodeBusy         = 450 // a job runs
	CodeMalformed    = 501 // the request does not parse
	CodeRefused      = 550 // the request could not be done; the text is the message
)

// Reply is CSMAGENT's answer to a request: an FTP reply code and a text
// that starts with "CSMAGENT".
type Reply interface {
	Code() int
	String() string
	reply()
}

// SystemInfo answers INFO: 200 CSMAGENT SYSTEM s RELEASE r SSI x LEVEL l
// MANAGED YES|NO. SSI and Level are "-" for none.
type SystemInfo struct {
	System, Release string
	SSI             string // the SSI cluster, "-" if none
	Level           string // the test-build level of CMS, "-" if none
	Managed         bool   // every component is :CSM_MANAGED YES
}

// Managed answers MANAGE: 200 CSMAGENT MANAGED YES.
type Managed struct{}

// Started answers a job request: 200 CSMAGENT JOB n STARTED.
type Started struct{ Job int }

// JobStatus answers STATUS: 200 CSMAGENT JOB n RUNNING [PHASE p], or
// 200 CSMAGENT JOB n ENDED RC=rc [MESSAGES LOST].
type JobStatus struct {
	Job   int
	Ended bool
	Phase Phase // of a running job; "" if it has not named one
	RC    int   // of an ended job
	// Lost says the ended job's messages file could not be written (a
	// full staging disk): its RC stands, its messages are in the system's
	// log only.
	Lost bool
}

// Busy refuses a job (or MANAGE) while job n runs: 450 CSMAGENT BUSY JOB n.
type Busy struct{ Job int }

// ShuttingDown refuses a job while CSMSERVE stops: 421 CSMAGENT SHUTTING DOWN.
type ShuttingDown struct{}

// Malformed refuses a request that does not parse:
// 501 CSMAGENT <problem>; <form>. It is also ParseRequest's error.
type Malformed struct{ Problem, Form string }

// Refused says a request could not be done: 550 CSMAGENT <message>, the
// agent's message line (e.g. an unknown job, no VM SYSSUF).
type Refused struct{ Line msg.Line }

func (SystemInfo) reply()   {}
func (Managed) reply()      {}
func (Started) reply()      {}
func (JobStatus) reply()    {}
func (Busy) reply()         {}
func (ShuttingDown) reply() {}
func (*Malformed) reply()   {}
func (Refused) reply()      {}

func (SystemInfo) Code() int   { return CodeOK }
func (Managed) Code() int      { return CodeOK }
func (Started) Code() int      { return CodeOK }
func (JobStatus) Code() int    { return CodeOK }
func (Busy) Code() int         { return CodeBusy }
func (ShuttingDown) Code() int { return CodeShuttingDown }
func (*Malformed) Code() int   { return CodeMalformed }
func (Refused) Code() int      { return CodeRefused }

func (r SystemInfo) String() string {
	return fmt.Sprintf("CSMAGENT SYSTEM %s RELEASE %s SSI %s LEVEL %s MANAGED %s",
		r.System, r.Release, orNone(r.SSI), orNone(r.Level), yesNo(r.Managed))
}
func (Managed) String() string   { return "CSMAGENT MANAGED YES" }
func (r Started) String() string { return fmt.Sprintf("CSMAGENT JOB %d STARTED", r.Job) }
func (r JobStatus) String() string {
	switch {
	case r.Ended && r.Lost:
		return fmt.Sprintf("CSMAGENT JOB %d ENDED RC=%d MESSAGES LOST", r.Job, r.RC)
	case r.Ended:
		return fmt.Sprintf("CSMAGENT JOB %d ENDED RC=%d", r.Job, r.RC)
	case r.Phase != "":
		return fmt.Sprintf("CSMAGENT JOB %d RUNNING PHASE %s", r.Job, r.Phase.wire())
	}
	return fmt.Sprintf("CSMAGENT JOB %d RUNNING", r.Job)
}
func (r Busy) String() string       { return fmt.Sprintf("CSMAGENT BUSY JOB %d", r.Job) }
func (ShuttingDown) String() string { return "CSMAGENT SHUTTING DOWN" }
func (r *Malformed) String() string { return "CSMAGENT " + r.Problem + "; " + r.Form }
func (r *Malformed) Error() string  { return r.Problem + "; " + r.Form }
func (r Refused) String() string    { return "CSMAGENT " + msg.OneLine(r.Line.String()) }

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// ReplyError is a reply that is not one of the protocol's: the code and
// text as they came, and what is wrong.
type ReplyError struct {
	Code    int
	Text    string
	Problem string
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("unexpected CSMAGENT reply %d %q: %s", e.Code, e.Text, e.Problem)
}

// ParseReply reads CSMAGENT's reply to a request. A reply the protocol
// does not define is a *ReplyError.
func ParseReply(code int, text string) (Reply, error) {
	bad := func(problem string) (Reply, error) { return nil, &ReplyError{code, text, problem} }
	if msg.OneLine(text) != text {
		return bad("a reply is one line without control characters")
	}
	w := strings.Fields(text)
	if len(w) == 0 || w[0] != "CSMAGENT" {
		return bad("it does not start with CSMAGENT")
	}
	w = w[1:]
	switch code {
	case CodeOK:
		return parseOK(w, bad)
	case CodeShuttingDown:
		if strings.Join(w, " ") != "SHUTTING DOWN" {
			return bad("421 is SHUTTING DOWN")
		}
		return ShuttingDown{}, nil
	case CodeBusy:
		if len(w) != 3 || w[0] != "BUSY" || w[1] != "JOB" {
			return bad("450 is BUSY JOB <n>")
		}
		n, ok := jobNumber(w[2])
		if !ok {
			return bad("BUSY JOB " + w[2] + " is not a job number")
		}
		return Busy{Job: n}, nil
	case CodeMalformed:
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "CSMAGENT"))
		problem, form, ok := strings.Cut(rest, "; ")
		if !ok || problem == "" || form == "" {
			return bad("501 is <problem>; <form>")
		}
		return &Malformed{Problem: problem, Form: form}, nil
	case CodeRefused:
		l, err := msg.ParseLine(strings.Join(w, " "))
		if err != nil {
			return bad(err.Error())
		}
		return Refused{Line: l}, nil
	}
	return bad("reply code " + strconv.Itoa(code) + " is not one of CSMAGENT's")
}

func parseOK(w []string, bad func(string) (Reply, error)) (Reply, error) {
	switch {
	case len(w) == 2 && w[0] == "MANAGED" && w[1] == "YES":
		return Managed{}, nil
	case len(w) == 10 && w[0] == "SYSTEM" && w[2] == "RELEASE" && w[4] == "SSI" && w[6] == "LEVEL" && w[8] == "MANAGED":
		if w[9] != "YES" && w[9] != "NO" {
			return bad("MANAGED is YES or NO")
		}
		return SystemInfo{System: w[1], Release: w[3], SSI: w[5], Level: w[7], Managed: w[9] == "YES"}, nil
	case len(w) >= 3 && w[0] == "JOB":
		n, ok := jobNumber(w[1])
		if !ok {
			return bad("JOB " + w[1] + " is not a job number")
		}
		switch rest := w[2:]; {
		case len(rest) == 1 && rest[0] == "STARTED":
			return Started{Job: n}, nil
		case len(rest) == 1 && rest[0] == "RUNNING":
			return JobStatus{Job: n}, nil
		case len(rest) == 3 && rest[0] == "RUNNING" && rest[1] == "PHASE":
			p, err := ParsePhase(rest[2])
			if err != nil {
				return bad(err.Error())
			}
			return JobStatus{Job: n, Phase: p}, nil
		case (len(rest) == 2 || len(rest) == 4 && rest[2] == "MESSAGES" && rest[3] == "LOST") &&
			rest[0] == "ENDED" && strings.HasPrefix(rest[1], "RC="):
			rc, ok := returnCode(strings.TrimPrefix(rest[1], "RC="))
			if !ok {
				return bad(rest[1] + " is not a return code")
			}
			return JobStatus{Job: n, Ended: true, RC: rc, Lost: len(rest) == 4}, nil
		}
	}
	return bad("200 is SYSTEM ..., MANAGED YES, JOB n STARTED, JOB n RUNNING [PHASE p] or JOB n ENDED RC=rc [MESSAGES LOST]")
}

// returnCode reads a CMS return code: decimal digits.
func returnCode(s string) (int, bool) {
	if s == "" || len(s) > 9 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
