# shellcheck shell=bash
# Helpers the bench scripts share: sourced, never run.

# The repository's root: this file is in bench/.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

say() { echo "${0##*/}: $*" >&2; }

# need TOOL WHAT-INSTALLS-IT: fail with a message saying how to get TOOL.
need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"
}

# csmsim_bin: the binary to measure. CSMSIM names one; otherwise
# bin/csmsim is built from this worktree (go build, cached when nothing
# changed) so a row measures the code beside it.
csmsim_bin() {
	if [[ -n ${CSMSIM:-} ]]; then
		[[ -x $CSMSIM ]] || die "CSMSIM=$CSMSIM is not an executable"
		echo "$CSMSIM"
		return
	fi
	need go "install Go 1.26 (see README.md)"
	(cd "$REPO" && go build -o bin/csmsim ./cmd/csmsim) || die "go build ./cmd/csmsim failed"
	echo "$REPO/bin/csmsim"
}

# now: seconds since the epoch, microseconds (bash 5's EPOCHREALTIME).
now() { echo "${EPOCHREALTIME/,/.}"; }

# secs T0 T1: T1-T0 in seconds with 2 decimals.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# mib BYTES [DECIMALS]: BYTES in MiB.
mib() { awk -v b="$1" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, b / 1048576 }'; }

# maxrss FILE: the peak RSS in MiB from /usr/bin/time -v's report in FILE.
maxrss() {
	local kb
	kb=$(sed -n 's/.*Maximum resident set size (kbytes): *\([0-9]*\).*/\1/p' "$1")
	[[ -n $kb ]] || die "no peak RSS in $1 (is /usr/bin/time GNU time?)"
	awk -v k="$kb" 'BEGIN { printf "%.0f", k / 1024 }'
}

# new_password FILE: a random CSMWORK password in FILE (mode 600), never
# on a command line or in output.
new_password() {
	(umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$1" && echo >>"$1")
}

# size_arg takes a positional argument: the first is SYSTEMS, the second
# MIB (both scripts take them so).
size_arg() {
	if [[ -z $systems ]]; then systems=$1
	elif [[ -z $target_mib ]]; then target_mib=$1
	else die "one SYSTEMS and one MIB, got also $1"; fi
}

# check_size_args refuses a SYSTEMS or MIB out of range.
check_size_args() {
	[[ $systems =~ ^[1-9][0-9]?$ ]] || die "SYSTEMS must be 1 to 99 (usage: bench/${0##*/} SYSTEMS MIB)"
	[[ $target_mib =~ ^[1-9][0-9]*$ ]] || die "MIB must be a whole number of MiB, 1 or more"
}

# workdir_or_temp NAME: wd is --workdir's directory (created, must be
# empty; kept: keep=1), or a new temporary one (keep=0).
workdir_or_temp() {
	keep=0
	if [[ -n $workdir ]]; then
		mkdir -p "$workdir" || die "cannot create $workdir"
		[[ -z $(ls -A "$workdir") ]] || die "--workdir $workdir is not empty"
		wd=$(cd "$workdir" && pwd)
		keep=1
	else
		wd=$(mktemp -d "${TMPDIR:-/tmp}/csmsim-$1.XXXXXX")
	fi
}
