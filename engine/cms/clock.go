package cms

import "time"

// Clock is the engine's only source of time, so a seed and a scenario
// reproduce a run exactly.
type Clock interface {
	Now() time.Time
}
