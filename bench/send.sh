#!/usr/bin/env bash
# bench/send.sh SYSTEMS MIB [--workdir DIR] [--workers N] [--trace] [--peer-passive] [--row]
#
# Real mode, as `make run-real` drives it, for SYSTEMS managed systems: a
# principal, a level L2 of about MIB MiB (packaged, locked) based on L1,
# SYSTEMS `csmsim node serve` processes installed at L1, and then, timed
# side by side in one run:
#
#   SEND  csmsim servmgr 'srvlvl send 720 L2 all (test'  (transfer, XSHA256
#         verification, the agents' validate and load, STATUS polls); every
#         system must end LOADED
#   peer  SYSTEMS parallel curl uploads (one curl per system, one FTP session
#         each, as SEND has) of the same package files to the same nodes,
#         under names that do not collide with the SEND's: once before the
#         SEND (FN.CURLPRE) and once after it (FN.CURLPEER); curl_s is the
#         mean of the two, so that whatever the file system still does for
#         earlier work (below) weighs on the peer as on the SEND
#
# It prints a Markdown table row (with the header unless --row):
#   systems, MiB (the package's actual size), send_s, curl_s, ratio
#   (send/curl), written_MiB (the nodes' wchar during the SEND),
#   peer_written_MiB (the same during the curl uploads), servmgr_rss_MiB,
#   nodes_rss_MiB (summed VmHWM after the SEND, the peer's first run
#   included), and how to reproduce it.
# wchar counts the bytes of every write syscall of the node processes,
# sockets included; it is not what reached the disk.
#
# Why the peer runs twice: on ext4 without a journal, an inode freed less
# than 60 s ago (300 s more while its table block is dirty) is skipped by
# every inode allocation in its group, one look each. A run that follows
# a large deletion (the previous row's work directory) creates its files
# more slowly than one a minute later; with the peer only after the SEND,
# the SEND alone paid for it (docs/performance.md).
#
#   --workdir DIR  build everything under DIR (created, must be empty) and
#                  keep it; default a temporary directory, removed at exit
#   --workers N    passed to servmgr (systems served at once; its default 8)
#   --peer-passive curl in passive mode (EPSV) instead of active (EPRT):
#                  curl 7.88 then stalls about 200 ms before some data
#                  connections (docs/performance.md), which slows the peer
#   --trace        run servmgr under strace (connect, read, write) and print,
#                  on stderr and in DIR/phases.txt, where each system's time
#                  went (bench/ftp-phases.py); the row's send_s then includes
#                  strace's overhead
#   --row          print only the row
#
# CSMSIM=PATH measures that binary; otherwise bin/csmsim is built here.
# Setup output goes to DIR/setup.log, the SEND's to DIR/send.out.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

systems="" target_mib="" workdir="" workers="" row_only=0 trace=0 peer_mode=(--ftp-port 127.0.0.1)
while (($#)); do
	case $1 in
	--workdir) workdir=${2:?--workdir needs a directory}; shift 2 ;;
	--workdir=*) workdir=${1#*=}; shift ;;
	--workers) workers=${2:?--workers needs a number}; shift 2 ;;
	--workers=*) workers=${1#*=}; shift ;;
	--row) row_only=1; shift ;;
	--trace) trace=1; shift ;;
	--peer-passive) peer_mode=(); shift ;;
	-h | --help) usage ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) size_arg "$1"; shift ;;
	esac
done
check_size_args
[[ -z $workers || $workers =~ ^[1-9][0-9]*$ ]] || die "--workers must be a positive number"

need curl "install the Debian package curl (make deps)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is missing: install the Debian package time (make deps)"
[[ -r /proc/self/io && -r /proc/self/status ]] || die "/proc/PID/io is not readable: Linux with task I/O accounting is needed"
if ((trace)); then
	need strace "install the Debian package strace"
	need python3 "install the Debian package python3 (make deps)"
fi
BIN=$(csmsim_bin)

