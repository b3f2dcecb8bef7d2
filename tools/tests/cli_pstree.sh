#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple tree, as PID 1 of a private PID namespace: a tree with two nested PID namespaces
# is drawn as text (ASCII and UTF-8, in libsmartcols' style), raw and as nested JSON, with the
# exact tuples.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE

# pid_of TUPLE_RE COMM: the PID here of the one process whose tuple matches the extended
# regex TUPLE_RE and whose command name is COMM, read from `pidtuple ps`; empty if none.
pid_of() {
	"$P" ps 2>/dev/null | awk -v re="^$1\$" -v comm="$2" \
		'NR > 1 && $3 ~ re && $NF == comm { print $1; n++ } END { exit n != 1 }'
}

# ---- the tree ---------------------------------------------------------------------------------
# pidtuple run makes 250, which leads a session (setsid in place: it is no group leader) and
# runs pidtuple run, whose child 300/1 is the init of a new PID namespace. The init starts
# `pidtuple run 42` (PID 2 there) with a sleep as 42, and becomes `pidtuple run --newpid 7/1`,
# whose child is the init of a second namespace, 7 in the first. The kernel chooses the PIDs
# here of the processes the inits create: they are looked up once everything runs.
# shellcheck disable=SC2016 # for the inner shell
"$P" run 250 -- setsid "$P" run --newpid 300/1 -- bash -c '
	set +m # no job control: the job stays in the group of 300/1
	"$1" run 42 -- sleep 1000 &
	exec "$1" run --newpid 7/1 -- sleep 1000' tree "$P" &
bg=$!
runner=250

for _ in $(seq 200); do
	run42=$(pid_of '[0-9]+/2' pidtuple) && sleep42=$(pid_of '[0-9]+/42' sleep) &&
		sleep7=$(pid_of '[0-9]+/7/1' sleep) && init300=$(pid_of 300/1 pidtuple) && break
	sleep 0.05
done
if [ -z "$sleep7" ] || [ -z "$sleep42" ] || [ -z "$run42" ] || [ -z "$init300" ]; then
	fail "the tree did not come up: $("$P" ps 2>&1)"
	kill -KILL 250 300 2>/dev/null
	wait
	finish
fi
expect_eq "$init300" 300 "init of the first namespace"

# The tuples ps read agree with show's (pidtuple_of_pid, another path).
expect_status 0 "show of the tree" -- "$P" show "$run42" "$sleep42" "$sleep7" &&
	expect_eq "$out" "$run42"$'\t'"$run42/2"$'\n'"$sleep42"$'\t'"$sleep42/42"$'\n'"$sleep7"$'\t'"$sleep7/7/1" \
		"show of the tree"

# Children are sorted by PID here: which of the init's two children comes first is the
# kernel's choice. Lines as `tree -n` draws them, runs of spaces squeezed: the command name
# carries the tree, then the tuple and NEWPID.
branch42=("pidtuple $run42/2 -" "sleep $sleep42/42 -")
branch7="sleep $sleep7/7/1 new"
draw() { # draw TEE LAST BAR
	local tee=$1 last=$2 bar=$3
	echo "pidtuple 300/1 new"
	if [ "$run42" -lt "$sleep7" ]; then
		echo "$tee${branch42[0]}"
		echo "$bar$last${branch42[1]}"
		echo "$last$branch7"
	else
		echo "$tee$branch7"
		echo "$last${branch42[0]}"
		echo " $last${branch42[1]}"
	fi
}
want_ascii=$(draw '|-' '`-' '| ')
want_utf8=$(draw '├─' '└─' '│ ')
squeeze() { sed 's/  */ /g; s/ $//' <<<"$out"; }

expect_status 0 "tree 300" -- "$P" tree -n 300 && expect_eq "$(squeeze)" "$want_ascii" "tree 300"
expect_status 0 "tree --ascii 300" -- "$P" tree --ascii 300 -n &&
	expect_eq "$(squeeze)" "$want_ascii" "tree --ascii 300"
expect_status 0 "tree --unicode 300" -- "$P" tree --unicode -n 300 &&
	expect_eq "$(squeeze)" "$want_utf8" "tree --unicode 300"
# -U is the deprecated spelling of --unicode: it still works, with a note.
expect_status 0 "tree -U 300" -- "$P" tree -U -n 300 &&
	expect_eq "$(squeeze)" "$want_utf8" "tree -U 300" &&
	expect_match "$err" "-U is deprecated, use --unicode" "tree -U 300: note"
# Not a terminal: ASCII whatever the locale says.
expect_status 0 "tree 300 in a UTF-8 locale" -- env LC_ALL=C.UTF-8 "$P" tree -n 300 &&
	expect_eq "$(squeeze)" "$want_ascii" "tree 300 with LC_ALL=C.UTF-8"
expect_status 0 "tree of a leaf" -- "$P" tree -n "$sleep42" &&
	expect_eq "$(squeeze)" "sleep $sleep42/42 -" "tree $sleep42"
# The header, and columns of one's choice: the first carries the tree.
expect_status 0 "tree -o" -- "$P" tree -o tuple,pid 300 &&
	expect_eq "$(sed -n '1p; 2p' <<<"$out" | sed 's/  */ /g')" "TUPLE PID
