#!/usr/bin/env bash
# bench/scenario.sh SYSTEMS MIB [--workdir DIR] [--skip-memory] [--row]
#
# The scenario flavour of bench/send.sh: a generated scenario (SYSTEMS
# systems installed at L1, a level L2 of about MIB MiB packaged and locked,
# then `srvlvl send 720 L2 all (test`) run by `csmsim run`, once with
# --workdir (a disk-backed world) and once in memory, each timed, with its
# peak RSS. The nodes are in-process and gone when the run ends, so there
# is no curl peer here: bench/send.sh measures the wire.
#
# It prints a Markdown table row (with the header unless --row):
#   systems, MiB (the package's actual size),
#   disk_run_s      the whole `csmsim run --workdir` (world built on disk too)
#   disk_send_s     the SEND step alone (from the step before it ending to
#                   the SEND's own step line, on the progress lines' clock)
#   transfer_s, validate_s, load_s
#                   each system's phases (the progress lines), mean per
#                   system; a scenario serves one system at a time
#   disk_rss_MiB    peak RSS of the disk-backed run
#   disk_written_MiB its block output (GNU time's "File system outputs",
#                   512-byte units: bytes the process dirtied in files,
#                   world building included)
#   mem_run_s, mem_send_s, mem_rss_MiB   the same run in memory ("-" with
#                   --skip-memory)
# and how to reproduce it.
#
#   --workdir DIR   keep the scenario, reports and disk-backed world in DIR
#                   (created, must be empty); default a temporary directory
#   --skip-memory   no in-memory run (54 x 64 MiB in memory needs GBs)
#   --row           print only the row
#
# CSMSIM=PATH measures that binary; otherwise bin/csmsim is built here.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

systems="" target_mib="" workdir="" memory=1 row_only=0
while (($#)); do
	case $1 in
	--workdir) workdir=${2:?--workdir needs a directory}; shift 2 ;;
	--workdir=*) workdir=${1#*=}; shift ;;
	--skip-memory) memory=0; shift ;;
	--row) row_only=1; shift ;;
	-h | --help) usage ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) size_arg "$1"; shift ;;
	esac
done
check_size_args

