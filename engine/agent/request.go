package agent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
)

// FTP reply codes of SITE CSMAGENT (docs/csmserve-protocol.md).
const (
	ReplyOK        = 200 // done, or job started, or job status
	ReplyShutdown  = 421 // CSMSERVE is shutting down; no new job
	ReplyBusy      = 450 // a job runs
	ReplyMalformed = 501 // the request does not parse
	ReplyRefused   = 550 // INFO, MANAGE or STATUS could not be done (the text says why)
)

// The forms of the requests, for 501 replies.
const (
	formInfo     = "INFO"
	formManage   = "MANAGE"
	formLoad     = "LOAD <level> TEST|STABLE [COND <base>]"
	formPut2Prod = "PUT2PROD <level>"
	formQuery    = "QUERY"
	formStatus   = "STATUS <n>"
	formAny      = "INFO, MANAGE, " + formLoad + ", " + formPut2Prod + ", QUERY or " + formStatus
)

// Request is the SITE CSMAGENT dispatcher: words are the request after
// "SITE CSMAGENT" (a leading "SITE" and "CSMAGENT" are skipped if present),
// e.g. ["LOAD", "L2", "TEST", "COND", "L1"]. It returns the FTP reply code
// and text, so that CSMSERVE only forwards them:
//
//	INFO                          200 CSMAGENT SYSTEM s RELEASE r SSI x LEVEL l MANAGED YES|NO
//	MANAGE                        200 CSMAGENT MANAGED YES
//	LOAD l TEST|STABLE [COND b]   200 CSMAGENT JOB n STARTED
//	PUT2PROD l                    200 CSMAGENT JOB n STARTED
//	QUERY                         200 CSMAGENT JOB n STARTED
//	STATUS n                      200 CSMAGENT JOB n RUNNING [PHASE p] | 200 CSMAGENT JOB n ENDED RC=rc
//	a job (or MANAGE) while a job runs   450 CSMAGENT BUSY JOB m
//	a malformed request           501 CSMAGENT <what is wrong>; <expected form>
//
// Beyond the protocol document: INFO, MANAGE and STATUS that cannot be
// done answer 550 CSMAGENT <message> (e.g. an unknown job, no VM SYSSUF),
// and a job request during shutdown 421 CSMAGENT SHUTTING DOWN.
func Request(jobs *Jobs, env *Env, words []string) (code int, text string) {
	w := words
	if len(w) > 0 && strings.EqualFold(w[0], "SITE") {
		w = w[1:]
	}
	if len(w) > 0 && strings.EqualFold(w[0], "CSMAGENT") {
		w = w[1:]
	}
	if len(w) == 0 {
		return malformed("no request given", formAny)
	}
	verb, args := strings.ToUpper(w[0]), w[1:]
	switch verb {
	case "INFO":
		if len(args) > 0 {
			return malformed("INFO takes no operands", formInfo)
		}
		info, err := Info(env)
		if err != nil {
			return refused(err)
		}
		return ReplyOK, "CSMAGENT " + info.String()
	case "MANAGE":
		if len(args) > 0 {
			return malformed("MANAGE takes no operands", formManage)
		}
		if m := jobs.Running(); m != 0 {
			return busy(m)
		}
		res, err := Manage(env)
		res = result(res, err)
		_ = env.appendLog(env.Clock.Now(), env.Clock.Now(), res.Lines)
		if err != nil {
			return refused(err)
		}
		return ReplyOK, "CSMAGENT MANAGED YES"
	case "LOAD":
		level, stable, cond, problem := parseLoad(args)
		if problem != "" {
			return malformed(problem, formLoad)
		}
		name := "LOAD " + level + " " + map[bool]string{true: StateStable, false: StateTest}[stable]
		if cond != "" {
			name += " COND " + cond
		}
		marked := *env
		marked.Progress = jobs.Mark
		return submit(jobs, name, func() (msg.Result, error) { return Load(&marked, level, stable, cond) })
	case "PUT2PROD":
		if len(args) != 1 {
			return malformed(fmt.Sprintf("PUT2PROD needs one level, not %d operands", len(args)), formPut2Prod)
		}
		level := strings.ToUpper(args[0])
		if p := checkLevelName(level); p != "" {
			return malformed("PUT2PROD: level "+args[0]+" "+p, formPut2Prod)
		}
		return submit(jobs, "PUT2PROD "+level, func() (msg.Result, error) { return Put2Prod(env, level) })
	case "QUERY":
		if len(args) > 0 {
			return malformed("QUERY takes no operands", formQuery)
		}
		return submit(jobs, "QUERY", func() (msg.Result, error) {
			_, res, err := Query(env)
			return res, err
		})
	case "STATUS":
		if len(args) != 1 {
			return malformed(fmt.Sprintf("STATUS needs one job number, not %d operands", len(args)), formStatus)
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || strings.TrimLeft(args[0], "0123456789") != "" {
			return malformed("STATUS: job number "+args[0]+" is not a positive number", formStatus)
		}
		state, rc, _, err := jobs.Status(n)
		if err != nil {
			return refused(err)
		}
		if state == JobRunning {
			if phase := jobs.Phase(n); phase != "" {
				return ReplyOK, fmt.Sprintf("CSMAGENT JOB %d RUNNING PHASE %s", n, phase)
			}
			return ReplyOK, fmt.Sprintf("CSMAGENT JOB %d RUNNING", n)
		}
		return ReplyOK, fmt.Sprintf("CSMAGENT JOB %d ENDED RC=%d", n, rc)
	}
	return malformed("unknown request "+w[0], formAny)
}

// parseLoad reads LOAD's operands; problem says what is wrong.
func parseLoad(args []string) (level string, stable bool, cond, problem string) {
	if len(args) < 2 {
		return "", false, "", "LOAD needs a level and TEST or STABLE"
	}
	level = strings.ToUpper(args[0])
	if p := checkLevelName(level); p != "" {
		return "", false, "", "LOAD: level " + args[0] + " " + p
	}
	switch strings.ToUpper(args[1]) {
	case StateTest:
	case StateStable:
		stable = true
	default:
		return "", false, "", "LOAD: " + args[1] + " is neither TEST nor STABLE"
	}
	switch {
	case len(args) == 2:
		return level, stable, "", ""
	case !strings.EqualFold(args[2], "COND"):
		return "", false, "", "LOAD: unexpected operand " + args[2]
	case len(args) == 3:
		return "", false, "", "LOAD: COND needs the based-on level"
	case len(args) > 4:
		return "", false, "", "LOAD: unexpected operand " + args[4]
	}
	cond = strings.ToUpper(args[3])
	if p := checkLevelName(cond); p != "" {
		return "", false, "", "LOAD: COND level " + args[3] + " " + p
	}
	return level, stable, cond, ""
}

// checkLevelName checks a service level name (an SFS directory name, 1-16
// CMS name characters); it returns "" or what is wrong.
func checkLevelName(s string) string {
	if _, err := cms.NewDirID(Pool, "X", s); err != nil {
		var ne *cms.NameError
		if errors.As(err, &ne) {
			return "is not valid: " + ne.Reason
		}
		return "is not valid"
	}
	return ""
}

func submit(jobs *Jobs, name string, fn func() (msg.Result, error)) (int, string) {
	id, err := jobs.Submit(name, fn)
	var b *BusyError
	switch {
	case errors.As(err, &b):
		return busy(b.Running)
	case errors.Is(err, ErrShutdown):
		return ReplyShutdown, "CSMAGENT SHUTTING DOWN"
	case err != nil:
		return refused(err)
	}
	return ReplyOK, fmt.Sprintf("CSMAGENT JOB %d STARTED", id)
}

func busy(m int) (int, string) { return ReplyBusy, fmt.Sprintf("CSMAGENT BUSY JOB %d", m) }

func malformed(what, form string) (int, string) {
	return ReplyMalformed, "CSMAGENT " + what + "; " + form
}

func refused(err error) (int, string) {
	return ReplyRefused, "CSMAGENT " + msg.OneLine(Lines(err)[0].String())
}
