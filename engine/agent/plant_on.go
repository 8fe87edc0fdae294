//go:build csmsim_plant

package agent

// plantSkipLoadingMark plants a defect, for tests only: LOAD writes its
// parts without first marking the test build incomplete, so a LOAD cut
// short leaves a mixed test build that nothing refuses.
const plantSkipLoadingMark = true
