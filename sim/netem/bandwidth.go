package netem

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// units are bytes per unit; matched case-insensitively, so "kb" is a
// kilobyte, not a kilobit: bits are always spelled "bit".
var units = map[string]float64{
	"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
	"bit": 1.0 / 8, "kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8,
}

// ParseBandwidth reads a scenario's bandwidth, e.g. "512KB/s", "1.5MB/s",
// "4MiB/s", "100kbit/s", into bytes per second. KB/MB/GB are 1000-based
// bytes, KiB/MiB/GiB 1024-based bytes, kbit/mbit/gbit 1000-based bits.
// "0" means unlimited.
func ParseBandwidth(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	bad := func(why string) (int64, error) {
		return 0, fmt.Errorf("netem: bandwidth %q: %s; write e.g. \"10MB/s\", \"512KiB/s\", \"100kbit/s\", or \"0\" for unlimited", s, why)
	}
	if t == "" {
		return bad("empty")
	}
	if strings.HasPrefix(t, "-") {
		return bad("negative")
	}
	lower := strings.ToLower(t)
	if !strings.HasSuffix(lower, "/s") {
		return bad(`no "/s" (per second)`)
	}
	lower = strings.TrimSpace(strings.TrimSuffix(lower, "/s"))
	i := strings.IndexFunc(lower, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		return bad("no unit (B, KB, MB, GB, KiB, MiB, GiB, bit, kbit, mbit or gbit)")
	}
	num, unit := lower[:i], strings.TrimSpace(lower[i:])
	if num == "" {
		return bad("no number before the unit")
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return bad("bad number " + strconv.Quote(num))
	}
	per, ok := units[unit]
	if !ok {
		return bad("unknown unit " + strconv.Quote(unit) + " (use B, KB, MB, GB, KiB, MiB, GiB, bit, kbit, mbit or gbit)")
	}
	b := math.Round(v * per)
	switch {
	case v == 0:
		return 0, nil
	case b < 1:
		return bad("less than 1 byte per second")
	case b >= math.MaxInt64:
		return bad("too large")
	}
	return int64(b), nil
}
