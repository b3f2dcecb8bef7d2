#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple capture and restore, as PID 1 of a private PID namespace: a tree with a nested PID
# namespace, a process group and sessions is captured, killed, restored from the JSON and
# captured again; the two descriptions must be identical.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE
tab=$'\t'

# pidtuple restore ARG..., expected to succeed, with its output in files. Sets $out and $err.
restore_ok() {
	local what=$1 got
	shift
	"$P" restore "$@" >"$t_tmp/restore.out" 2>"$t_tmp/restore.err"
	got=$?
	out=$(<"$t_tmp/restore.out")
	err=$(<"$t_tmp/restore.err")
	if [ "$got" -ne 0 ]; then
		fail "$what: exit $got, want 0 (stderr: '$err')"
		return 1
	fi
}

# True while a process of the original tree is still perl or setsid, or a bash that has
# forked and not yet executed its command (only 1, 300 and 310 stay bash): its group or
# session is about to change.
unsettled() {
	"$P" ps -r -n -o PID,COMM 2>/dev/null | awk '$2 == "perl" || $2 == "setsid" ||
		($2 == "bash" && $1 != 1 && $1 != 300 && $1 != 310) { f = 1 } END { exit !f }'
}

# Waits until `restore --wait` has printed its N lines into FILE: the tree is created and
# released (capture sees the processes earlier, at the barrier, while a kill is a failure).
restored_when() {
	local n=$1 file=$2
	for _ in $(seq 200); do
		[ -s "$file" ] && [ "$(wc -l <"$file")" -eq "$n" ] && return 0
		sleep 0.05
	done
	fail "restore --wait did not print $n lines: $(cat "$file")"
	return 1
}

# Waits until capturing PID gives N nodes, into FILE.
capture_when() {
	local pid=$1 n=$2 file=$3 got=0
	for _ in $(seq 200); do
		if ! unsettled && "$P" capture "$pid" >"$file" 2>/dev/null; then
			got=$(tree_pids "$file" | wc -l)
			[ "$got" -eq "$n" ] && return 0
		fi
		sleep 0.05
	done
	fail "capture $pid: $got nodes, want $n"
	return 1
}

# ---- the original tree ----------------------------------------------------------------------
# 300 is a session leader (setsid in place: it is not a group leader) with five children: a
# sleep in its group, a sleep in a session of its own, a process group of its own (perl's
# setpgrp), and pidtuple run, whose child 310/1 is the init of a new PID namespace and leads a
# session there with two sleeping children. Eight processes, all under 300.
# shellcheck disable=SC2016 # for the inner shells
"$P" run 300 -- setsid bash -c '
	sleep 1000 &
	setsid sleep 1000 &
	perl -e "setpgrp; exec @ARGV" sleep 1000 &
	"$1" run --newpid 310/1 -- setsid bash -c "sleep 1000 & sleep 1000 & wait" &
	wait' tree "$P" &
runner=$!

if ! capture_when 300 8 "$t_tmp/tree1.json"; then
	# Nothing below can run; the namespace's end kills what is left.
	kill -KILL 300 2>/dev/null
	wait "$runner"
	finish
fi
expect_match "$(<"$t_tmp/tree1.json")" '"format": "libpidtuple-tree"' "capture: format"
expect_match "$(<"$t_tmp/tree1.json")" '"tuple": "310/1"' "capture: the nested init"
expect_match "$(<"$t_tmp/tree1.json")" '"newpid": true' "capture: the new namespace"
expect_eq "$(tree_pids "$t_tmp/tree1.json" | head -n 1)" 300 "capture: the root first"
# --compact is the same text without the layout.
expect_status 0 "capture --compact" -- "$P" capture --compact 300 &&
	expect_eq "$out" "$(tr -d ' \n' <"$t_tmp/tree1.json")" "capture --compact"

# The live tree's PIDs are taken: restoring it now fails, and says which node.
expect_status 1 "restore --check of a live tree" -- "$P" restore --check "$t_tmp/tree1.json" &&
	expect_match "$err" "cannot be restored here: PID already in use (rule pid-taken)" \
		"restore --check of a live tree" &&
	expect_match "$err" "node 0" "restore --check names the node"
