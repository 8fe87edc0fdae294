// Package csmfleet is a team's own automation around CSM, tested against
// a simulated fleet: a module of its own that imports
// github.com/csmsim/csmsim/csmsimtest as any other module would.
package csmfleet

import (
	"context"
	"testing"

	"github.com/csmsim/csmsim/csmsimtest"
)

// sendLevel is the team's roll-out step under test: it builds a level on
// the principal from the last one and an RSU, and sends it for test to
// every system, failing on any return code but 0.
func sendLevel(ctx context.Context, f *csmsimtest.Fleet, level, from, rsu string) (csmsimtest.Result, error) {
	var res csmsimtest.Result
	for _, line := range []string{
		"srvlvl add 720 " + level + " basedon " + from,
		"srvlvl service 720 " + level + " all " + rsu,
		"srvlvl package 720 " + level,
		"srvlvl send 720 " + level + " all (test",
	} {
		var err error
		if res, err = f.Servmgr(ctx, line); err != nil {
			return res, err
		}
		if res.RC != 0 {
			return res, &rcError{line, res}
		}
	}
	return res, nil
}

type rcError struct {
	line string
	res  csmsimtest.Result
}

func (e *rcError) Error() string { return e.line + ":\n" + e.res.String() }

func TestSendLevelToThreeSystems(t *testing.T) {
	f := csmsimtest.NewFleet(t, csmsimtest.Systems(3), csmsimtest.Installed("VM010102_BLD1", "RSU0801"))

	res, err := sendLevel(t.Context(), f, "VM010802_BLD2", "VM010102_BLD1", "RSU0802")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Systems) != 3 {
		t.Fatalf("SEND reached %d systems, want 3:\n%s", len(res.Systems), res)
	}
	for _, name := range f.SystemNames() {
		sr, ok := res.System(name)
		if !ok || !sr.OK || sr.Level != "VM010802_BLD2" || sr.State != "TEST" {
			t.Errorf("%s: SEND's outcome ok=%v, SYSSTAT records %q %q; want VM010802_BLD2 TEST", name, sr.OK, sr.Level, sr.State)
		}
		st, err := f.System(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Level != "VM010802_BLD2" || st.State != "TEST" || st.Prod != "VM010102_BLD1" || !st.Managed {
			t.Errorf("%s says: level %s %s, production %s, managed %v; want VM010802_BLD2 TEST, production VM010102_BLD1, managed",
				name, st.Level, st.State, st.Prod, st.Managed)
		}
	}
}
