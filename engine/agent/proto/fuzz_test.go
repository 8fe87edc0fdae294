package proto_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/csmsim/csmsim/engine/agent/proto"
)

// FuzzRequest checks that ParseRequest never panics, that a refusal is a
// *Malformed with a problem and a form, and that an accepted request
// prints canonically and parses back to itself.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{"INFO", "manage", "LOAD L2 TEST COND L1", "load l2 stable", "PUT2PROD L2", "QUERY",
		"STATUS 12", "SITE CSMAGENT STATUS 0012", "LOAD", "STATUS -1", "frob", "", "LOAD L\u00e92 TEST", "STATUS 99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := proto.ParseRequest(s)
		if err != nil {
			var m *proto.Malformed
			if !errors.As(err, &m) || m.Problem == "" || m.Form == "" || r != nil {
				t.Fatalf("ParseRequest(%q) = %v, %v: want a complete *Malformed", s, r, err)
			}
			return
		}
		again, err := proto.ParseRequest(r.String())
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("ParseRequest(%q) = %#v, whose String %q parses to %#v, %v", s, r, r.String(), again, err)
		}
	})
}

// FuzzReply checks that ParseReply never panics, that a refusal is a
// *ReplyError, and that an accepted reply keeps its code and parses back
// from its own String to itself.
func FuzzReply(f *testing.F) {
	for _, c := range []struct {
		code int
		text string
	}{
		{200, "CSMAGENT SYSTEM VM01 RELEASE 720 SSI - LEVEL L1 MANAGED YES"}, {200, "CSMAGENT MANAGED YES"},
		{200, "CSMAGENT JOB 1 STARTED"}, {200, "CSMAGENT JOB 1 RUNNING PHASE LOAD"}, {200, "CSMAGENT JOB 1 ENDED RC=12"},
		{450, "CSMAGENT BUSY JOB 3"}, {421, "CSMAGENT SHUTTING DOWN"}, {501, "CSMAGENT what;  form; more"},
		{550, "CSMAGENT CSM3163E Job 1 is not known on system VM01"}, {550, "CSMAGENT CSM3163E a\x01b"}, {200, "x"},
	} {
		f.Add(c.code, c.text)
	}
	f.Fuzz(func(t *testing.T, code int, text string) {
		r, err := proto.ParseReply(code, text)
		if err != nil {
			var re *proto.ReplyError
			if !errors.As(err, &re) || r != nil {
				t.Fatalf("ParseReply(%d, %q) = %v, %v: want a *ReplyError", code, text, r, err)
			}
			return
		}
		if r.Code() != code {
			t.Fatalf("ParseReply(%d, %q) = %#v with code %d", code, text, r, r.Code())
		}
		again, err := proto.ParseReply(r.Code(), r.String())
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("ParseReply(%d, %q) = %#v, whose String %q parses to %#v, %v", code, text, r, r.String(), again, err)
		}
	})
}
