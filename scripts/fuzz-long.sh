#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Long fuzzing with a persistent corpus (not run in CI; CI runs scripts/run-fuzz.sh, which
# replays the committed corpus in tests/fuzz/corpus and fuzzes for a minute).
#
#   scripts/fuzz-long.sh SECONDS_PER_TARGET [TARGET...]
#
# Each target runs for SECONDS_PER_TARGET on one core from its persistent corpus
# ($PIDTUPLE_FUZZ_CORPUS, default build/fuzz-corpus/TARGET, seeded from the committed corpus
# on first use and kept between runs). Prints per target: executions, executions per second,
# coverage (cov: edges, ft: features, corp: inputs). With PIDTUPLE_FUZZ_MINIMIZE=1 the
# persistent corpus is then merged into tests/fuzz/corpus/TARGET (libFuzzer -merge=1: only
# inputs that add coverage beyond what is there), ready to commit, so that CI replays what a
# long run found.
# Exits non-zero when a target crashed, leaked or timed out; the inputs are kept and named.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=${PIDTUPLE_FUZZ_BUILD_DIR:-$root/build/fuzz}
store=${PIDTUPLE_FUZZ_CORPUS:-$root/build/fuzz-corpus}
# shellcheck source=../tests/fuzz/targets.sh
. "$root/tests/fuzz/targets.sh"

if [ $# -lt 1 ] || ! [ "$1" -gt 0 ] 2>/dev/null; then
	echo "usage: $0 SECONDS_PER_TARGET [TARGET...]" >&2
	exit 2
fi
secs=$1
shift
[ $# -gt 0 ] || set -- $fuzz_targets

PIDTUPLE_FUZZ_BUILD_ONLY=1 PIDTUPLE_FUZZ_BUILD_DIR=$build "$root/scripts/run-fuzz.sh" || exit $?

failed=()
for t in "$@"; do
	corpus=$store/$t
	artifacts=$store/$t-artifacts
	log=$store/$t.log
	if [ ! -d "$corpus" ]; then
		mkdir -p "$corpus"
		cp -R "$root/tests/fuzz/corpus/$t/." "$corpus/"
	fi
	mkdir -p "$artifacts"
	args=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
		-max_len="${fuzz_max_len[$t]:-4096}" -artifact_prefix="$artifacts/")
	[ -f "$root/tests/fuzz/$t.dict" ] && args+=(-dict="$root/tests/fuzz/$t.dict")
	echo "fuzz-long: $t for ${secs}s from $(find "$corpus" -type f | wc -l) inputs"
	"$build/$t" "${args[@]}" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
	echo "fuzz-long: $t: ${execs:-?} executions, $((${execs:-0} / secs))/s, ${cov:-no coverage line}, exit $rc"
	if [ "$rc" -ne 0 ]; then
		failed+=("$t")
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 10 >&2
		continue
	fi
	if [ "${PIDTUPLE_FUZZ_MINIMIZE:-0}" = 1 ]; then
		dest=$root/tests/fuzz/corpus/$t
		# Into the committed corpus, which keeps its named seeds: only inputs that add
		# coverage beyond them are written (named by their hash).
		"$build/$t" -merge=1 -max_len="${fuzz_max_len[$t]:-4096}" "$dest" "$corpus" \
			>"$log.merge" 2>&1 || { echo "fuzz-long: $t: merge failed ($log.merge)" >&2; exit 1; }
		echo "fuzz-long: $t: committed corpus now $(find "$dest" -type f | wc -l) inputs, $(du -sh "$dest" | cut -f1)"
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz-long: FAILED: ${failed[*]} (inputs in $store/TARGET-artifacts)" >&2
	exit 1
fi
echo "fuzz-long: all targets passed"
