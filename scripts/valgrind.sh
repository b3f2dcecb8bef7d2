#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# valgrind's memcheck over the test executables of a build tree (docs/valgrind.md):
#
#   scripts/valgrind.sh BUILD_DIR
#
# Runs, each process of each program under memcheck (Check's forked test processes, the
# PID-namespace helpers and the library's children included):
#   check_tuple   the pure suite, every test case
#   vg_api        the API walk (tests/valgrind/vg_api.c), as root, each step in its own PID
#                 namespace
#   pidtuple      the command's read-only subcommands
# The privileged Check suites need clone3() set_tid, which valgrind 3.19 does not have (nor
# pidfd_open()); they are listed as not run, and run here too once a valgrind has clone3.
#
# Every process must end with 0 errors and 0 bytes definitely or indirectly lost. Logs go to
# BUILD_DIR/valgrind-logs, one per program that all its processes append to (a file per PID
# would not do: PIDs repeat across the tests' PID namespaces). Exit: 0 all clean; 1 an error,
# a leak or a failing program; 2 bad usage; 77 skipped (no valgrind, or a sanitizer build,
# which valgrind cannot run).
set -u

if [ "$#" -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
supp=$src/scripts/valgrind.supp
logs=$build/valgrind-logs

if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind: not installed: skipped"
	exit 77
fi
if grep -q '^PIDTUPLE_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "valgrind: $build is a sanitizer build; ASan cannot run under valgrind: skipped"
	exit 77
fi
rm -rf "$logs"
mkdir -p "$logs"

# shellcheck disable=SC2054 # the commas are valgrind's, not array separators
vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
	--trace-children=yes --child-silent-after-fork=no --num-callers=40 --vgdb=no
	--suppressions="$supp"
	# Programs the library executes (/bin/true) are not ours to check.
	--trace-children-skip='/bin/*,/usr/bin/*')
# Check's per-test timeouts, scaled for valgrind's slowdown.
ck_env=(CK_FORK=yes CK_DEFAULT_TIMEOUT=30 CK_TIMEOUT_MULTIPLIER=10 CK_VERBOSITY=normal)

# The first line of a memcheck report.
report='^==[0-9]+== (Invalid |Syscall param|Conditional jump|Use of uninitialised|Mismatched|'
report+='Source and destination|Argument .* of function|[0-9,]+ (\([0-9,]+ direct, [0-9,]+ indirect\) )?bytes in [0-9,]+ blocks are (definitely|indirectly))'

# Valgrind 3.19 gives up on clang 14's DWARF 5 (DW_FORM_strx and friends): -gdwarf-4 helps.
unreadable_debuginfo='unhandled dwarf2 abbrev form code|Possibly corrupted debuginfo file'

passed=0
failed=0
unreadable=0
skipped=0
not_run=0
failures=()

# Sums one number over every process of a program: the ERROR SUMMARY count, or bytes lost.
sum_log() {
	local name=$1 pattern=$2 field=$3

	grep -E "$pattern" "$logs/$name.log" |
		awk -v f="$field" '{ gsub(",", "", $f); s += $f } END { print s + 0 }'
}

# run NAME EXPECTED_EXIT PROGRAM [ARG]... (environment from the array `env_extra`)
run() {
	local name=$1 want=$2 rc errors definite indirect procs verdict
	shift 2

	if [ ! -x "$1" ]; then
		printf '%-24s not built: skipped\n' "$name"
		skipped=$((skipped + 1))
		return
	fi
	: >"$logs/$name.log"
	env "${env_extra[@]}" "${vg[@]}" --log-fd=9 "$@" 9>>"$logs/$name.log" \
		>"$logs/$name.out" 2>&1
	rc=$?
	procs=$(grep -c 'ERROR SUMMARY:' "$logs/$name.log")
	errors=$(sum_log "$name" 'ERROR SUMMARY:' 4)
	definite=$(sum_log "$name" 'definitely lost:' 4)
	indirect=$(sum_log "$name" 'indirectly lost:' 4)
	if [ "$rc" -eq 77 ]; then
		verdict=SKIP
		skipped=$((skipped + 1))
	elif grep -q -E "$unreadable_debuginfo" "$logs/$name.log"; then
		verdict=UNREADABLE
		unreadable=$((unreadable + 1))
	elif [ "$errors" -ne 0 ] || [ "$definite" -ne 0 ] || [ "$indirect" -ne 0 ] ||
		[ "$rc" -ne "$want" ]; then
		verdict=FAIL
		failed=$((failed + 1))
		failures+=("$name")
	else
		verdict=PASS
		passed=$((passed + 1))
	fi
	printf '%-24s %s  exit %d, %d processes, %d errors, %d+%d B definitely+indirectly lost\n' \
		"$name" "$verdict" "$rc" "$procs" "$errors" "$definite" "$indirect"
	if [ "$verdict" = FAIL ]; then
		echo "---- $name: output (tail) ----"
		tail -n 30 "$logs/$name.out"
		echo "---- $name: first report ($logs/$name.log) ----"
		grep -A 40 -m 1 -E "$report" "$logs/$name.log"
		echo "----"
	fi
}

echo "valgrind: $(valgrind --version), logs in $logs"

env_extra=("${ck_env[@]}")
run check_tuple 0 "$build/tests/check_tuple"

env_extra=()
run vg_api 0 "$build/tests/valgrind/vg_api"

# Does clone3() set_tid work under this valgrind? vg_api says so in its last line.
vg_set_tid=no
grep -q 'set_tid yes' "$logs/vg_api.out" 2>/dev/null && vg_set_tid=yes

cli=$build/tools/pidtuple
env_extra=()
run cli-help 0 "$cli" --help
run cli-features 0 "$cli" features
run cli-features-json 0 "$cli" features --json
run cli-check-syntax 2 "$cli" check 4242/x
run cli-next-pid 0 "$cli" next-pid

env_extra=("${ck_env[@]}")
for exe in "$build"/tests/check_*; do
	[ -x "$exe" ] || continue
	name=$(basename "$exe")
	[ "$name" = check_tuple ] && continue
	if [ "$vg_set_tid" = yes ]; then
		run "$name" 0 "$exe"
	else
		printf '%-24s not run: needs clone3() set_tid, which this valgrind lacks\n' "$name"
		not_run=$((not_run + 1))
	fi
done
if [ -x "$build/json/check_tree_json" ]; then
	printf '%-24s not run here: ctest check_tree_json-valgrind runs it\n' check_tree_json
fi

echo
echo "valgrind: $passed clean, $failed failed, $skipped skipped, $not_run not run" \
	"(no clone3 under valgrind: the ASan+UBSan stage covers them)"
if [ "$failed" -gt 0 ]; then
	echo "valgrind: failed: ${failures[*]}"
	exit 1
fi
if [ "$unreadable" -gt 0 ]; then
	echo "valgrind: $unreadable programs not checked: this valgrind cannot read their debug" \
		"info (clang's DWARF 5?); build with -gdwarf-4: skipped"
	exit 77
fi
if [ "$passed" -eq 0 ]; then
	echo "valgrind: nothing ran"
	exit 77
fi
exit 0
