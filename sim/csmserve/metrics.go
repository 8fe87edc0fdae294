package csmserve

// Metrics hears what a node counts; csmsim node serve exposes it to
// Prometheus (sim/csmserve/metrics). The node calls it from its sessions
// as things happen: its methods must be safe for concurrent use and must
// not block.
type Metrics interface {
	// Connected: a control connection was accepted, to be served or
	// refused (421).
	Connected()
	// LoginFailed: a login was refused: another user than CSMWORK, a
	// wrong password, or an address locked out after failed logins.
	LoginFailed()
	// Received: n bytes of an upload (STOR, APPE) were written to the
	// staging area.
	Received(n int64)
}

// noMetrics counts nothing: a node without Config.Metrics.
type noMetrics struct{}

func (noMetrics) Connected()     {}
func (noMetrics) LoginFailed()   {}
func (noMetrics) Received(int64) {}
