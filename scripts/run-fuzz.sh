#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan+UBSan) and runs each for its
# share of SECONDS_TOTAL (default 60), starting from a copy of its committed seed corpus (the
# copy grows; tests/fuzz/corpus is never written). Prints the executions each target reached and exits
# non-zero when any target found a crash, a leak or a timeout; the crashing inputs and the
# logs are kept and their paths printed.
#
#   scripts/run-fuzz.sh [SECONDS_TOTAL]
#
# Environment: PIDTUPLE_FUZZ_BUILD_DIR (default build/fuzz), PIDTUPLE_FUZZ_CC (default clang),
# PIDTUPLE_FUZZ_TARGETS (default: all), PIDTUPLE_FUZZ_KEEP=1 keeps the work dir,
# PIDTUPLE_FUZZ_BUILD_ONLY=1 builds and stops (scripts/fuzz-long.sh).
# Exit 77 (skip) when clang or libFuzzer is missing, except under CI=true (then 1).
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
total=${1:-60}
build=${PIDTUPLE_FUZZ_BUILD_DIR:-$root/build/fuzz}
cc=${PIDTUPLE_FUZZ_CC:-clang}
# shellcheck source=../tests/fuzz/targets.sh
. "$root/tests/fuzz/targets.sh"
targets=${PIDTUPLE_FUZZ_TARGETS:-$fuzz_targets}

skip() {
	echo "run-fuzz: $*" >&2
	if [ "${CI:-}" = true ]; then
		exit 1
	fi
	echo "run-fuzz: skipped" >&2
	exit 77
}

case $total in
'' | *[!0-9]*) echo "usage: $0 [SECONDS_TOTAL]" >&2; exit 2 ;;
esac

command -v "$cc" >/dev/null 2>&1 || skip "no $cc (install clang)"
probe=$(mktemp -d) || exit 1
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	>"$probe/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" \
	>"$probe/log" 2>&1; then
	cat "$probe/log" >&2
	rm -rf "$probe"
	skip "$cc cannot link libFuzzer (Debian: apt-get install libclang-rt-14-dev)"
fi
rm -rf "$probe"

echo "run-fuzz: building in $build"
mkdir -p "$build" || exit 1
# A build directory configured from another source folder (fuzz/ before it moved to
# tests/fuzz/) is configured afresh: cmake refuses to switch source folders.
home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null)
if [ -n "$home" ] && [ "$home" != "$root/tests/fuzz" ]; then
	echo "run-fuzz: $build was configured from $home: configuring it afresh"
	rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi
cmake -S "$root/tests/fuzz" -B "$build" -DCMAKE_C_COMPILER="$cc" >"$build/configure.log" 2>&1 ||
	{ cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" || exit 1
# scripts/fuzz-long.sh builds through here and runs the targets itself.
[ "${PIDTUPLE_FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

work=$(mktemp -d "${TMPDIR:-/tmp}/pidtuple-fuzz.XXXXXX") || exit 1
# shellcheck disable=SC2086 # a space-separated list of target names
set -- $targets
per=$((total / $#))
[ "$per" -ge 1 ] || per=1
failed=()
summary=()

for t in "$@"; do
	corpus=$work/$t/corpus
	artifacts=$work/$t/artifacts
	mkdir -p "$corpus" "$artifacts"
	cp -R "$root/tests/fuzz/corpus/$t/." "$corpus/"
	args=(-max_total_time="$per" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
		-max_len="${fuzz_max_len[$t]:-4096}" -artifact_prefix="$artifacts/")
	[ -f "$root/tests/fuzz/$t.dict" ] && args+=(-dict="$root/tests/fuzz/$t.dict")

	echo "run-fuzz: $t for ${per}s"
	"$build/$t" "${args[@]}" "$corpus" >"$work/$t/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log" | tail -n 1)
	done_line=$(grep -E '^Done [0-9]+ runs' "$work/$t/log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$work/$t/log" | tail -n 1)
	line="$t: ${execs:-?} executions in ${per}s (${done_line:-no Done line}; ${cov:-no coverage line}), exit $rc"
	echo "run-fuzz: $line"
	summary+=("$line")
	if [ "$rc" -ne 0 ]; then
		failed+=("$t")
		echo "run-fuzz: $t FAILED; log $work/$t/log" >&2
		grep -E 'ERROR|assertion|SUMMARY|Test unit written' "$work/$t/log" | head -n 20 >&2
		for a in "$artifacts"/*; do
			[ -e "$a" ] && echo "run-fuzz: reproduce with: $build/$t $a" >&2
		done
	fi
done

echo "run-fuzz: ---- summary (total ${total}s) ----"
printf 'run-fuzz: %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "run-fuzz: FAILED: ${failed[*]} (work dir kept: $work)" >&2
	exit 1
fi
if [ "${PIDTUPLE_FUZZ_KEEP:-0}" = 1 ]; then
	echo "run-fuzz: work dir kept: $work"
else
	rm -rf "$work"
fi
echo "run-fuzz: all targets passed"