300/1 300" "tree -o tuple,pid 300"
# Raw: no tree, one space between the columns.
expect_status 0 "tree -r" -- "$P" tree -r -n -o PID,PPID,COMM 300 &&
	expect_eq "$(sort -n <<<"$out")" "$(printf '%s\n' "300 250 pidtuple" \
		"$run42 300 pidtuple" "$sleep42 $run42 sleep" "$sleep7 300 sleep" | sort -n)" \
		"tree -r 300"

# The whole namespace: this shell is the root, the tree hangs below the session leader.
expect_status 0 "tree" -- "$P" tree -n -o TUPLE,COMM
expect_eq "$(sed -n 1p <<<"$out" | sed 's/  */ /g')" "1 bash" "tree: first line"
# Three consecutive lines, each one level (two columns) deeper: pidtuple run, 250 and 300/1.
depths=$(awk -v bg="$bg" '
	function start(l, t) { t = l; sub(/^[ |`-]*/, "", t); return length(l) - length(t) }
	function first(l, t) { t = l; sub(/^[ |`-]*/, "", t); split(t, w, " "); return w[1] }
	first($0) == bg { d = start($0); getline l2; getline l3
		print start(l2) - d, start(l3) - d, first(l2), first(l3); exit }' <<<"$out")
expect_eq "$depths" "2 4 250 300/1" "tree: $bg, 250 and 300/1 below each other"
expect_match "$out" "$sleep7/7/1" "tree: the second namespace"

# ---- JSON -------------------------------------------------------------------------------------
# libsmartcols' JSON: {"processes": [roots]}, children nested in "children" (left out for a
# leaf), every tuple an array of integers outermost first.
# shellcheck disable=SC2016 # Python, not shell
check_json='
import json, sys
run42, sleep42, sleep7, runner = (int(a) for a in sys.argv[1:5])
roots = json.load(sys.stdin)["processes"]
assert isinstance(roots, list) and len(roots) == 1, roots
keys = {"pid", "ppid", "tuple", "comm", "newpid", "ns_id", "pgid", "sid"}
def walk(n):
    assert set(n) - {"children"} == keys, sorted(n)
    kids = n.get("children", [])
    assert [c["pid"] for c in kids] == sorted(c["pid"] for c in kids)
    yield n
    for c in kids:
        assert c["ppid"] == n["pid"], (c, n["pid"])
        yield from walk(c)
nodes = {"/".join(map(str, n["tuple"])): n for n in walk(roots[0])}
want = ("300/1", "%d/2" % run42, "%d/42" % sleep42, "%d/7/1" % sleep7)
assert set(nodes) == set(want), nodes
init, r42, s42, s7 = (nodes[t] for t in want)
assert (init["pid"], init["ppid"], init["comm"], init["newpid"]) == (300, runner, "pidtuple", True)
assert (r42["pid"], r42["comm"], r42["newpid"]) == (run42, "pidtuple", False)
assert (s42["pid"], s42["ppid"], s42["comm"]) == (sleep42, run42, "sleep")
assert (s7["pid"], s7["ppid"], s7["comm"], s7["newpid"]) == (sleep7, 300, "sleep", True)
# One namespace below this one for the init and its children, another for 7/1.
assert init["ns_id"] == r42["ns_id"] == s42["ns_id"] != s7["ns_id"]
# The session (and group) of the runner: made here, so not visible below.
for n in (init, r42, s42):
    assert n["pgid"] == [runner, 0] and n["sid"] == [runner, 0], n
assert s7["pgid"] == [runner, 0, 0] and s7["sid"] == [runner, 0, 0], s7
'
expect_status 0 "tree --json 300" -- "$P" tree --json 300 &&
	{ python3 -c "$check_json" "$run42" "$sleep42" "$sleep7" "$runner" <<<"$out" ||
		fail "tree --json 300: $out"; }
# Options may come after PID; -J is --json.
expect_status 0 "tree 300 -J" -- "$P" tree 300 -J &&
	{ python3 -c "$check_json" "$run42" "$sleep42" "$sleep7" "$runner" <<<"$out" ||
		fail "tree 300 -J: $out"; }
# The whole namespace: one root, this shell.
expect_status 0 "tree --json" -- "$P" tree --json &&
	expect_json "tree --json" \
		'[r["pid"] for r in d["processes"]] == [1] and d["processes"][0]["tuple"] == [1]'
expect_status 0 "tree --json -o" -- "$P" tree --json -o comm,pid "$sleep42" &&
	expect_json "tree --json -o comm,pid" \
		"d == {'processes': [{'comm': 'sleep', 'pid': $sleep42}]}"

# ---- errors -----------------------------------------------------------------------------------
expect_status 1 "tree of a missing PID" -- "$P" tree 99999 &&
	expect_match "$err" "PID 99999: No such process" "tree 99999"
expect_eq "$out" "" "tree 99999: stdout"
expect_status 1 "tree --json of a missing PID" -- "$P" tree 99999 --json &&
	expect_json_error "tree 99999 --json" errno=3 errno_name='"ESRCH"' pid=99999 rule=null
expect_status 2 "tree -o of an unknown column" -- "$P" tree -o comm,nope &&
	expect_match "$err" "unknown column 'nope'" "tree -o comm,nope"

# The init's death ends both namespaces; run reports 128+9.
kill -KILL 300
wait "$bg"
expect_eq "$?" 137 "pidtuple run of the killed init"
expect_status 1 "tree of an ended process" -- "$P" tree 300

finish
