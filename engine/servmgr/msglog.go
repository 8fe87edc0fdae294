package servmgr

import (
	"io"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/msg"
)

// Started is the first line a command logs: CSM0001I SERVMGR <cmd> started.
func Started(cmd Command) msg.Line { return msg.Messagef(msg.CSM0001I, commandLine(cmd)) }

// Ended is the last line a command logs: CSM0002I SERVMGR <cmd> ended RC=n.
func Ended(cmd Command, rc int) msg.Line {
	return msg.Messagef(msg.CSM0002I, commandLine(cmd), rc)
}

// Unparsed stands for a command line that did not parse, so that its
// refusal can be logged. String gives the words as typed (without a
// leading SERVMGR), with the value after any PASSWORD-like word masked.
type Unparsed struct{ Line string }

func (Unparsed) Name() string    { return "" }
func (Unparsed) Release() string { return "" }
func (u Unparsed) String() string {
	w := strings.Fields(u.Line)
	if len(w) > 0 && asciiUpper(w[0]) == "SERVMGR" {
		w = w[1:]
	}
	return Redact(strings.Join(w, " "))
}

// secretWords are option names whose value is never written anywhere.
var secretWords = map[string]bool{"PASSWORD": true, "PASSWD": true, "PWD": true, "PASS": true, "PW": true}

// Redact masks the word that follows a PASSWORD-like word (PASSWORD,
// PASSWD, PWD, PASS, PW, in any case) and the value of KEY=value forms of
// them. The SERVMGR grammar has no such option; this guards the log against
// lines that did not parse.
func Redact(s string) string {
	w := strings.Fields(s)
	mask := false
	for i, word := range w {
		if mask {
			w[i] = "********"
			mask = false
			continue
		}
		key, _, hasEq := strings.Cut(word, "=")
		k := strings.Trim(asciiUpper(key), "()")
		if secretWords[k] {
			if hasEq {
				w[i] = key + "=********"
			} else {
				mask = true
			}
		}
	}
	return strings.Join(w, " ")
}

func commandLine(cmd Command) string {
	if cmd == nil {
		return "(no command)"
	}
	return Redact(cmd.String())
}

// LogEntry is one command's record in $CSMCMD $MSGLOG.
type LogEntry struct {
	Start, End time.Time // the start line carries Start; the messages and the end line End
	User       string    // e.g. MAINTCSM
	Cmd        Command   // Unparsed for a line that did not parse
	Result     msg.Result
	// Agent are the messages of a managed system's CSMAGENT job, for the
	// record in that system's log (MAINTCSM.<system>): they follow the
	// start line, as AgentUser (the system's MAINTvrm) issued them.
	Agent     []msg.Line
	AgentUser string
}

// Lines renders the entry, one string per log line, without newlines:
//
//	2026-11-23 14:00:05 MAINTCSM CSM0001I SERVMGR SRVLVL ADD 720 VM010802_BLD2 BASEDON VM010102_BLD1 started
//	2026-11-23 14:00:07 MAINTCSM CSM2700I Service level VM010802_BLD2 added to release 720, based on VM010102_BLD1, state TEST
//	2026-11-23 14:00:07 MAINTCSM CSM0002I SERVMGR SRVLVL ADD 720 VM010802_BLD2 BASEDON VM010102_BLD1 ended RC=0
//
// The end line is written once, whether or not Result ends with it (a
// Result from Run does). Control characters in message texts become
// blanks, so a record is always one line per message.
func (e LogEntry) Lines() []string {
	user := strings.ToUpper(strings.TrimSpace(e.User))
	if user == "" {
		user = "?"
	}
	line := func(t time.Time, l msg.Line) string { return msg.LogLine(t, user, l) }
	lines := e.Result.Lines
	if n := len(lines); n > 0 && lines[n-1].ID == Ended(e.Cmd, 0).ID {
		lines = lines[:n-1]
	}
	out := make([]string, 0, len(e.Agent)+len(lines)+2)
	out = append(out, line(e.Start, Started(e.Cmd)))
	for _, l := range e.Agent {
		out = append(out, msg.LogLine(e.End, e.AgentUser, l))
	}
	for _, l := range lines {
		out = append(out, line(e.End, l))
	}
	out = append(out, line(e.End, Ended(e.Cmd, e.Result.RC)))
	return out
}

// FormatLog renders cmd's record with the time read once from clock, for
// callers that log right after the command. Callers that read the clock at
// the start of the command use LogEntry.
func FormatLog(clock cms.Clock, user string, cmd Command, res msg.Result) []string {
	now := clock.Now()
	return LogEntry{Start: now, End: now, User: user, Cmd: cmd, Result: res}.Lines()
}

// AppendLog writes cmd's record (FormatLog) to w, each line ended by "\n".
// The caller owns the file: appending through the CMS file area means
// reading the old content and writing it back with these lines after it.
func AppendLog(w io.Writer, clock cms.Clock, user string, cmd Command, res msg.Result) error {
	return WriteLog(w, LogEntry{Start: clock.Now(), User: user, Cmd: cmd, Result: res})
}

// WriteLog writes an entry's lines to w, each ended by "\n". A zero End
// takes Start.
func WriteLog(w io.Writer, e LogEntry) error {
	if e.End.IsZero() {
		e.End = e.Start
	}
	var b strings.Builder
	for _, l := range e.Lines() {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
