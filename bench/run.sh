#!/usr/bin/env bash
# bench/run.sh: what `make bench` runs. Prints, and writes to
# reports/bench.md, the tables docs/performance.md keeps:
#
#   1. the Go benchmarks with a peer in the same run: DDR COPY beside dd and
#      Hercules' dasdcopy, the swarm sweep's seeds per second beside one
#      process per seed, one 64 MiB upload by the transport beside curl,
#      Validate beside a bare SHA-256 pass;
#   2. bench/send.sh for 1, 6, 18 and 54 systems x 4, 16 and 64 MiB (real
#      mode: SEND beside parallel curl uploads);
#   3. bench/scenario.sh for 6 systems x 64 MiB (disk-backed and in memory,
#      each system's phases).
#
# BENCH_QUICK=1: a fast check instead: the Go benchmarks once each,
# bench/send.sh for 1 and 6 systems x 4 MiB, bench/scenario.sh 1 x 4 MiB.
# SEND_ARGS: extra options for every bench/send.sh row (e.g. --workers 54).
# The raw `go test` output is kept in reports/bench-go.txt.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need go "install Go 1.26 (see README.md)"
need curl "install the Debian package curl (make deps)"
need dasdcopy "install the Debian package hercules (make deps)"
need dd "install the Debian package coreutils"
cd "$REPO"
mkdir -p reports
out=reports/bench.md gotxt=reports/bench-go.txt
quick=${BENCH_QUICK:-0}
[[ $quick == 0 || $quick == 1 ]] || die "BENCH_QUICK must be 0 or 1"
read -ra send_args <<<"${SEND_ARGS:-}"
export CSMSIM
CSMSIM=$(csmsim_bin)
start=$(now)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# gobench NAME BENCHTIME PKG: run one benchmark, its output kept in
# reports/bench-go.txt; prints the command that reproduces it.
: >"$gotxt"
gobench() {
	local cmd="go test -run '^\$' -bench '^$1\$' -benchtime $2 $3"
	say "$cmd"
	echo "\$ $cmd" >>"$gotxt"
	go test -run '^$' -bench "^$1\$" -benchtime "$2" "$3" >>"$gotxt" 2>&1 ||
		{ tail -n 20 "$gotxt" >&2; die "$cmd failed; see $gotxt"; }
}
# metric SUB UNIT: the value before UNIT on sub-benchmark SUB's line.
metric() {
	awk -v sub_="$1" -v unit="$2" '
		$1 ~ "^Benchmark[^/]*/" sub_ "(-[0-9]+)?$" { for (i = 2; i <= NF; i++) if ($i == unit) { v = $(i - 1) } }
		END { if (v == "") exit 1; print v }' "$gotxt" || die "no $2 for $1 in $gotxt"
}

if ((quick)); then bt_ddr=1x bt_sweep=2x bt_put=1x bt_val=1x; else bt_ddr=3x bt_sweep=12x bt_put=3x bt_val=5x; fi
gobench BenchmarkCopyPeers "$bt_ddr" ./sim/ddr/
c_ddr="go test -run '^\$' -bench '^BenchmarkCopyPeers\$' -benchtime $bt_ddr ./sim/ddr/"
ddr=$(metric csmsim-ddr-copy MB/s)
dd=$(metric peer-dd MB/s)
dasdcopy=$(metric peer-dasdcopy MB/s)
gobench BenchmarkSwarmSweep "$bt_sweep" ./cmd/csmsim/
c_sweep="go test -run '^\$' -bench '^BenchmarkSwarmSweep\$' -benchtime $bt_sweep ./cmd/csmsim/"
sweep=$(metric sweep seeds/s)
sweep_min=$(metric sweep min/1000seeds)
procs=$(metric processes seeds/s)
gobench BenchmarkPut64MiB "$bt_put" ./sim/csmserve/
c_put="go test -run '^\$' -bench '^BenchmarkPut64MiB\$' -benchtime $bt_put ./sim/csmserve/"
put_sha=$(metric transport-sha256 MB/s)
put_size=$(metric transport-size MB/s)
put_curl=$(metric curl MB/s)
gobench BenchmarkValidate "$bt_val" ./engine/servlink/
c_val="go test -run '^\$' -bench '^BenchmarkValidate\$' -benchtime $bt_val ./engine/servlink/"
val=$(metric Validate MB/s)
sha=$(metric 'sha256-io\.Copy' MB/s)

