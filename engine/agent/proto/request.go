// Package proto is the protocol between the principal and a managed
// system's CSMAGENT, carried by CSMSERVE's SITE CSMAGENT command: the typed
// requests and replies, each with its parser and its String, the names of
// the staging files a job leaves (its messages, the inventory) and the
// phases of a system's work. The principal (engine/fleet) formats requests
// and parses replies; CSMSERVE (sim/csmserve) parses requests and formats
// the replies the agent (engine/agent) returns. docs/csmserve-protocol.md
// describes it; the protocol is csmsim's own.
package proto

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
)

// Request is one SITE CSMAGENT request. String is its words after
// "SITE CSMAGENT", as the principal sends them.
type Request interface {
	String() string
	request()
}

// Info asks who the system is: INFO.
type Info struct{}

// Manage tells the system that CSM manages it: MANAGE.
type Manage struct{}

// Load starts a job that validates the package in the staging area and
// loads it: LOAD <level> TEST|STABLE [COND <base>].
type Load struct {
	Level  string
	Stable bool
	Cond   string // the based-on level the system must still be at; "" for none
}

// Put2Prod starts a job that copies the test build into production:
// PUT2PROD <level>.
type Put2Prod struct{ Level string }

// Query starts a job that writes the system's inventory: QUERY.
type Query struct{}

// Status asks how job n stands: STATUS <n> [WAIT]. With Wait the node
// answers once the job has moved on (entered another phase, ended) or its
// own bound passed: a long poll, so that the principal learns of a phase's
// end when it happens instead of one poll interval later.
type Status struct {
	Job  int
	Wait bool
}

func (Info) request()     {}
func (Manage) request()   {}
func (Load) request()     {}
func (Put2Prod) request() {}
func (Query) request()    {}
func (Status) request()   {}

func (Info) String() string   { return "INFO" }
func (Manage) String() string { return "MANAGE" }
func (r Load) String() string {
	s := "LOAD " + r.Level + " " + r.Mode()
	if r.Cond != "" {
		s += " COND " + r.Cond
	}
	return s
}
func (r Put2Prod) String() string { return "PUT2PROD " + r.Level }
func (Query) String() string      { return "QUERY" }
func (r Status) String() string {
	if r.Wait {
		return "STATUS " + strconv.Itoa(r.Job) + " WAIT"
	}
	return "STATUS " + strconv.Itoa(r.Job)
}

// Mode is TEST or STABLE.
func (r Load) Mode() string {
	if r.Stable {
		return "STABLE"
	}
	return "TEST"
}

// The forms of the requests, as a malformed reply gives them.
const (
	FormInfo     = "INFO"
	FormManage   = "MANAGE"
	FormLoad     = "LOAD <level> TEST|STABLE [COND <base>]"
	FormPut2Prod = "PUT2PROD <level>"
	FormQuery    = "QUERY"
	FormStatus   = "STATUS <n> [WAIT]"
	FormAny      = "INFO, MANAGE, " + FormLoad + ", " + FormPut2Prod + ", QUERY or " + FormStatus
)

// ParseRequest reads a request: the words after SITE CSMAGENT (a leading
// SITE and CSMAGENT are skipped if present), blank-separated, in any case.
// Level names are folded to upper case. The error is a *Malformed, which
// is also the reply CSMSERVE gives.
func ParseRequest(s string) (Request, error) {
	w := strings.Fields(s)
	if len(w) > 0 && strings.EqualFold(w[0], "SITE") {
		w = w[1:]
	}
	if len(w) > 0 && strings.EqualFold(w[0], "CSMAGENT") {
		w = w[1:]
	}
	if len(w) == 0 {
		return nil, &Malformed{"no request given", FormAny}
	}
	verb, args := strings.ToUpper(w[0]), w[1:]
	noOperands := func(r Request, form string) (Request, error) {
		if len(args) > 0 {
			return nil, &Malformed{verb + " takes no operands", form}
		}
		return r, nil
	}
	switch verb {
	case "INFO":
		return noOperands(Info{}, FormInfo)
	case "MANAGE":
		return noOperands(Manage{}, FormManage)
	case "QUERY":
		return noOperands(Query{}, FormQuery)
	case "LOAD":
		return parseLoad(args)
	case "PUT2PROD":
		if len(args) != 1 {
			return nil, &Malformed{fmt.Sprintf("PUT2PROD needs one level, not %d operands", len(args)), FormPut2Prod}
		}
		level, problem := levelName(args[0])
		if problem != "" {
			return nil, &Malformed{"PUT2PROD: level " + args[0] + " " + problem, FormPut2Prod}
		}
		return Put2Prod{Level: level}, nil
	case "STATUS":
		if len(args) < 1 || len(args) > 2 {
			return nil, &Malformed{fmt.Sprintf("STATUS needs one job number, not %d operands", len(args)), FormStatus}
		}
		wait := len(args) == 2
		if wait && !strings.EqualFold(args[1], "WAIT") {
			return nil, &Malformed{"STATUS: unexpected operand " + args[1], FormStatus}
		}
		n, ok := jobNumber(args[0])
		if !ok {
			return nil, &Malformed{"STATUS: job number " + args[0] + " is not a positive number", FormStatus}
		}
		return Status{Job: n, Wait: wait}, nil
	}
	return nil, &Malformed{"unknown request " + w[0], FormAny}
}

func parseLoad(args []string) (Request, error) {
	bad := func(problem string) (Request, error) { return nil, &Malformed{problem, FormLoad} }
	if len(args) < 2 {
		return bad("LOAD needs a level and TEST or STABLE")
	}
	var r Load
	var problem string
	if r.Level, problem = levelName(args[0]); problem != "" {
		return bad("LOAD: level " + args[0] + " " + problem)
	}
	switch strings.ToUpper(args[1]) {
	case "TEST":
	case "STABLE":
		r.Stable = true
	default:
		return bad("LOAD: " + args[1] + " is neither TEST nor STABLE")
	}
	switch {
	case len(args) == 2:
		return r, nil
	case !strings.EqualFold(args[2], "COND"):
		return bad("LOAD: unexpected operand " + args[2])
	case len(args) == 3:
		return bad("LOAD: COND needs the based-on level")
	case len(args) > 4:
		return bad("LOAD: unexpected operand " + args[4])
	}
	if r.Cond, problem = levelName(args[3]); problem != "" {
		return bad("LOAD: COND level " + args[3] + " " + problem)
	}
	return r, nil
}

// levelName checks a service level name (an SFS directory name, 1-16 CMS
// name characters) and folds it; problem says what is wrong.
func levelName(s string) (name, problem string) {
	d, err := cms.NewDirID("VMPSFS", "X", s)
	if err != nil {
		var ne *cms.NameError
		if errors.As(err, &ne) {
			return "", "is not valid: " + ne.Reason
		}
		return "", "is not valid"
	}
	return d.Names()[0], ""
}

// jobNumber reads a job number: decimal digits only, at least 1.
func jobNumber(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1
}
