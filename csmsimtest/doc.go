// Package csmsimtest starts a simulated z/VM Centralized Service
// Management fleet inside a Go test, as net/http/httptest starts an HTTP
// server: a principal and N managed systems, each serving CSMSERVE over
// real FTP on loopback, in memory, in one call, without YAML and without
// processes. It is for teams that write their own automation around CSM
// (Go code that types SERVMGR commands, reads SYSSTAT, drives a roll-out)
// and want to test it against the same engine csmsim's scenarios run.
//
// NewFleet starts a fleet for a test and closes it when the test ends
// (t.Cleanup); StartFleet does the same without a test, and Close stops
// it. Both work with plain testing and with Ginkgo (NewFleet takes
// a TB: a *testing.T, or GinkgoT()):
//
//	func TestRollout(t *testing.T) {
//		f := csmsimtest.NewFleet(t, csmsimtest.Systems(3), csmsimtest.Installed("L1", "RSU0801"))
//		res, err := f.Servmgr(t.Context(), "srvlvl send 720 L2 all (test")
//		...
//		st, err := f.System("VM02") // VM02's level, state, production, as VM02 says
//	}
//
// What a fleet offers:
//
//   - Fleet.Servmgr runs a SERVMGR command line exactly as a system
//     programmer types it on the principal, through the production engine,
//     reaching the managed systems over FTP, and returns its Result: the
//     return code, the message lines, and for SEND, PUT2PROD and SERVCHECK
//     each system's outcome.
//   - Fleet.System reads what a managed system says of itself (its VM
//     SYSSUF: level, state, production, components); Fleet.Table reads the
//     principal's tables (SYSSTAT, SVCSTAT, ROLLOUT, NAMES).
//   - Fleet.Node gives a system's CSMSERVE address, and Fleet.Credentials
//     CSMWORK's user and password (generated for each fleet), so that a
//     team's own FTP code can talk to a node.
//
// The options choose the systems (Systems, Names), the release (Release),
// a level installed on every system and the systems added to SYSSTAT
// (Installed), generated service envelopes (Envelopes), nicknames
// (Nickname), distant links (Link) and the seed of generated data (Seed).
//
// A fleet is deterministic: the principal and the systems share a clock
// that starts at 2026-11-23T14:00:00Z and moves one second per reading,
// never with wall time; the systems of a command are served one at a time;
// a shaped link charges its delays to a virtual link clock (Fleet.LinkTime)
// instead of waiting them. Messages, levels and tables are then the same
// on every run; only the nodes' ports differ.
//
// Faults (a node that crashes, refuses connections or fills its disk, as
// csmsim's scenarios inject them) are not offered yet.
package csmsimtest