expect_status 1 "restore --check --json of a live tree" -- \
	"$P" restore --json --check "$t_tmp/tree1.json" &&
	expect_json_error "restore --check --json" errno=17 rule='"pid-taken"' node=0 pid=300 &&
	expect_json "restore --check --json: verdict" \
		'd["valid"] is False and d["file"].endswith("tree1.json")'
expect_status 1 "restore --json of a live tree" -- "$P" restore "$t_tmp/tree1.json" --json &&
	expect_json_error "restore --json" errno=17 node=0
expect_status 1 "restore of a live tree" -- "$P" restore "$t_tmp/tree1.json" &&
	expect_match "$err" "cannot restore" "restore of a live tree"

kill_captured "$t_tmp/tree1.json"
wait "$runner"
expect_eq "$?" 137 "pidtuple run of the killed root"

# ---- restore, capture again, compare ----------------------------------------------------
expect_status 0 "restore --check of a free tree" -- "$P" restore --check "$t_tmp/tree1.json" &&
	expect_eq "$out" "$t_tmp/tree1.json: valid (8 processes)" "restore --check"
expect_status 0 "restore --check --json of a free tree" -- \
	"$P" restore --check --json "$t_tmp/tree1.json" &&
	expect_json "restore --check --json" \
		"d == {'file': '$t_tmp/tree1.json', 'valid': True, 'nodes': 8, 'unverified': 0}"
if restore_ok "restore" "$t_tmp/tree1.json"; then
	expect_eq "$(wc -l <<<"$out")" 8 "restore: one line per process"
	expect_eq "$(head -n 1 <<<"$out")" "300${tab}300" "restore: the root's line"
	expect_match "$out" "310${tab}310/1" "restore: the nested init's line"
	expect_eq "$(cut -f 1 <<<"$out")" "$(tree_pids "$t_tmp/tree1.json")" \
		"restore: the PIDs, in the order of the file"
	capture_when 300 8 "$t_tmp/tree2.json" &&
		if ! cmp -s "$t_tmp/tree1.json" "$t_tmp/tree2.json"; then
			fail "capture after restore differs: $(diff "$t_tmp/tree1.json" "$t_tmp/tree2.json")"
		fi
	kill_captured "$t_tmp/tree1.json"
fi

# From standard input, the compact form: the same tree.
tr -d ' \n' <"$t_tmp/tree1.json" >"$t_tmp/compact.json"
if restore_ok "restore -" - <"$t_tmp/compact.json"; then
	capture_when 300 8 "$t_tmp/tree3.json" &&
		expect_eq "$(cat "$t_tmp/tree3.json")" "$(cat "$t_tmp/tree1.json")" "restore - then capture"
	kill_captured "$t_tmp/tree1.json"
fi

# --share-vm: the same tree, its leaves sharing their parents' memory, captured the same.
if restore_ok "restore --share-vm" --share-vm "$t_tmp/tree1.json"; then
	expect_eq "$(cut -f 1 <<<"$out")" "$(tree_pids "$t_tmp/tree1.json")" \
		"restore --share-vm: the PIDs, in the order of the file"
	capture_when 300 8 "$t_tmp/tree4.json" &&
		expect_eq "$(cat "$t_tmp/tree4.json")" "$(cat "$t_tmp/tree1.json")" \
			"restore --share-vm then capture"
	kill_captured "$t_tmp/tree1.json"
fi

# ---- x=$(pidtuple restore FILE) -------------------------------------------------------------
# Hold nodes keep none of pidtuple's files (their 0, 1 and 2 are /dev/null), so a command
# substitution returns once pidtuple exits, not when the tree does. In the background with a
# deadline: were the pipe held, it would wait for the tree.
rm -f "$t_tmp/subst.done"
(
	x=$("$P" restore "$t_tmp/tree1.json" 2>"$t_tmp/subst.err")
	printf '%s\n' "$x" >"$t_tmp/subst.out"
	: >"$t_tmp/subst.done"
) &
sub=$!
for _ in $(seq 300); do
	[ -e "$t_tmp/subst.done" ] && break
	sleep 0.05
done
if [ -e "$t_tmp/subst.done" ]; then
	expect_eq "$(wc -l <"$t_tmp/subst.out")" 8 "x=\$(pidtuple restore): one line per process"
	expect_eq "$(head -n 1 "$t_tmp/subst.out")" "300${tab}300" "x=\$(pidtuple restore): the root"
