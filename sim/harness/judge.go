package harness

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servmgr"
)

// judge checks a result against the step's expectation. A message the
// step expects may be one of its lines or a cause they quote.
func (r *runner) judge(st Step, line string, res msg.Result, causes ...string) StepReport {
	sr := StepReport{Kind: st.kind(), Line: line, RC: res.RC, Status: "pass"}
	seen := map[string]bool{}
	all := map[string]bool{}
	for _, l := range res.Lines {
		if !seen[l.ID] {
			seen[l.ID] = true
			sr.Messages = append(sr.Messages, l.ID)
		}
		all[l.ID] = true
		sr.Output = append(sr.Output, r.normalize(l.String()))
	}
	for _, id := range causes {
		all[id] = true
	}
	var ex StepExpect
	if st.Expect != nil {
		ex = *st.Expect
	}
	if !ex.RC.allows(res.RC) {
		sr.fail(fmt.Sprintf("RC=%d, expected %s", res.RC, ex.RC.expected()))
	}
	for _, id := range ex.Messages {
		if !all[strings.ToUpper(id)] {
			sr.fail("message " + strings.ToUpper(id) + " expected, not given")
		}
	}
	for _, id := range ex.NotMessages {
		if all[strings.ToUpper(id)] {
			sr.fail("message " + strings.ToUpper(id) + " given, not expected")
		}
	}
	return sr
}

// causes are the ids of the agents' lines behind a command's failures,
// which its own lines quote (CSM3055E quotes the job's CSM3110E).
func causes(out servmgr.Outcome) []string {
	var ids []string
	if out.Fleet != nil {
		for _, s := range out.Fleet.Systems {
			if s.Cause != nil {
				ids = append(ids, s.Cause.ID)
			}
		}
	}
	return ids
}

func (sr *StepReport) fail(reason string) {
	sr.Status = "fail"
	if sr.Reason != "" {
		sr.Reason += "; "
	}
	sr.Reason += reason
}

// Files that change on every command and are not state: the message logs.
func principalIgnore(p string) bool { return strings.Contains(p, "$MSGLOG") }

// On a managed system, CSMSERVE's staging disk receives packages and job
// messages; only the system itself counts.
func nodeIgnore(p string) bool {
	return strings.Contains(p, agent.StagingOwner+"."+agent.StagingVaddr) || strings.Contains(p, "$MSGLOG")
}

// snapshot hashes every file of fsys (and records every directory).
func snapshot(fsys afero.Fs, ignore func(string) bool) (map[string]string, error) {
	out := map[string]string{}
	err := afero.Walk(fsys, "/", func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if ignore(p) {
			return nil
		}
		if info.IsDir() {
			out[p] = "dir"
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%x", h.Sum(nil))
		return nil
	})
	return out, err
}

func diff(a, b map[string]string) string {
	var d []string
	for p, h := range a {
		if h2, ok := b[p]; !ok {
			d = append(d, "removed "+p)
		} else if h2 != h {
			d = append(d, "changed "+p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			d = append(d, "added "+p)
		}
	}
	sort.Strings(d)
	if len(d) > 5 {
		d = append(d[:5], fmt.Sprintf("and %d more", len(d)-5))
	}
	return strings.Join(d, ", ")
}
