#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Soak test of the random process trees (tests/check_random_trees.c); not run by CI.
#
#   scripts/soak.sh BUILD_DIR [SEEDS]
#
# Runs seeds 1..SEEDS (default 5000; SOAK_FIRST moves the start) in batches of SOAK_BATCH
# (default 250) seeds, one run of BUILD_DIR/tests/check_random_trees per batch, and reports
# before and after:
#   - processes: the host's count (/proc/[0-9]*), which other work also changes, and the
#     processes that are the soak's own: descendants of this shell, or processes that carry
#     this soak's marker in their environment (every test process and every process of a
#     restored tree inherits it, so an orphan reparented to init is still found);
#   - open descriptors of this shell;
#   - memory: MemAvailable, and the largest resident set of a test run (from /usr/bin/time -v
#     when present, else the test's own getrusage() line).
# Prints "nothing left" only when no process of the soak's own is left and the descriptors
# are back to where they started. Exits non-zero on a failed seed or anything left over;
# failing seeds are listed (replay one with PIDTUPLE_SEED=N). Needs root, like the test.
set -u

usage() {
	echo "usage: $0 BUILD_DIR [SEEDS]   (env: SOAK_BATCH=250 SOAK_FIRST=1)" >&2
	exit 2
}

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
	usage
fi
build=$1
seeds=${2:-5000}
batch=${SOAK_BATCH:-250}
first=${SOAK_FIRST:-1}
test_bin=$build/tests/check_random_trees
case "$seeds$batch$first" in *[!0-9]*) usage ;; esac
if [ "$seeds" -eq 0 ] || [ "$batch" -eq 0 ]; then
	usage
fi
[ -x "$test_bin" ] || {
	echo "$test_bin: not built (cmake --build $build --target check_random_trees)" >&2
	exit 2
}

marker="PIDTUPLE_SOAK_ID=$$.$RANDOM$RANDOM"
logs=$(mktemp -d "${TMPDIR:-/tmp}/pidtuple-soak.XXXXXX") || exit 2

host_processes() {
	local p=(/proc/[0-9]*)
	echo "${#p[@]}"
}

shell_fds() {
	local f=(/proc/$$/fd/*)
	echo "${#f[@]}"
}

# Seconds since @1 (a date +%s.%N value).
elapsed() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

mem_available_kib() {
	awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
}

# PIDs of the soak's own processes: marked ones, and descendants of this shell other than the
# subshell running this function and its helpers.
own_processes() {
	local self=$BASHPID line pid ppid
	declare -A parent=()
	while IFS= read -r line; do
		pid=${line#/proc/}
		pid=${pid%%/*}
		ppid=${line##*[[:space:]]}
		parent[$pid]=$ppid
	done < <(grep -s -H '^PPid:' /proc/[0-9]*/status)
	for pid in "${!parent[@]}"; do
		[ "$pid" = "$$" ] && continue
		ppid=$pid
		while [ -n "${parent[$ppid]:-}" ] && [ "$ppid" != 1 ] && [ "$ppid" != "$self" ]; do
			ppid=${parent[$ppid]}
			if [ "$ppid" = "$$" ]; then
				echo "$pid"
				break
			fi
		done
	done
	grep -s -l -z -x -F "$marker" /proc/[0-9]*/environ | sed 's|^/proc/||; s|/environ$||'
}

describe_processes() {
	local pid
	for pid in "$@"; do
		printf '  %s: %s\n' "$pid" "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null |
			cut -c1-60) $(grep -s '^State:' "/proc/$pid/status" | tr -s '\t ' ' ')"
	done
}

# Largest resident set of one run, in KiB: GNU time's report, or the test's own line.
batch_max_rss() {
	local log=$1 timefile=$2 v=""
	[ -s "$timefile" ] && v=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$timefile")
	[ -n "$v" ] || v=$(sed -n 's/.*max RSS: \([0-9]*\) KiB (driver), \([0-9]*\) KiB.*/\1 \2/p' "$log" |
		awk '{ print ($1 > $2 ? $1 : $2) }')
	echo "${v:-0}"
}

