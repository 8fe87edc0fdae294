package servlink

import (
	"errors"
	"fmt"
)

// ReasonCode says why a SERVLINK stream or manifest was refused. The codes are
// stable: they appear in messages, logs and scenario expectations. It prints
// as four hex digits ("0808"). A ReasonCode is itself an error, so each code
// is the sentinel for errors.Is:
//
//	errors.Is(err, servlink.ReasonSHA256)
//
// The table (also in FORMAT.md):
//
//	code  constant            meaning
//	0801  ReasonNotTar        not a tar stream, a damaged tar header, or truncated
//	0802  ReasonNoManifest    the first member is not MANIFEST.JSON
//	0803  ReasonBadManifest   the manifest is not well-formed JSON of the known fields, or too large
//	0804  ReasonUnsupported   unsupported manifest format number or kind
//	0805  ReasonBadName       a name or value in the manifest is invalid
//	0806  ReasonOutOfOrder    a member is out of manifest order, unknown, or not a regular file
//	0807  ReasonSize          a member's size differs from the manifest
//	0808  ReasonSHA256        a member's SHA-256 differs from the manifest
//	0809  ReasonMissing       the stream ends before a member the manifest lists
//	080A  ReasonExtra         a member or data after the last part
//	080B  ReasonDuplicate     the manifest lists the same part (or component) twice
type ReasonCode uint16

// The reason codes; see the table on ReasonCode.
const (
	ReasonNotTar      ReasonCode = 0x0801
	ReasonNoManifest  ReasonCode = 0x0802
	ReasonBadManifest ReasonCode = 0x0803
	ReasonUnsupported ReasonCode = 0x0804
	ReasonBadName     ReasonCode = 0x0805
	ReasonOutOfOrder  ReasonCode = 0x0806
	ReasonSize        ReasonCode = 0x0807
	ReasonSHA256      ReasonCode = 0x0808
	ReasonMissing     ReasonCode = 0x0809
	ReasonExtra       ReasonCode = 0x080A
	ReasonDuplicate   ReasonCode = 0x080B
)

// Reasons lists every reason code in ascending order.
func Reasons() []ReasonCode {
	return []ReasonCode{
		ReasonNotTar, ReasonNoManifest, ReasonBadManifest, ReasonUnsupported, ReasonBadName,
		ReasonOutOfOrder, ReasonSize, ReasonSHA256, ReasonMissing, ReasonExtra, ReasonDuplicate,
	}
}

type reasonInfo struct{ text, action string }

const (
	actResend  = "the package is damaged, send it again"
	actRebuild = "rebuild the package with SERVMGR SRVLVL PACKAGE (or get the envelope again)"
)

var reasonTable = map[ReasonCode]reasonInfo{
	ReasonNotTar:      {"not a tar stream, or truncated", "the package is damaged or incomplete, send it again"},
	ReasonNoManifest:  {"first member is not the manifest " + ManifestName, "this is not a SERVLINK package or service envelope; check the file name"},
	ReasonBadManifest: {"manifest is malformed", actRebuild},
	ReasonUnsupported: {"unsupported manifest format or kind", "the package was made by a different release of the tool; rebuild it with this one"},
	ReasonBadName:     {"invalid name or value in the manifest", actRebuild},
	ReasonOutOfOrder:  {"member out of order or unexpected", actRebuild},
	ReasonSize:        {"size mismatch", actResend},
	ReasonSHA256:      {"SHA-256 mismatch", actResend},
	ReasonMissing:     {"missing member", "the package is incomplete, send it again"},
	ReasonExtra:       {"extra member or data after the last part", actRebuild},
	ReasonDuplicate:   {"duplicate part in the manifest", actRebuild},
}

// String is the code as four hex digits, e.g. "080A".
func (c ReasonCode) String() string { return fmt.Sprintf("%04X", uint16(c)) }

// Text is the short meaning, e.g. "SHA-256 mismatch".
func (c ReasonCode) Text() string {
	if i, ok := reasonTable[c]; ok {
		return i.text
	}
	return "unknown reason"
}

// Action says what the user should do about it.
func (c ReasonCode) Action() string {
	if i, ok := reasonTable[c]; ok {
		return i.action
	}
	return "report this as a csmsim bug"
}

// Error makes a ReasonCode usable as an errors.Is sentinel:
// "reason 0808: SHA-256 mismatch".
func (c ReasonCode) Error() string { return "reason " + c.String() + ": " + c.Text() }

// Error is a refused SERVLINK stream or manifest: the first failure found.
//
//	SERVLINK CMS: member "CMS/BUILD/DMSNUC.TEXT" at offset 5120: reason 0808: SHA-256 mismatch; the package is damaged, send it again
type Error struct {
	// Package names the stream from its manifest, "<KIND> <NAME>" (e.g.
	// "SERVLINK CMS", "RSU RSU0801"); "" when no manifest has been read.
	Package string
	// Member is the tar member at fault ("MANIFEST.JSON" for manifest
	// errors). For ReasonMissing it is the member the manifest expects;
	// "" when no header could be read and no member was expected.
	Member string
	// Offset is the byte offset, from the start of the stream, of the first
	// header block (a PAX extended header included) of the failing member;
	// for ReasonMissing and for trouble after the last part, the offset where
	// that member's header should have started.
	Offset int64
	Reason ReasonCode
	Detail string // what exactly was wrong; may be empty
	Err    error  // the underlying cause (I/O, tar, JSON), may be nil
}

func (e *Error) Error() string {
	pkg := e.Package
	if pkg == "" {
		pkg = "SERVLINK"
	}
	where := fmt.Sprintf("at offset %d", e.Offset)
	if e.Member != "" {
		where = fmt.Sprintf("member %q %s", e.Member, where)
	}
	msg := fmt.Sprintf("%s: %s: reason %s: %s", pkg, where, e.Reason.String(), e.Reason.Text())
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg + "; " + e.Reason.Action()
}

// Unwrap gives the ReasonCode (so errors.Is(err, ReasonSHA256) works) and the
// underlying cause, if any.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Reason, e.Err}
	}
	return []error{e.Reason}
}

// Reason extracts the reason code of err; ok is false if err is not (and
// does not wrap) an *Error.
func Reason(err error) (code ReasonCode, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return 0, false
}