else
	fail "x=\$(pidtuple restore) did not return: the tree holds its standard output"
fi
kill_captured "$t_tmp/tree1.json"
wait "$sub"

# ---- --wait ---------------------------------------------------------------------------------
# pidtuple stays with the tree; a SIGTERM to it kills the whole tree (128+15).
"$P" restore --wait "$t_tmp/tree1.json" >"$t_tmp/wait1.out" &
bg=$!
restored_when 8 "$t_tmp/wait1.out"
kill -TERM "$bg"
wait "$bg"
expect_eq "$?" 143 "restore --wait, SIGTERM"
kill_captured "$t_tmp/tree1.json"
# The root killed directly: pidtuple exits with 128+9; the rest lives on.
"$P" restore --wait "$t_tmp/tree1.json" >"$t_tmp/wait2.out" &
bg=$!
restored_when 8 "$t_tmp/wait2.out"
kill -KILL 300
wait "$bg"
expect_eq "$?" 137 "restore --wait, root killed"
kill_captured "$t_tmp/tree1.json"

# ---- descriptions that are wrong ------------------------------------------------------------
expect_status 2 "restore without FILE" -- "$P" restore
expect_status 2 "restore --check --wait" -- "$P" restore --check --wait "$t_tmp/tree1.json"
expect_status 2 "capture without PID" -- "$P" capture
expect_status 2 "capture of a non-PID" -- "$P" capture 12x
expect_status 1 "capture of a missing process" -- "$P" capture 4000 &&
	expect_match "$err" "cannot read the tree of PID 4000" "capture 4000"
expect_status 1 "capture --json of a missing process" -- "$P" capture 4000 --json &&
	expect_json_error "capture 4000 --json" errno=3 errno_name='"ESRCH"' pid=4000 rule=null
expect_status 2 "capture --json of a non-PID" -- "$P" capture --json 12x &&
	expect_json_error "capture --json 12x" usage=true message="\"'12x' is not a PID\""
expect_status 1 "restore of a missing file" -- "$P" restore "$t_tmp/none.json" &&
	expect_match "$err" "cannot read $t_tmp/none.json" "restore of a missing file"
expect_status 1 "restore --json of a missing file" -- "$P" restore --json "$t_tmp/none.json" &&
	expect_json_error "restore --json of a missing file" errno=2 rule=null
printf '{"format": "libpidtuple-tree", "version": 1,\n "nodes": [}\n' >"$t_tmp/bad.json"
expect_status 1 "restore of bad JSON" -- "$P" restore "$t_tmp/bad.json" &&
	expect_match "$err" "bad.json is not a tree description: syntax error (rule syntax)" \
		"restore of bad JSON: headline" &&
	expect_match "$err" "pidtuple: restore: not valid JSON at line 2, column 12" \
		"restore of bad JSON: why"
expect_status 1 "restore --json of bad JSON" -- "$P" restore --json "$t_tmp/bad.json" &&
	expect_json_error "restore --json of bad JSON" errno=22 rule='"syntax"'

sed 's/"kind": "hold"/"kind": "hold", "comm": "sleep"/' "$t_tmp/tree1.json" >"$t_tmp/bad.json"
expect_status 1 "restore of an unknown member" -- "$P" restore "$t_tmp/bad.json" &&
	expect_match "$err" "nodes[0].comm: unknown member" "restore of an unknown member"
sed 's/"version": [0-9]*/"version": 3/' "$t_tmp/tree1.json" >"$t_tmp/bad.json"
expect_status 1 "restore of version 3" -- "$P" restore "$t_tmp/bad.json" &&
	expect_match "$err" "version: 3 is not supported" "restore of version 3"
printf '{"format": "libpidtuple-tree", "version": 1, "nodes": []}\0 junk' >"$t_tmp/bad.json"
expect_status 1 "restore of a file with a NUL" -- "$P" restore "$t_tmp/bad.json" &&
	expect_match "$err" "contains a NUL byte" "restore of a file with a NUL"
# Nothing was created by the failures.
expect_status 0 "PIDs still free" -- "$P" restore --check "$t_tmp/tree1.json"

finish
