#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Instructions per call, counted by callgrind, and syscalls per call, counted by strace.
# Usage: bench/callgrind.sh [path/to/bench_insn_count] [N]   (root; default N=200)
#
# What can be counted: valgrind (3.19 at least) answers clone3() with ENOSYS, so no fork with
# set_tid runs under it. pidtuple_check()/pidtuple_check_in() are counted whole. For the fork
# path the script counts pidtuple_fork() minus the ns_last_pid fallback it takes under
# valgrind, i.e. the library's user-space work before the syscall, next to the same for the
# raw syscall (struct fill + syscall()). Kernel time is not in any of these: a check costs
# its syscalls (see the strace part), not its instructions.
set -eu

exe=${1:-./build/bench/bench_insn_count}
n=${2:-200}

if [ "$(id -u)" != 0 ]; then
	echo "callgrind.sh: skipped: needs root" >&2
	exit 77
fi
if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
	echo "callgrind.sh: skipped: valgrind/callgrind_annotate not installed" >&2
	exit 77
fi
[ -x "$exe" ] || { echo "callgrind.sh: no executable $exe" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# inclusive FILE FUNC: callgrind's inclusive Ir of FUNC in FILE (0 if absent).
inclusive() {
	callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
		awk -v f=":$2 " '
			index($0, f) { gsub(",", "", $1); print $1; found = 1; exit }
			END { if (!found) print 0 }'
}

# count OP LEVELS FUNC: runs the driver under callgrind counting FUNC only. The driver's body
# is PID 1 of its namespace, so its profile is out.1.
count() {
	rm -f "$tmp"/out.*
	valgrind -q --tool=callgrind --callgrind-out-file="$tmp/out.%p" --toggle-collect="$3" \
		"$exe" "$1" "$2" "$n" 2>"$tmp/vg.log" || {
		echo "callgrind.sh: $1 $2-level failed:" >&2
		cat "$tmp/vg.log" >&2
		exit 1
	}
}

echo "# instructions per call (callgrind, $n calls each)"
for lv in 1 3; do
	count check $lv pidtuple_check
	echo "insn check $lv-level: $(($(inclusive "$tmp/out.1" pidtuple_check) / n))"
	count check_in $lv pidtuple_check_in
	echo "insn check_in $lv-level: $(($(inclusive "$tmp/out.1" pidtuple_check_in) / n))"
	count fork $lv pidtuple_fork
	total=$(inclusive "$tmp/out.1" pidtuple_fork)
	fallback=$(inclusive "$tmp/out.1" pt_fork_fallback)
	echo "insn fork before syscall $lv-level: $(((total - fallback) / n))"
	count raw $lv insn_raw_clone3
	echo "insn raw before syscall $lv-level: $(($(inclusive "$tmp/out.1" insn_raw_clone3) / n))"
done

echo "# where pidtuple_check's instructions go, 3-level (inclusive Ir, all calls)"
count check 3 pidtuple_check
callgrind_annotate --inclusive=yes "$tmp/out.1" 2>/dev/null |
	grep -E '(lib/[a-z_]+\.c):' | sed 's/ \[.*//' | head -15

if command -v strace >/dev/null; then
	echo "# syscalls per pidtuple_check call (strace -c, $n calls; setup not subtracted)"
	for lv in 1 3; do
		for op in check check_in; do
			strace -f -c -o "$tmp/st" "$exe" $op $lv "$n" >/dev/null 2>&1 || true
			awk -v n="$n" -v lv="$lv" -v op="$op" '
				NF == 6 && $4 + 0 >= n {
					printf "syscalls %s %d-level: %s %.1f (failing %.1f)\n", op, lv,
						$6, $4 / n, $5 / n
				}
				NF == 5 && $4 + 0 >= n && $5 ~ /^[a-z_0-9]+$/ {
					printf "syscalls %s %d-level: %s %.1f\n", op, lv, $5, $4 / n
				}' "$tmp/st"
		done
	done
fi
