#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Threads, as PID 1 of a private PID namespace: a tree whose root and whose nested namespace's
# init have more threads is drawn by `pidtuple tree --threads` (text and JSON), captured with
# its threads (format version 2), checked, killed, restored with the same TIDs and captured
# again; a description whose thread claims a taken TID is refused by `restore --check`, which
# names the node, the thread and the level.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE

# tids PID: the TIDs here of PID's threads other than PID itself, by TID, one per line; and
# tid_tuples PID: their TID tuples, likewise (from `pidtuple ps --threads`).
tids() {
	"$P" ps --threads -r -n -o PID,TID 2>/dev/null | awk -v p="$1" '$1 == p && $2 != p { print $2 }'
}
tid_tuples() {
	"$P" ps --threads -r -n -o PID,TID,TUPLE 2>/dev/null |
		awk -v p="$1" '$1 == p && $2 != p { print $3 }'
}

# $out with runs of spaces squeezed and no trailing space, as cli_pstree.sh compares trees.
squeeze() { sed 's/  */ /g; s/ $//' <<<"$out"; }

# json_nodes FILE EXPR: the Python expression EXPR is true of the "nodes" of FILE (as `n`).
json_nodes() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
n = d["nodes"]
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"
}

# Kills every process of the tree and waits until restore --check finds its PIDs free.
kill_tree() {
	kill -KILL 300 "$mid" 310 2>/dev/null
	for _ in $(seq 200); do
		"$P" restore --check "$t_tmp/tree1.json" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "the PIDs of the tree did not become free"
	return 1
}

# ---- the tree ---------------------------------------------------------------------------------
# 300 is python3 with two more threads; it starts pidtuple run, whose child 310/1 is the init
# of a new PID namespace and python3 with one more thread. Three processes, six threads.
# shellcheck disable=SC2016 # Python, not shell
threaded='
import subprocess, sys, threading, time
for _ in range(int(sys.argv[1])):
    threading.Thread(target=threading.Event().wait, daemon=True).start()
if sys.argv[2:]:
    subprocess.Popen(sys.argv[2:])
time.sleep(1000)'
"$P" run 300 -- python3 -c "$threaded" 2 "$P" run --newpid 310/1 -- python3 -c "$threaded" 1 &
runner=$!

up=
for _ in $(seq 200); do
	mid=$("$P" ps -r -n -o PID,PPID,COMM 2>/dev/null | awk '$2 == 300 && $3 == "pidtuple" { print $1 }')
	if [ -n "$mid" ] && [ "$(tids 300 | wc -l)" -eq 2 ] && [ "$(tids 310 | wc -l)" -eq 1 ]; then
		up=1
		break
	fi
	sleep 0.05
done
if [ -z "$up" ]; then
	fail "the tree did not come up: $("$P" ps --threads 2>&1)"
	kill -KILL 300 310 2>/dev/null
	wait "$runner"
	finish
fi
mapfile -t t300 < <(tids 300)
t310=$(tid_tuples 310)