if ((quick)); then send_rows=("1 4" "6 4") scen_rows=("1 4"); else
	send_rows=()
	for n in 1 6 18 54; do for m in 4 16 64; do send_rows+=("$n $m"); done; done
	scen_rows=("6 64")
fi
send_table=() scen_table=()
for r in "${send_rows[@]}"; do
	read -r n m <<<"$r"
	say "bench/send.sh $n $m ${send_args[*]}"
	row=$(bench/send.sh "$n" "$m" "${send_args[@]}" --row) || die "bench/send.sh $n $m failed"
	send_table+=("$row")
done
for r in "${scen_rows[@]}"; do
	read -r n m <<<"$r"
	say "bench/scenario.sh $n $m"
	row=$(bench/scenario.sh "$n" "$m" --row) || die "bench/scenario.sh $n $m failed"
	scen_table+=("$row")
done
took=$(secs "$start" "$(now)")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
{
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(go env GOOS)/$(go env GOARCH)), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+changes');"
	echo "load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(curl --version | head -n 1 | cut -d' ' -f1-2); bench/run.sh took ${took} s$( ((quick)) && echo ' (BENCH_QUICK=1)')."
	echo
	echo "SEND in real mode beside parallel curl uploads (bench/send.sh):"
	echo
	echo "| systems | MiB | send_s | curl_s | ratio | written_MiB | peer_written_MiB | servmgr_rss_MiB | nodes_rss_MiB | reproduce |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	printf '%s\n' "${send_table[@]}"
	echo
	echo "Scenario runs, disk-backed and in memory (bench/scenario.sh):"
	echo
	echo "| systems | MiB | disk_run_s | disk_send_s | transfer_s | validate_s | load_s | disk_rss_MiB | disk_written_MiB | mem_run_s | mem_send_s | mem_rss_MiB | reproduce |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	printf '%s\n' "${scen_table[@]}"
	echo
	echo "Go benchmarks beside their peers (the same run, the same bytes):"
	echo
	echo "| benchmark | csmsim | peers | csmsim / best peer | reproduce |"
	echo "|---|---:|---|---:|---|"
	best=$(awk -v a="$dd" -v b="$dasdcopy" 'BEGIN { print (a > b ? a : b) }')
	# shellcheck disable=SC2016 # the backquotes are Markdown's
	printf '| DDR COPY of a full 100-cylinder 3390, MB/s | %s | dd %s, dasdcopy %s | %s | `%s` |\n' "$ddr" "$dd" "$dasdcopy" "$(ratio "$ddr" "$best")" "$c_ddr"
	# shellcheck disable=SC2016
	printf '| swarm sweep (6 systems), seeds/s | %s (%s min per 1000 seeds) | one process per seed %s | %s | `%s` |\n' "$sweep" "$sweep_min" "$procs" "$(ratio "$sweep" "$procs")" "$c_sweep"
	best=$(awk -v a="$put_sha" -v b="$put_size" 'BEGIN { print (a > b ? a : b) }')
	# shellcheck disable=SC2016
	printf '| one 64 MiB upload to a disk-backed node, MB/s | XSHA256-verified %s, size-verified %s | curl %s | %s | `%s` |\n' "$put_sha" "$put_size" "$put_curl" "$(ratio "$put_sha" "$put_curl")" "$c_put"
	# shellcheck disable=SC2016
	printf '| Validate of a 64 MiB envelope, MB/s | %s | SHA-256 over the same bytes %s | %s | `%s` |\n' "$val" "$sha" "$(ratio "$val" "$sha")" "$c_val"
} >"$out"
cat "$out"
say "written to $out; raw go test output in $gotxt; took ${took} s"
