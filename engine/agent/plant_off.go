//go:build !csmsim_plant

package agent

// plantSkipLoadingMark is off in every real build. The csmsim_plant build
// tag turns it on to plant a known defect for the spec that proves a
// sweep finds it and shrink reduces it (cmd/csmsim/plant_test.go).
const plantSkipLoadingMark = false
