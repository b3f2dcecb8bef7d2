#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple import-criu as a check before criu restore, as PID 1 of a private PID namespace:
# the images of tests/data/criu fit; with a PID of the subtree image taken (by a sleep
# created with exactly that PID), 'import-criu DIR | restore --check -' and
# 'import-criu --check DIR' name the node; with a thread ID taken, 'import-criu --check DIR'
# names the process, the thread and the TID.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE
data=${PIDTUPLE_CRIU_DATA:-$(cd "$(dirname "$0")/../../tests/data/criu" && pwd)}

# import_check DIR: 'import-criu DIR | restore --check -', its output in $out and $err.
import_check() {
	local got
	"$P" import-criu "$1" >"$t_tmp/tree.json" || { fail "import $1"; return 1; }
	"$P" restore --check - <"$t_tmp/tree.json" >"$t_tmp/out" 2>"$t_tmp/err"
	got=$?
	out=$(<"$t_tmp/out")
	err=$(<"$t_tmp/err")
	return "$got"
}

# The host's /proc is mounted here: a PID of this namespace is found with 'pidtuple check'.
wait_taken() {
	for _ in $(seq 200); do
		"$P" check "$1" >/dev/null 2>&1 || return 0
		sleep 0.05
	done
	fail "PID $1 was not taken"
}

release() {
	kill -TERM "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	holder=
}

# ---- nothing taken ---------------------------------------------------------------------------
for d in sessions threads subtree; do
	import_check "$data/$d" || fail "$d: restore --check: '$err'"
	expect_status 0 "import-criu --check $d" -- "$P" import-criu --check "$data/$d"
done
expect_eq "$out" "$data/subtree: valid (4 processes, 7 threads)" "--check subtree: stdout"
expect_status 0 "import-criu --check threads" -- "$P" import-criu --check "$data/threads" &&
	expect_match "$err" "note: the root is PID 1: 'criu restore' creates a new PID namespace" \
		"--check threads: note"

# ---- a PID taken: node 1 of the subtree image is process 5053 ----------------------------------
"$P" run 5053 -- sleep 1000 &
holder=$!
wait_taken 5053
if import_check "$data/subtree"; then
	fail "restore --check passed with PID 5053 taken"
else
	expect_match "$err" "(rule pid-taken)" "restore --check: rule" &&
		expect_match "$err" "node 1 (5053)" "restore --check: node"
fi
expect_status 1 "import-criu --check with PID 5053 taken" -- \
	"$P" import-criu --check "$data/subtree" &&
	expect_match "$err" "(rule pid-taken)" "import-criu --check: rule" &&
	expect_match "$err" "node 1 (5053)" "import-criu --check: node" &&
	expect_match "$err" "node 1 is process 5053 (python3) of pstree.img" \
		"import-criu --check: process"
# A whole-namespace image is restored into a new namespace: nothing here can take its PIDs.
"$P" run 42 -- sleep 1000 &
holder2=$!
wait_taken 42
import_check "$data/threads" || fail "threads with PID 42 taken here: '$err'"
kill -TERM "$holder2"
wait "$holder2" 2>/dev/null
release

# ---- a TID taken: thread 5056 of process 5054 (node 3) ---------------------------------------
"$P" run 5056 -- sleep 1000 &
holder=$!
wait_taken 5056
# The image's threads are the nodes' threads: restore --check finds the taken TID too.
if import_check "$data/subtree"; then
	fail "restore --check passed with TID 5056 taken"
else
	expect_match "$err" "node 3 thread 1 (5056): TID 5056 (NSpid field 1 of 1) is already in use" \
		"restore --check: the thread"
fi
expect_status 1 "import-criu --check with TID 5056 taken" -- \
	"$P" import-criu --check "$data/subtree" &&
	expect_match "$err" "its thread 1 is thread 5056 (python3) of process 5054 in pstree.img" \
		"import-criu --check: thread" &&
	expect_match "$err" "(rule pid-taken)" "import-criu --check: rule" &&
	expect_match "$err" "TID 5056 (NSpid field 1 of 1) is already in use" \
		"import-criu --check: TID"
expect_eq "$out" "" "import-criu --check with TID 5056 taken: stdout"
release

finish
