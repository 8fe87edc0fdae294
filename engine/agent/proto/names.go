package proto

import (
	"fmt"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
)

// Phase is one phase of a system's work. Transfer is the principal's
// upload; the others are phases of an agent job, which STATUS names while
// the job runs (on the wire in upper case: RUNNING PHASE VALIDATE).
type Phase string

const (
	PhaseTransfer Phase = "transfer" // the package goes over FTP
	PhaseValidate Phase = "validate" // LOAD checks every envelope before it writes
	PhaseLoad     Phase = "load"     // LOAD writes the parts
	PhasePut2Prod Phase = "put2prod" // PUT2PROD copies the test build to production
)

// Phases lists every phase, in the order a SEND then a PUT2PROD go through
// them.
func Phases() []Phase { return []Phase{PhaseTransfer, PhaseValidate, PhaseLoad, PhasePut2Prod} }

func (p Phase) wire() string { return strings.ToUpper(string(p)) }

// ParsePhase reads a phase name in any case.
func ParsePhase(s string) (Phase, error) {
	for _, p := range Phases() {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("phase %s is not one of transfer, validate, load, put2prod", s)
}

// JobMessages is the staging file where job n leaves its messages, one
// message line each: J<n, 7 digits> MSGS.
func JobMessages(n int) cms.FileID {
	return cms.MustParseFileID(fmt.Sprintf("J%07d MSGS", n%10_000_000))
}

// JobOfMessages reads n back from a job's messages file id.
func JobOfMessages(id cms.FileID) (int, bool) {
	fn := id.FN()
	if id.FT() != "MSGS" || len(fn) != 8 || fn[0] != 'J' {
		return 0, false
	}
	n, ok := returnCode(fn[1:])
	return n, ok
}

// Inventory is the staging file where a QUERY job leaves the system's
// inventory: CSMAGENT INVENTRY.
func Inventory() cms.FileID { return cms.MustParseFileID("CSMAGENT INVENTRY") }

// FileName is a staging file's name over FTP: FN.FT.
func FileName(id cms.FileID) string { return id.FN() + "." + id.FT() }
