#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# --ns: run, check and restore into a PID namespace held by another process (a "container"
# whose init is a sleep), as PID 1 of a private PID namespace. pidtuple stays outside: the
# processes are born in the container, taken PIDs inside it are found, and the level above it
# (this namespace) is checked as well, not left to the kernel.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE
data=${PIDTUPLE_CRIU_DATA:-$(cd "$(dirname "$0")/../../tests/data/criu" && pwd)}

# The container: its init is PID 30 here and 1 inside.
"$P" run --newpid 30/1 -- sleep 1000 &
runner=$!
# The host's /proc is mounted here: PIDs of this namespace are seen with 'pidtuple check'.
for _ in $(seq 200); do
	"$P" check 30 >/dev/null 2>&1 || break
	sleep 0.05
done

expect_status 0 "check --ns of a free tuple" -- "$P" check --ns 30 40/7 &&
	expect_eq "$out" "40/7: valid" "check --ns 30 40/7: stdout" &&
	expect_eq "$err" "" "check --ns 30 40/7: no unverified note"
expect_status 1 "check --ns: PID 1 inside is the container's init" -- "$P" check --ns 30 40/1 &&
	expect_match "$err" "PID 1 (NSpid field 2 of 2) is already in use" "check --ns 40/1"
# The level above the container, this namespace, is checked too.
expect_status 1 "check --ns: the outer PID is taken here" -- "$P" check --ns 30 30/7 &&
	expect_match "$err" "PID 30 (NSpid field 1 of 2) is already in use" "check --ns 30/7"
# A namespace file: this namespace's own is allowed too (the caller's active one).
expect_status 0 "check --ns by namespace file" -- "$P" check --ns /proc/self/ns/pid 7
expect_status 1 "check --ns: not a PID namespace" -- "$P" check --ns /proc/self/ns/net 7 &&
	expect_match "$err" "a namespace of another type, not a PID namespace" "--ns net"
expect_status 1 "check --ns: no such process" -- "$P" check --ns 999999 7 &&
	expect_match "$err" "--ns 999999: cannot open that process" "--ns 999999"
expect_status 1 "check --json --ns: the rule" -- "$P" check --json --ns /proc/self/ns/net 7 &&
	expect_json "check --json --ns net" 'd["error"]["rule"] == "join-ns"'

# run: the command is born in the container with exactly 41/9, pidtuple stays here.
expect_status 0 "run --ns" -- "$P" run --ns 30 41/9 -- sh -c 'exec grep NSpid /proc/self/status' &&
	expect_match "$out" $'\t41\t9' "run --ns: the command's PIDs"
expect_status 0 "run --ns keeps pidtuple's own children here" -- \
	sh -c "\"$P\" run --ns 30 9 -- true && \"$P\" run 43 -- sh -c 'exec grep NSpid /proc/self/status'"
expect_match "$out" $'\t43' "after run --ns: children are born here again"

# restore: a tree into the container, then the same tree is refused there.
cat >"$t_tmp/tree.json" <<'JSON'
{ "format": "libpidtuple-tree", "version": 1, "nodes": [
 {"tuple": "50/5", "parent": -1, "newpid": false, "pgid": [50, 5], "sid": [50, 5], "kind": "hold"},
 {"tuple": "51/6", "parent": 0, "newpid": false, "pgid": [50, 5], "sid": [50, 5], "kind": "hold"}
]}
JSON
expect_status 0 "restore --check --ns" -- "$P" restore --check --ns 30 "$t_tmp/tree.json"
expect_status 0 "restore --ns" -- "$P" restore --ns 30 "$t_tmp/tree.json" &&
	expect_eq "$out" $'50\t50/5\n51\t51/6' "restore --ns: the processes"
expect_status 1 "restore --check --ns of a tree now there" -- \
	"$P" restore --check --ns 30 "$t_tmp/tree.json" &&
	expect_match "$err" "node 0 (50/5): PID 5 (NSpid field 2 of 2) is already in use" \
		"restore --check --ns: names the inner level"
kill -KILL 50 51 2>/dev/null

# A CRIU image checked against the container: its process 5053 is PID 5053 inside.
"$P" import-criu "$data/subtree" >"$t_tmp/criu.json" || fail "import-criu subtree"
expect_status 0 "restore --check --ns of a CRIU image" -- \
	"$P" restore --check --ns 30 "$t_tmp/criu.json"
"$P" run --ns 30 60/5053 -- sleep 1000 &
holder=$!
for _ in $(seq 200); do
	"$P" check --ns 30 5053 >/dev/null 2>&1 || break
	sleep 0.05
done
expect_status 1 "restore --check --ns of a CRIU image, PID taken inside" -- \
	"$P" restore --check --ns 30 "$t_tmp/criu.json" &&
	expect_match "$err" "node 1 (5053)" "restore --check --ns: the CRIU node"
expect_status 1 "import-criu --check --ns, PID taken inside" -- \
	"$P" import-criu --check --ns 30 "$data/subtree" &&
	expect_match "$err" "node 1 is process 5053 (python3) of pstree.img" \
		"import-criu --check --ns: the process"
expect_status 0 "import-criu --check: PID 5053 is free here" -- \
	"$P" import-criu --check "$data/subtree"
expect_status 2 "import-criu --ns without --check" -- \
	"$P" import-criu --ns 30 "$data/subtree" &&
	expect_match "$err" "--ns needs --check" "import-criu --ns alone"
kill -TERM "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

kill -TERM "$runner" 2>/dev/null
kill -KILL 30 2>/dev/null
wait "$runner" 2>/dev/null
finish
