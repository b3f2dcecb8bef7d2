#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The whole test suite, as CI runs it (.ci/run). Stages:
#   deps   scripts/deps.sh
#   gcc    build/gcc,   gcc,   RelWithDebInfo, all tests
#   clang  build/clang, clang, RelWithDebInfo, without the BPF scan (-DPIDTUPLE_WITH_BPF=OFF:
#          no BPF object, so the /proc scan is the default), all tests
#   asan   build/asan,  gcc,   ASan+UBSan (PIDTUPLE_SANITIZE=ON), tests not labelled noasan
#   fuzz   libFuzzer (clang, ASan+UBSan): every parser's target, a minute in all
# Every stage runs even when an earlier one failed; the last line is the stage summary. The
# test "unprivileged" (in gcc and clang) runs the pure suite and the CLI's read commands as
# nobody; everything else runs as the caller (root in CI: the privileged suites need it).
set -u

cd "$(dirname "$0")/.." || exit 1

jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
failed_stages=()

banner() {
	echo
	echo "=============================================================================="
	echo "== $*"
	echo "=============================================================================="
}

stage() {
	local name=$1
	shift
	banner "stage $name"
	if "$@"; then
		echo "== stage $name: PASSED"
		passed=$((passed + 1))
	else
		echo "== stage $name: FAILED"
		failed=$((failed + 1))
		failed_stages+=("$name")
	fi
}

# build_and_test DIR CC CXX CTEST_EXTRA_ARGS... -- CMAKE_EXTRA_ARGS...
build_and_test() {
	local dir=$1 cc=$2 cxx=$3
	shift 3
	local ctest_args=() cmake_args=()
	while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
		ctest_args+=("$1")
		shift
	done
	[ "$#" -gt 0 ] && shift
	cmake_args=("$@")

	CC=$cc CXX=$cxx cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_args[@]}" &&
		cmake --build "$dir" -j "$jobs" &&
		ctest --test-dir "$dir" --output-on-failure -j2 "${ctest_args[@]}"
}

stage deps sh scripts/deps.sh
stage gcc build_and_test build/gcc gcc g++
stage clang build_and_test build/clang clang clang++ -LE "debian|kmatrix" -- -DPIDTUPLE_WITH_BPF=OFF
stage asan build_and_test build/asan gcc g++ -LE noasan -- -DPIDTUPLE_SANITIZE=ON
stage fuzz scripts/run-fuzz.sh 60

banner "summary"
if [ "$failed" -gt 0 ]; then
	echo "failed stages: ${failed_stages[*]}"
fi
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