workdir_or_temp send   # sets wd, and keep=1 for a --workdir

# Every background process, by pid: the trap ends those still running
# and waits for them.
declare -A live=()
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${!live[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${!live[@]}"; do wait "$pid" 2>/dev/null || true; done
	if ((keep == 0)); then rm -rf "$wd"; elif ((rc != 0)); then say "the work directory is kept: $wd"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# reap PID WHAT: wait for a background process; fail naming WHAT.
reap() {
	local rc=0
	wait "$1" || rc=$?
	unset "live[$1]"
	if ((rc != 0)); then
		[[ -z ${3:-} ]] || tail -n 20 "$3" >&2
		die "$2 failed (exit $rc)${3:+; see $3}"
	fi
}

P=$wd/principal PW=$wd/csmwork.pw LOG=$wd/setup.log
: >"$LOG"
# step CMD...: run a setup command, its output in setup.log.
step() {
	echo "+ $*" >>"$LOG"
	"$@" >>"$LOG" 2>&1 || { tail -n 20 "$LOG" >&2; die "failed: $*"; }
}
new_password "$PW"

say "principal in $wd"
step "$BIN" principal init --state "$P"
step "$BIN" cms enroll admin MAINTCSM VMPSFS: --state "$P"
step "$BIN" fixtures sample --state "$P"
step "$BIN" servmgr initialize 720 --state "$P"
step "$BIN" servmgr srvlvl add 720 L1 basedon BASE nonesm desc bench base --state "$P"
step "$BIN" servmgr srvlvl service 720 L1 all rsu0801 --state "$P"

# The envelope's parts: large parts are about 1.3 MB each, and the package
# carries about 1.2 MiB besides the envelope's bytes. Start from that
# estimate and step K while the envelope (generated to a scratch file)
# comes closer to the target.
target=$((target_mib * 1048576))
overhead=$((1200 * 1024))
envsize() {
	step "$BIN" fixtures gen --state "$P" --kind rsu --name BENCHENV --scale large --parts "$1" --out "$wd/envelope.try"
	echo $(($(stat -c %s "$wd/envelope.try") + overhead - target))
}
abs() { echo $(($1 < 0 ? -$1 : $1)); }
k=$(((target - overhead + 650000) / 1300000))
((k >= 1)) || k=1
off=$(envsize "$k")
dir=$((off > 0 ? -1 : 1))
while ((k + dir >= 1)); do
	next=$(envsize $((k + dir)))
	(($(abs "$next") < $(abs "$off"))) || break
	k=$((k + dir)) off=$next
done
rm -f "$wd/envelope.try"
say "level L2: envelope of $k large parts"
step "$BIN" fixtures gen --state "$P" --kind rsu --name BENCHENV --scale large --parts "$k"
step "$BIN" servmgr srvlvl add 720 L2 basedon L1 nonesm desc bench level --state "$P"
step "$BIN" servmgr srvlvl service 720 L2 all benchenv --state "$P"
step "$BIN" servmgr srvlvl package 720 L2 --state "$P"
step "$BIN" servmgr srvlvl setlock 720 L2 on --state "$P"

# The package SEND sends: the files of the level's PACKAGE directory in
# the principal's VMPSFS (CSMPKG MANIFEST and one SERVLINK per component).
pkgdir=$P/cms/sfs/VMPSFS/CSM720/L2/PACKAGE
[[ -d $pkgdir ]] || die "no package directory $pkgdir (has the principal's layout changed?)"
mapfile -t pkgfiles < <(find "$pkgdir" -maxdepth 1 -type f -name '[!.]*.*' | sort)
((${#pkgfiles[@]} > 0)) || die "no package files in $pkgdir"
bytes=0
peer=$wd/peer
mkdir "$peer"
for f in "${pkgfiles[@]}"; do
	bytes=$((bytes + $(stat -c %s "$f")))
	fn=${f##*/}
	fn=${fn%%.*}
	[[ ! -e $peer/$fn.CURLPEER ]] || die "two package files named $fn: the peer's names would collide"
	cp "$f" "$peer/$fn.CURLPEER"
done
mapfile -t peerfiles < <(find "$peer" -type f | sort)
say "package: ${#pkgfiles[@]} files, $bytes bytes ($(mib "$bytes" 2) MiB)"

# The managed systems, installed at L1 ($(nproc) at a time), then served.
names=()
for i in $(seq 1 "$systems"); do names+=("$(printf 'VM%02d' "$i")"); done
jobs=$(nproc)
declare -A initpid=()
for s in "${names[@]}"; do
	"$BIN" node init --root "$wd/$s" --system "$s" --state "$P" --level L1 >"$wd/$s.init.log" 2>&1 &
	live[$!]=1 initpid[$s]=$!
	if ((${#initpid[@]} >= jobs)); then
		for t in "${!initpid[@]}"; do reap "${initpid[$t]}" "node init $t" "$wd/$t.init.log"; unset "initpid[$t]"; done
	fi
done
for t in "${!initpid[@]}"; do reap "${initpid[$t]}" "node init $t" "$wd/$t.init.log"; done

declare -A nodepid=() port=()
for s in "${names[@]}"; do
	# Active-mode data from any free port: with --listen 127.0.0.1:0 the
	# control port minus one may be taken (425 ... bind: address already in
	# use). Only the curl peer uses active mode; SEND's transport is passive.
	"$BIN" node serve --root "$wd/$s" --listen 127.0.0.1:0 --active-from-data-port=false \
		--password-file "$PW" >"$wd/$s.log" 2>&1 &
	live[$!]=1 nodepid[$s]=$!
done
for s in "${names[@]}"; do
	for _ in $(seq 100); do
		grep -q "listening on" "$wd/$s.log" && break
		kill -0 "${nodepid[$s]}" 2>/dev/null || die "node serve $s ended: $(cat "$wd/$s.log")"
		sleep 0.1
	done
	port[$s]=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$wd/$s.log")
	[[ -n ${port[$s]} ]] || die "node serve $s did not say where it listens within 10 s; see $wd/$s.log"
	step "$BIN" servmgr "system add 720 ${s,,} L1 nonesm hostname 127.0.0.1 commtype ftp (port ${port[$s]} norequire" \
		--state "$P" --password-file "$PW"
done
say "$systems nodes serving"

# wchar: the bytes of the nodes' write syscalls so far, summed.
wchar() {
	local s sum=0 w
	for s in "${names[@]}"; do
		w=$(sed -n 's/^wchar:[[:space:]]*//p' "/proc/${nodepid[$s]}/io") || die "node $s is gone"
		sum=$((sum + w))
	done
	echo "$sum"
}

# peer_run SUFFIX: the peer, one curl per system, all at once, uploading
# the package's files as FN.SUFFIX; sets peer_s and peer_w (the nodes'
# wchar meanwhile) and checks every file arrived whole.
peer_run() {
	local s f got t w args
	local -A curlpid=()
	sync
	w=$(wchar) t=$(now)
	for s in "${names[@]}"; do
		args=()
		for f in "${peerfiles[@]}"; do args+=(-T "$f" "ftp://127.0.0.1:${port[$s]}/$(basename "${f%.*}").$1"); done
		curl -sS --netrc-file "$netrc" "${peer_mode[@]}" "${args[@]}" >"$wd/$s.curl.log" 2>&1 &
		live[$!]=1 curlpid[$s]=$!
	done
	for s in "${names[@]}"; do reap "${curlpid[$s]}" "curl upload to $s" "$wd/$s.curl.log"; done
	peer_s=$(secs "$t" "$(now)") peer_w=$(($(wchar) - w))
	for s in "${names[@]}"; do
		for f in "${peerfiles[@]}"; do
			got=$wd/$s/cms/mdisk/CSMSERVE.0191/$(basename "${f%.*}").$1
			[[ -f $got && $(stat -c %s "$got") == "$(stat -c %s "$f")" ]] || die "curl's ${got##*/} did not arrive whole on $s ($got)"
		done
	done
}
netrc=$wd/netrc
IFS= read -r pw <"$PW"
(umask 077 && printf 'machine 127.0.0.1 login CSMWORK password %s\n' "$pw" >"$netrc")
unset pw

peer_run CURLPRE
pre_s=$peer_s

# The SEND, between the peer's two runs.
wargs=() tracer=()
[[ -z $workers ]] || wargs=(--workers "$workers")
# The trace holds the PASS command: it is made private and the password
# blotted out as soon as the SEND ends.
((trace == 0)) || tracer=(strace -f -tt -qq --seccomp-bpf -e "trace=connect,read,write" -s 60 -o "$wd/send.strace")
sync
w0=$(wchar) t0=$(now)
rc=0
(umask 077 && exec /usr/bin/time -v -o "$wd/send.time" "${tracer[@]}" "$BIN" servmgr 'srvlvl send 720 L2 all (test' \
	--state "$P" --password-file "$PW" "${wargs[@]}" >"$wd/send.out" 2>&1) || rc=$?
t1=$(now) w1=$(wchar)
if ((trace)); then
	sed -i 's/"PASS [^"]*"/"PASS (blotted out)"/' "$wd/send.strace"
	for s in "${names[@]}"; do echo "$s ${port[$s]}"; done >"$wd/ports"
	"$REPO/bench/ftp-phases.py" "$wd/send.strace" "$wd/ports" >"$wd/phases.txt" || die "bench/ftp-phases.py failed on $wd/send.strace"
	cat "$wd/phases.txt" >&2
fi
((rc == 0)) || { tail -n 20 "$wd/send.out" >&2; die "SRVLVL SEND ended RC=$rc; see $wd/send.out"; }
loaded=$(grep -c '^CSM3056I .* loaded TEST' "$wd/send.out" || true)
((loaded == systems)) || die "SEND loaded $loaded of $systems systems; see $wd/send.out"
"$BIN" servmgr system query 720 --state "$P" >"$wd/query.out" 2>&1 || die "SYSTEM QUERY failed; see $wd/query.out"
queried=$(grep -cE '^CSM2821I VM[0-9]+ +L2 +.* TEST +LOADED *$' "$wd/query.out" || true)
((queried == systems)) || die "SYSSTAT shows $queried of $systems systems LOADED at L2; see $wd/query.out"
hwm=0
for s in "${names[@]}"; do
	kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/${nodepid[$s]}/status") || die "node $s is gone"
	hwm=$((hwm + kb))
done

peer_run CURLPEER
post_s=$peer_s post_w=$peer_w
say "peer: ${pre_s} s before the SEND, ${post_s} s after it"

send_s=$(secs "$t0" "$t1") curl_s=$(awk -v a="$pre_s" -v b="$post_s" 'BEGIN { printf "%.2f", (a + b) / 2 }')
ratio=$(awk -v a="$send_s" -v b="$curl_s" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
cmd="bench/send.sh $systems $target_mib${workers:+ --workers $workers}"
((${#peer_mode[@]})) || cmd+=" --peer-passive"
((trace == 0)) || cmd+=" --trace"
if ((row_only == 0)); then
	echo "| systems | MiB | send_s | curl_s | ratio | written_MiB | peer_written_MiB | servmgr_rss_MiB | nodes_rss_MiB | reproduce |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
fi
# shellcheck disable=SC2016 # the backquotes are Markdown's
printf '| %d | %s | %s | %s | %s | %s | %s | %s | %s | `%s` |\n' "$systems" "$(mib "$bytes")" "$send_s" "$curl_s" "$ratio" \
	"$(mib $((w1 - w0)) 0)" "$(mib "$post_w" 0)" "$(maxrss "$wd/send.time")" "$(mib $((hwm * 1024)) 0)" "$cmd"