run_batch() {
	local a=$1 b=$2 log=$logs/seeds-$1-$2.log timefile=$logs/time-$1-$2.txt
	local -a timer=()
	[ -x /usr/bin/time ] && timer=(/usr/bin/time -v -o "$timefile")
	env "$marker" PIDTUPLE_SEEDS="$a-$b" CK_RUN_CASE="round trip" \
		"${timer[@]}" "$test_bin" > "$log" 2>&1
}

procs0=$(host_processes)
fds0=$(shell_fds)
mem0=$(mem_available_kib)
mapfile -t own0 < <(own_processes)
echo "soak: seeds $first..$((first + seeds - 1)) in batches of $batch; logs in $logs"
echo "before: $procs0 processes on the host, ${#own0[@]} of the soak's own," \
	"$fds0 fds open in the soak's shell, MemAvailable $mem0 KiB"

failed_batches=0 failing="" max_rss=0 total_rt=0 total_ref=0 total_fail=0
t0=$(date +%s.%N)
for ((a = first; a < first + seeds; a += batch)); do
	b=$((a + batch - 1))
	[ "$b" -ge $((first + seeds)) ] && b=$((first + seeds - 1))
	bt0=$(date +%s.%N)
	if ! run_batch "$a" "$b"; then
		failed_batches=$((failed_batches + 1))
	fi
	log=$logs/seeds-$a-$b.log
	rss=$(batch_max_rss "$log" "$logs/time-$a-$b.txt")
	[ "$rss" -gt "$max_rss" ] && max_rss=$rss
	read -r rt ref fl < <(sed -n 's/.*nodes: \([0-9]*\) round trips.*), \([0-9]*\) refused, \([0-9]*\) failed$/\1 \2 \3/p' "$log")
	total_rt=$((total_rt + ${rt:-0})) total_ref=$((total_ref + ${ref:-0}))
	total_fail=$((total_fail + ${fl:-0}))
	fails=$(sed -n 's/^  failing seeds: //p' "$log")
	[ -n "$fails" ] && failing="$failing${failing:+,}$fails"
	[ -z "${rt:-}" ] && failing="$failing${failing:+,}$a-$b(no summary: see $log)"
	printf '  seeds %6d..%-6d %6.1f s  %4s round trips %4s refused %3s failed  max RSS %s KiB\n' \
		"$a" "$b" "$(elapsed "$bt0")" "${rt:-?}" "${ref:-?}" "${fl:-?}" "$rss"
done
secs=$(elapsed "$t0")

procs1=$(host_processes)
fds1=$(shell_fds)
mem1=$(mem_available_kib)
mapfile -t own1 < <(own_processes)
echo "after:  $procs1 processes on the host ($((procs1 - procs0)) from other work or left)," \
	"${#own1[@]} of the soak's own, $fds1 fds open in the soak's shell," \
	"MemAvailable $mem1 KiB ($(((mem1 - mem0) / 1024)) MiB)"
printf 'seeds: %d in %.1f s (%.1f seeds/s): %d round trips, %d refused, %d failed; largest test run %s KiB\n' \
	"$seeds" "$secs" "$(awk -v n="$seeds" -v s="$secs" 'BEGIN { print (s > 0 ? n / s : 0) }')" "$total_rt" "$total_ref" "$total_fail" "$max_rss"
# Refusals per rule, summed over the batches: from a history / mutated.
sed -n 's/^  refused by \([a-z0-9-]*\) *\([0-9]*\) from a history[^,]*, *\([0-9]*\) mutated.*/\1 \2 \3/p' \
	"$logs"/seeds-*.log | awk '
	{ h[$1] += $2; m[$1] += $3 }
	END { for (r in h) printf "  refused by %-15s %5d from a history, %5d mutated\n", r, h[r], m[r] }' |
	sort

status=0
if [ "$failed_batches" -gt 0 ] || [ -n "$failing" ]; then
	echo "FAILED: $failed_batches batch(es); failing seeds: ${failing:-none listed}" \
		"(replay: PIDTUPLE_SEED=N $test_bin)"
	status=1
fi
if [ "${#own1[@]}" -gt 0 ] || [ "$fds1" -ne "$fds0" ]; then
	echo "LEFT OVER: ${#own1[@]} process(es) of the soak, fds $fds0 -> $fds1"
	describe_processes "${own1[@]}"
	status=1
else
	echo "nothing left"
fi
[ "$status" -eq 0 ] && rm -rf "$logs"
exit "$status"