[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is missing: install the Debian package time (make deps)"
need python3 "install the Debian package python3 (make deps)"
BIN=$(csmsim_bin)

workdir_or_temp scenario   # sets wd, and keep=1 for a --workdir
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if ((keep == 0)); then rm -rf "$wd"; elif ((rc != 0)); then say "the work directory is kept: $wd"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# scenario FILE PARTS SYSTEMS: the scenario; with 0 systems it stops
# after SRVLVL PACKAGE (the calibration).
scenario() {
	local n=$3
	{
		echo "name: bench-${n}x${target_mib}MiB"
		echo "description: bench/scenario.sh $systems $target_mib, $2 parts of about 1 MiB"
		echo "seed: 1"
		((n == 0)) || echo "world: {count: $n}"
		echo "fixtures:"
		echo "  envelopes:"
		echo "    - {name: BENCHENV, kind: RSU, parts: $2, part_bytes: 1048576}"
		echo "steps:"
		echo "  - servmgr: initialize 720"
		echo "  - servmgr: srvlvl add 720 L1 basedon BASE nonesm"
		echo "  - servmgr: srvlvl service 720 L1 all rsu0801"
		if ((n > 0)); then
			echo "  - install: {system: ALL, level: L1}"
			echo "  - servmgr: system add 720 vm\${NN} L1 nonesm hostname \${HOST:VM\${NN}} commtype ftp (port \${PORT:VM\${NN}} norequire)"
			echo "    repeat: {from: 1, to: $n}"
		fi
		echo "  - servmgr: srvlvl add 720 L2 basedon L1 nonesm"
		echo "  - servmgr: srvlvl service 720 L2 all benchenv"
		echo "  - servmgr: srvlvl package 720 L2"
		if ((n > 0)); then
			echo "  - servmgr: srvlvl setlock 720 L2 on"
			echo "  - servmgr: srvlvl send 720 L2 all (test"
			echo "    expect: {rc: 0, messages: [CSM3060I]}"
			echo "expect:"
			echo "  systems:"
			echo "    - {name: ALL, level: L2, state: TEST}"
		fi
	} >"$1"
}

# package_bytes REPORT: the bytes SRVLVL PACKAGE wrote (its SERVLINKs).
package_bytes() {
	python3 - "$1" <<'EOF'
import json, re, sys
r = json.load(open(sys.argv[1]))
print(sum(int(m.group(1)) for s in r["steps"] for o in s["output"]
          if o.startswith("CSM2735I") for m in [re.search(r"(\d+) bytes", o)] if m))
EOF
}

# Calibrate the parts: a package of K parts of about 1 MiB is about K MiB,
# but the generator draws sizes and parts, so measure and scale K.
target=$((target_mib * 1048576))
k=$target_mib best_k=0 best_off=-1
for _ in 1 2 3 4; do
	scenario "$wd/calibrate.yaml" "$k" 0
	"$BIN" run "$wd/calibrate.yaml" --quiet --report json --out "$wd/calibrate.json" >"$wd/calibrate.log" 2>&1 ||
		die "calibration run failed; see $wd/calibrate.log"
	got=$(package_bytes "$wd/calibrate.json")
	((got > 0)) || die "no CSM2735I bytes in $wd/calibrate.json"
	off=$((got > target ? got - target : target - got))
	if ((best_off < 0 || off < best_off)); then best_k=$k best_off=$off; fi
	next=$(awk -v k="$k" -v t="$target" -v g="$got" 'BEGIN { n = int(k * t / g + 0.5); print (n < 1 ? 1 : n) }')
	((off * 20 > target && next != k)) || break
	k=$next
done
k=$best_k
say "level L2: envelope of $k parts of about 1 MiB"
scenario "$wd/bench.yaml" "$k" "$systems"
"$BIN" validate "$wd/bench.yaml" >/dev/null || die "the generated scenario does not validate: $wd/bench.yaml"

# stamp: each line of stdin with the time it was read.
stamp() { while IFS= read -r l; do printf '%s %s\n' "$(now)" "$l"; done; }

# measure NAME [--workdir DIR]: run the scenario; sets run_s, send_s,
# the phase means, rss, written and bytes.
measure() {
	local name=$1 t0 t1
	shift
	t0=$(now)
	if ! /usr/bin/time -v -o "$wd/$name.time" "$BIN" run "$wd/bench.yaml" "$@" --report json --out "$wd/$name.json" \
		2>&1 >"$wd/$name.summary" | stamp >"$wd/$name.progress"; then
		tail -n 20 "$wd/$name.summary" "$wd/$name.progress" >&2
		die "csmsim run $* failed; see $wd/$name.summary and $wd/$name.progress"
	fi
	t1=$(now)
	run_s=$(secs "$t0" "$t1")
	rss=$(maxrss "$wd/$name.time")
	written=$(sed -n 's/.*File system outputs: *\([0-9]*\).*/\1/p' "$wd/$name.time")
	written=$(mib $((written * 512)) 0)
	read -r send_s transfer_s validate_s load_s seen < <(awk -v n="$systems" '
		/ step [0-9]+ servmgr: srvlvl setlock 720 L2 on RC=/ { t0 = $1 }
		/ step [0-9]+ servmgr: srvlvl send 720 L2 all \(test RC=/ { t1 = $1 }
		/ step [0-9]+ VM[0-9]+: transfer / {
			for (i = 4; i <= NF; i++) {
				v = $(i + 1); sub(/s,?$/, "", v)
				if ($i == "transfer") tr += v
				if ($i == "validate") va += v
				if ($i == "load") lo += v
			}
			seen++
		}
		END { printf "%.2f %.3f %.3f %.3f %d\n", t1 - t0, tr / n, va / n, lo / n, seen }' "$wd/$name.progress")
	((seen == systems)) || die "$seen of $systems systems reported their SEND phases; see $wd/$name.progress"
	bytes=$(python3 - "$wd/$name.json" <<'EOF'
import json, re, sys
r = json.load(open(sys.argv[1]))
print(max([int(m.group(1)) for s in r["steps"] for o in s["output"]
           if o.startswith("CSM3053I") for m in [re.search(r"(\d+) bytes", o)] if m] or [0]))
EOF
	)
}

say "disk-backed run of $systems systems"
measure disk --workdir "$wd/world"
d_run=$run_s d_send=$send_s d_tr=$transfer_s d_va=$validate_s d_lo=$load_s d_rss=$rss d_written=$written d_bytes=$bytes
rm -rf "$wd/world"
m_run=- m_send=- m_rss=-
if ((memory)); then
	say "in-memory run of $systems systems"
	measure memory
	m_run=$run_s m_send=$send_s m_rss=$rss
fi

cmd="bench/scenario.sh $systems $target_mib$( ((memory)) || echo ' --skip-memory')"
if ((row_only == 0)); then
	echo "| systems | MiB | disk_run_s | disk_send_s | transfer_s | validate_s | load_s | disk_rss_MiB | disk_written_MiB | mem_run_s | mem_send_s | mem_rss_MiB | reproduce |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
fi
# shellcheck disable=SC2016 # the backquotes are Markdown's
printf '| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | `%s` |\n' "$systems" "$(mib "$d_bytes")" \
	"$d_run" "$d_send" "$d_tr" "$d_va" "$d_lo" "$d_rss" "$d_written" "$m_run" "$m_send" "$m_rss" "$cmd"
