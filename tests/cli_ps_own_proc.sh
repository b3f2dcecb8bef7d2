#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple ps with a /proc of its own PID namespace, where it reads each command name with one
# read of /proc/PID/comm (or /proc/PID/stat for --no-kthreads) instead of going through a
# pidfd (the CLI tests in tools/tests run with the outer /proc, the other way). Runs as PID 1
# of a private PID namespace with its own /proc mount; checks the names and PIDs of processes
# it started, one of them named with a backslash (which /proc/PID/stat may escape: read from
# comm then). Needs root: exit 77 otherwise, except under CI=true, where that is a failure.
# Environment: PIDTUPLE (the CLI).
set -u

if [ -z "${PIDTUPLE_OWN_PROC:-}" ]; then
	if [ "$(id -u)" -ne 0 ] ||
		! unshare --pid --fork --kill-child --mount-proc -- true 2>/dev/null; then
		echo "SKIP: ${0##*/}: needs root, PID and mount namespaces" >&2
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
	PIDTUPLE_OWN_PROC=1 exec unshare --pid --fork --kill-child --mount-proc -- \
		"$BASH" "$0" "$@"
fi

P=${PIDTUPLE:?PIDTUPLE is not set}
tmp=$(mktemp -d /tmp/pidtuple-ownproc.XXXXXX) || exit 1
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; rm -rf "$tmp"' EXIT
failed=0
fail() {
	echo "FAIL: ${0##*/}: $*" >&2
	failed=1
}

# A plain sleep, and one whose command name holds a backslash.
weird='we\ird'
cp "$(command -v sleep)" "$tmp/$weird" || exit 1
sleep 1000 &
pids+=($!)
"$tmp/$weird" 1000 &
pids+=($!)

[ "$(awk '/^NSpid:/ {print NF}' /proc/self/status)" = 2 ] ||
	fail "/proc is not this namespace's: $(grep NSpid /proc/self/status)"

# check WHAT ARGS...: ps --json with ARGS lists both sleeps with their names, and PID 1.
check() {
	local what=$1
	shift
	if ! "$P" ps --json "$@" >"$tmp/out" 2>"$tmp/err"; then
		fail "$what: exit $?: $(cat "$tmp/err")"
		return
	fi
	[ ! -s "$tmp/err" ] || fail "$what: wrote to stderr: $(cat "$tmp/err")"
	python3 - "$tmp/out" "${pids[0]}" "${pids[1]}" "$weird" <<'EOF' || fail "$what: $(cat "$tmp/out")"
import json, sys
ps = {p["pid"]: p for p in json.load(open(sys.argv[1]))["processes"]}
want = {1: "bash", int(sys.argv[2]): "sleep", int(sys.argv[3]): sys.argv[4]}
for pid, comm in want.items():
    assert pid in ps, f"PID {pid} missing"
    assert ps[pid]["comm"] == comm, f"PID {pid}: comm {ps[pid]['comm']!r}, want {comm!r}"
    assert ps[pid]["tuple"] == [pid], ps[pid]
EOF
}

check "ps --json"
check "ps --json --no-kthreads" --no-kthreads
check "ps --json -o PID,TUPLE,COMM" -o PID,TUPLE,COMM

# Without COMM no name is read; the list is the same.
if "$P" ps --json -o PID,TUPLE >"$tmp/out" 2>"$tmp/err"; then
	python3 - "$tmp/out" "${pids[0]}" "${pids[1]}" <<'EOF' || fail "ps -o PID,TUPLE: $(cat "$tmp/out")"
import json, sys
ps = {p["pid"]: p for p in json.load(open(sys.argv[1]))["processes"]}
assert int(sys.argv[2]) in ps and int(sys.argv[3]) in ps and 1 in ps, ps
assert all(set(p) == {"pid", "tuple"} for p in ps.values()), ps
EOF
else
	fail "ps --json -o PID,TUPLE: exit $?: $(cat "$tmp/err")"
fi

# The table shows the same names.
out=$("$P" ps -o PID,COMM --noheadings) || fail "ps -o PID,COMM: exit $?"
grep -Eq "^ *${pids[1]} we\\\\ird\$" <<<"$out" || fail "ps -o PID,COMM: no '$weird': $out"

[ "$failed" -eq 0 ] && echo "PASS: ${0##*/}"
exit "$failed"
