package msg

import (
	"strings"
	"time"
)

// LogTimeFormat is the time stamp of $CSMCMD $MSGLOG lines, always UTC.
// The principal's log and each managed system's log share the format.
const LogTimeFormat = "2006-01-02 15:04:05"

// LogLine is one $CSMCMD $MSGLOG line: the time, the userid padded to
// eight characters, and the message on one line.
func LogLine(t time.Time, user string, l Line) string {
	if len(user) < 8 {
		user += strings.Repeat(" ", 8-len(user))
	}
	return t.UTC().Format(LogTimeFormat) + " " + user + " " + OneLine(l.String())
}

// OneLine turns control characters into blanks, so a text stays one line
// of a log or of a reply.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