# ---- tree --threads ---------------------------------------------------------------------------
# A thread's line is below its process, before the process's children, by TID: its TID tuple,
# the command name in braces, no NEWPID. Runs of spaces squeezed, as in cli_pstree.sh.
want="python3 300 -
|-{python3} ${t300[0]} -
|-{python3} ${t300[1]} -
\`-pidtuple $mid -
 \`-python3 310/1 new
 \`-{python3} $t310 -"
expect_status 0 "tree --threads 300" -- "$P" tree --threads -n 300 &&
	expect_eq "$(squeeze)" "$want" "tree --threads 300"
expect_status 0 "tree 300 without --threads" -- "$P" tree -n 300 &&
	expect_eq "$(wc -l <<<"$out")" 3 "tree 300: processes only"
expect_status 0 "tree --threads -r" -- "$P" tree --threads -r -n -o PID,TID,TUPLE,NEWPID,COMM 300 &&
	expect_eq "$(grep -c '^310 ' <<<"$out")" 2 "tree --threads -r: 310 and its thread" &&
	expect_match "$out" "310 ${t310%%/*} $t310 - {python3}" "tree --threads -r: the thread of 310"
# In JSON a thread is an object among its process's children, with its own "tid".
expect_status 0 "tree --threads --json 300" -- "$P" tree --threads --json 300 &&
	expect_json "tree --threads --json 300" "
d['processes'][0]['pid'] == d['processes'][0]['tid'] == 300 and
[c['tid'] for c in d['processes'][0]['children']] == [${t300[0]}, ${t300[1]}, $mid] and
all(c['pid'] == 300 and c['comm'] == 'python3' and c['newpid'] is False and
    c['tuple'] == [c['tid']] for c in d['processes'][0]['children'][:2]) and
d['processes'][0]['children'][2]['children'][0]['children'][0]['tuple'] ==
    [int(x) for x in '$t310'.split('/')]"
expect_status 0 "tree --json without --threads: no tid" -- "$P" tree --json 300 &&
	expect_json "tree --json 300: no tid" "'tid' not in d['processes'][0]"

# ---- capture ----------------------------------------------------------------------------------
expect_status 0 "capture 300" -- "$P" capture 300 && printf '%s\n' "$out" >"$t_tmp/tree1.json"
json_nodes "$t_tmp/tree1.json" "d['version'] == 2 and len(n) == 3 and
	n[0]['threads'] == ['${t300[0]}', '${t300[1]}'] and 'threads' not in n[1] and
	n[2]['threads'] == ['$t310'] and n[2]['tuple'] == '310/1'" ||
	fail "capture 300: the threads: $(<"$t_tmp/tree1.json")"

# The live tree: its PIDs are taken, and the first is the root's, not a thread's.
expect_status 1 "restore --check --json of the live tree" -- \
	"$P" restore --check --json "$t_tmp/tree1.json" &&
	expect_json_error "restore --check of the live tree" rule='"pid-taken"' node=0 thread=null \
		pid=300 headline='"PID already in use"'

kill_tree
wait "$runner"

# ---- a taken TID ------------------------------------------------------------------------------
# The thread of 310/1 doctored to claim TID 1 here (this shell): it is refused, naming node 2,
# thread 0 and the level (NSpid field 1 of 2, inner index 1).
doctored="1/${t310#*/}"
sed "s|\"$t310\"|\"$doctored\"|" "$t_tmp/tree1.json" >"$t_tmp/taken.json"
expect_status 1 "restore --check of a taken TID" -- "$P" restore --check "$t_tmp/taken.json" &&
	expect_match "$err" "taken.json cannot be restored here: TID already in use (rule pid-taken)" \
		"restore --check of a taken TID: headline" &&
	expect_match "$err" \
		"node 2 thread 0 ($doctored): TID 1 (NSpid field 1 of 2) is already in use there" \
		"restore --check of a taken TID: node, thread and level"
expect_status 1 "restore --check --json of a taken TID" -- \
	"$P" restore --check --json "$t_tmp/taken.json" &&
	expect_json_error "restore --check --json of a taken TID" errno=17 rule='"pid-taken"' \
		node=2 thread=0 level=1 levels=2 nspid_field=1 pid=1 headline='"TID already in use"' &&
	expect_json "restore --check --json of a taken TID: verdict" 'd["valid"] is False'
expect_status 1 "restore of a taken TID" -- "$P" restore --json "$t_tmp/taken.json" &&
	expect_json_error "restore --json of a taken TID" node=2 thread=0
# A thread's TID that is a process's PID in the same tree: claimed twice.
sed "s|\"${t300[1]}\"|\"$mid\"|" "$t_tmp/tree1.json" >"$t_tmp/twice.json"
expect_status 1 "restore --check of a TID claimed twice" -- \
	"$P" restore --check --json "$t_tmp/twice.json" &&
	expect_json_error "restore --check of a TID claimed twice" rule='"tree-duplicate"' \
		node=0 thread=1 headline='"TID claimed twice"'
# Threads in a version 1 document: refused as the version's, not dropped.
sed 's/"version": 2/"version": 1/' "$t_tmp/tree1.json" >"$t_tmp/v1.json"
expect_status 1 "restore of threads in version 1" -- "$P" restore --json "$t_tmp/v1.json" &&
	expect_json_error "restore of threads in version 1" rule='"syntax"' node=0 thread=null \
		message='"nodes[0].threads: new in format version 2; this document is version 1"'

# ---- restore, capture again -------------------------------------------------------------------
# Nothing above created a process; the tree comes back with the same TIDs.
expect_status 0 "restore --check of the free tree" -- "$P" restore --check "$t_tmp/tree1.json" &&
	expect_eq "$out" "$t_tmp/tree1.json: valid (3 processes)" "restore --check"
expect_status 0 "restore" -- "$P" restore "$t_tmp/tree1.json" &&
	expect_eq "$(cut -f 2 <<<"$out" | tr '\n' ' ')" "300 $mid 310/1 " "restore: the tuples"
# The threads exist once restore returns.
expect_eq "$(tids 300 | tr '\n' ' ')" "${t300[0]} ${t300[1]} " "restore: the threads of 300"
expect_eq "$(tid_tuples 310)" "$t310" "restore: the thread of 310/1"
expect_status 0 "capture after restore" -- "$P" capture 300 &&
	expect_eq "$out" "$(<"$t_tmp/tree1.json")" "capture after restore"
expect_status 0 "tree --threads after restore" -- "$P" tree --threads -n -o COMM,TUPLE 300 &&
	expect_match "$(squeeze)" "|-{python3} ${t300[0]}" "tree --threads after restore: the captured name"
kill_tree

finish
