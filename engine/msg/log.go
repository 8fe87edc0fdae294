package msg

import (
	"io"
	"strings"
	"time"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
)

// LogFile is the file every SERVMGR command and every CSMAGENT job appends
// to: in VMPSFS:CSMvrm. and MAINTCSM.<system> on the principal, in
// VMPSFS:MAINTvrm. on a managed system.
const LogFile = "$CSMCMD $MSGLOG"

// LogFileID is LogFile as a CMS file id.
func LogFileID() cms.FileID { return cms.MustParseFileID(LogFile) }

// LogTimeFormat is the time stamp of $CSMCMD $MSGLOG lines, always UTC,
// and of the DATE tags of the inventory tables.
const LogTimeFormat = "2006-01-02 15:04:05"

// Stamp is t as LogTimeFormat gives it, in UTC.
func Stamp(t time.Time) string { return t.UTC().Format(LogTimeFormat) }

// LogLine is one $CSMCMD $MSGLOG line: the time, the userid padded to
// eight characters, and the message on one line.
func LogLine(t time.Time, user string, l Line) string {
	if len(user) < 8 {
		user += strings.Repeat(" ", 8-len(user))
	}
	return Stamp(t) + " " + user + " " + OneLine(l.String())
}

// AppendLog appends lines, each one log line without its newline, to the
// $CSMCMD $MSGLOG of a, under the log's lock: concurrent commands must not
// lose one another's entries.
func AppendLog(locker table.Locker, a cms.FileArea, lines []string) error {
	id := LogFileID()
	unlock, err := locker.Lock(table.Resource(a.String(), id))
	if err != nil {
		return err
	}
	defer unlock()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return cms.AppendFile(a, id, func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	})
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
