#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple ps, as PID 1 of a private PID namespace: processes in a nested PID namespace, a
# session with a process group of its own and a multi-threaded process, as a table and as
# JSON, with and without threads.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

# Kernel threads are seen only from the initial PID namespace: check --no-kthreads there, from
# the host's side, before moving into a namespace of our own (where there are none). Reads only.
host_kthreads() {
	local all hidden
	all=$("$PIDTUPLE" ps -r -n -o PID,PPID,COMM 2>/dev/null) || return 0
	grep -q '^2 0 kthreadd$' <<<"$all" || return 0 # not the initial namespace
	hidden=$("$PIDTUPLE" ps --no-kthreads -r -n -o PID,PPID,COMM) || fail "ps --no-kthreads"
	awk '$1 == 2 || $2 == 2 { print "kernel thread left in: " $0 }' <<<"$hidden" | grep . &&
		fail "ps --no-kthreads shows kernel threads"
	grep -q "^$$ " <<<"$hidden" || fail "ps --no-kthreads hides this shell"
	hidden=$("$PIDTUPLE" tree --no-kthreads -r -n -o PID,PPID,COMM) || fail "tree --no-kthreads"
	awk '$1 == 2 || $2 == 2' <<<"$hidden" | grep -q . && fail "tree --no-kthreads shows them"
	grep -q "^$$ " <<<"$hidden" || fail "tree --no-kthreads hides this shell"
}
if [ "$$" -ne 1 ]; then
	: "${PIDTUPLE:?set PIDTUPLE to the pidtuple binary}"
	host_kthreads
	[ "$t_failed" -eq 0 ] || exit 1
fi
enter_private_pidns "$@"
begin

P=$PIDTUPLE

# row PID [TABLE]: the fields of PID's line of a `pidtuple ps` table (default: $out).
row() {
	awk -v pid="$1" 'NR > 1 && $1 == pid { $1 = $1; print }' <<<"${2-$out}"
}

# ---- the processes ----------------------------------------------------------------------------
# 250 leads a session (setsid in place: it is no group leader) and runs pidtuple run, whose
# child 300/1 is the init of a new PID namespace: it starts `pidtuple run 42` (2 there) with a
# sleep as 42, then becomes a sleep itself.
# shellcheck disable=SC2016 # for the inner shell
"$P" run 250 -- setsid "$P" run --newpid 300/1 -- bash -c '
	set +m # no job control: the job stays in the group of 300/1
	"$1" run 42 -- sleep 1000 &
	exec sleep 1000' ps "$P" &
bg1=$!
# 4400 leads a session; its child 4401 makes a process group of its own.
"$P" run 4400 -- setsid "$P" run 4401 -- perl -e 'setpgrp; exec @ARGV' sleep 1000 &
bg2=$!
# 600/1, the init of another namespace, has two more threads.
"$P" run --newpid 600/1 -- python3 -c '
import threading, time
for _ in range(2):
    threading.Thread(target=threading.Event().wait, daemon=True).start()
time.sleep(1000)' &
bg3=$!

up=
for _ in $(seq 200); do
	if out=$("$P" ps --threads 2>/dev/null) &&
		[ "$(awk '$1 == 600' <<<"$out" | wc -l)" -eq 3 ] && out=$("$P" ps 2>/dev/null); then
		run42=$(awk 'NR > 1 && $3 ~ /^[0-9]+\/2$/ && $NF == "pidtuple" { print $1 }' <<<"$out")
		sleep42=$(awk 'NR > 1 && $3 ~ /^[0-9]+\/42$/ && $NF == "sleep" { print $1 }' <<<"$out")
		if [ -n "$run42" ] && [ -n "$sleep42" ] && [[ $(row 300) == *" sleep" ]] &&
			[[ $(row 4401) == *" sleep" ]]; then
			up=1
			break
		fi
	fi
	sleep 0.05
done
if [ -z "$up" ]; then
	fail "the processes did not come up: $out"
	kill -KILL 250 300 4400 4401 600 2>/dev/null
	wait
	finish
fi

# ---- the table --------------------------------------------------------------------------------
read -r -a header <<<"${out%%$'\n'*}"
expect_eq "${header[*]}" "PID PPID TUPLE PGID SID NEWPID COMM" "ps: header"
# The groups and sessions made in this namespace are 0 in the nested one.
expect_eq "$(row 1)" "1 0 1 0 0 - bash" "ps: this shell"
expect_eq "$(row 250)" "250 $bg1 250 250 250 - pidtuple" "ps: the session leader"
expect_eq "$(row 300)" "300 250 300/1 250/0 250/0 new sleep" "ps: the nested init"
expect_eq "$(row "$run42")" "$run42 300 $run42/2 250/0 250/0 - pidtuple" "ps: run 42"
expect_eq "$(row "$sleep42")" "$sleep42 $run42 $sleep42/42 250/0 250/0 - sleep" "ps: sleep 42"
expect_eq "$(row 4400)" "4400 $bg2 4400 4400 4400 - pidtuple" "ps: session 4400"
expect_eq "$(row 4401)" "4401 4400 4401 4401 4400 - sleep" "ps: group 4401"
expect_eq "$(row 600)" "600 $bg3 600/1 0/0 0/0 new python3" "ps: the threaded init"
# Sorted by PID, and the columns line up with their headers.
pids=$(awk 'NR > 1 { print $1 }' <<<"$out")
expect_eq "$pids" "$(sort -n <<<"$pids")" "ps: order"
# Left-aligned columns start where their header does, in every line.
misaligned=$(awk '
	function starts(s, i, c, prev, n) {
		prev = " "
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c != " " && prev == " ")
				st[++n] = i
			prev = c
		}
	}
	{ starts($0) }
	NR == 1 { for (k = 3; k <= 7; k++) h[k] = st[k]; next }
	{ for (k = 3; k <= 7; k++) if (st[k] != h[k]) print }' <<<"$out")
expect_eq "$misaligned" "" "ps: lines whose columns do not line up"

# ---- threads ----------------------------------------------------------------------------------
expect_status 0 "ps --threads" -- "$P" ps --threads
read -r -a header <<<"${out%%$'\n'*}"
expect_eq "${header[*]}" "PID TID PPID TUPLE PGID SID NEWPID COMM" "ps --threads: header"
expect_eq "$(row 300)" "300 300 250 300/1 250/0 250/0 new sleep" "ps --threads: 300"
mapfile -t threads < <(row 600)
expect_eq "${#threads[@]}" 3 "ps --threads: the threads of 600"
expect_eq "${threads[0]}" "600 600 $bg3 600/1 0/0 0/0 new python3" "ps --threads: 600's leader"
for t in "${threads[@]:1}"; do
	read -r -a f <<<"$t"
	# Another thread: TID f[1] here, 2 or more in 600's namespace; after the leader, by TID.
	[[ ${f[1]} -ne 600 && ${f[3]} =~ ^${f[1]}/([0-9]+)$ && ${BASH_REMATCH[1]} -ge 2 &&
		"${f[*]:0:1} ${f[*]:2}" == "600 $bg3 ${f[3]} 0/0 0/0 new python3" ]] ||
		fail "ps --threads: thread line '$t'"
done

# ---- columns, raw, no headings ---------------------------------------------------------------
expect_status 0 "ps -o" -- "$P" ps -o tuple,comm,PID &&
	expect_eq "$(awk '$3 == 300 { $1 = $1; print }' <<<"$out")" "300/1 sleep 300" "ps -o: 300" &&
	expect_eq "$(head -n 1 <<<"$out" | tr -s ' ')" "TUPLE COMM PID" "ps -o: header"
expect_status 0 "ps -o +LIST" -- "$P" ps -o +NS_ID &&
	expect_eq "$(head -n 1 <<<"$out" | xargs)" "PID PPID TUPLE PGID SID NEWPID COMM NS_ID" \
		"ps -o +NS_ID: header"
expect_status 0 "ps -r -n" -- "$P" ps -rn -o PID,PPID,TUPLE,PGID,SID,NEWPID,COMM &&
	expect_eq "$(grep '^300 ' <<<"$out")" "300 250 300/1 250/0 250/0 new sleep" "ps -r -n: 300" &&
	expect_eq "$(head -n 1 <<<"$out")" "1 0 1 0 0 - bash" "ps -r -n: the first line"
# No kernel thread here: every process is still there.
expect_status 0 "ps --no-kthreads" -- "$P" ps --no-kthreads -n -r -o PID &&
	for pid in 1 250 300 600 4400 4401 "$run42" "$sleep42"; do
		grep -qx "$pid" <<<"$out" || fail "ps --no-kthreads: $pid is missing"
	done
expect_status 0 "ps --list-columns" -- "$P" ps --list-columns &&
	expect_eq "$(awk '{ print $1 }' <<<"$out" | tr '\n' ' ')" \
		"PID TID PPID TUPLE PGID SID NEWPID NS_ID COMM " "ps --list-columns"
expect_status 2 "ps -o of an unknown column" -- "$P" ps -o PID,TUPEL &&
	expect_match "$err" "unknown column 'TUPEL'; did you mean 'TUPLE'?" "ps -o PID,TUPEL"
expect_status 2 "ps -o without columns" -- "$P" ps -o ''

# ---- JSON -------------------------------------------------------------------------------------
# libsmartcols' JSON: {"processes": [...]}, an object per line, every tuple an array of
# integers outermost first (0 where not visible); with --threads, a line per thread.
# shellcheck disable=SC2016 # Python, not shell
check_json='
import json, sys
threads = sys.argv[1] == "threads"
run42, sleep42, bg1 = (int(a) for a in sys.argv[2:5])
rows = json.load(sys.stdin)["processes"]
assert isinstance(rows, list)
assert [p["pid"] for p in rows] == sorted(p["pid"] for p in rows)
keys = {"pid", "ppid", "tuple", "comm", "newpid", "ns_id", "pgid", "sid"}
if threads:
    keys.add("tid")
by_pid = {}
for p in rows:
    assert set(p) == keys, sorted(p)
    assert isinstance(p["ns_id"], int) and p["ns_id"] > 0
    assert all(isinstance(v, int) for v in p["tuple"] + p["pgid"] + p["sid"]), p
    assert len(p["pgid"]) == len(p["sid"]) == len(p["tuple"])
    assert p["tuple"][0] == (p["tid"] if threads else p["pid"]), p
    if not threads or p["tid"] == p["pid"]:
        by_pid[p["pid"]] = p
def want(pid, **kw):
    got = {k: by_pid[pid][k] for k in kw}
    assert got == kw, (pid, got, kw)
want(1, ppid=0, tuple=[1], comm="bash", newpid=False, pgid=[0], sid=[0])
want(250, ppid=bg1, tuple=[250], comm="pidtuple", pgid=[250], sid=[250])
want(300, ppid=250, tuple=[300, 1], comm="sleep", newpid=True, pgid=[250, 0], sid=[250, 0])
want(run42, ppid=300, tuple=[run42, 2], newpid=False, pgid=[250, 0])
want(sleep42, ppid=run42, tuple=[sleep42, 42], comm="sleep", sid=[250, 0])
want(4401, ppid=4400, tuple=[4401], comm="sleep", pgid=[4401], sid=[4400])
want(600, tuple=[600, 1], newpid=True)
assert by_pid[300]["ns_id"] == by_pid[run42]["ns_id"] != by_pid[1]["ns_id"]
assert by_pid[600]["ns_id"] not in (by_pid[1]["ns_id"], by_pid[300]["ns_id"])
if threads:
    for pid in by_pid:
        ts = [p for p in rows if p["pid"] == pid]
        # The leader first, then by TID.
        assert ts[0]["tid"] == pid, ts
        assert [t["tid"] for t in ts[1:]] == sorted(t["tid"] for t in ts[1:])
        assert len(ts) == (3 if pid == 600 else 1) or by_pid[pid]["comm"] != "sleep", ts
    ts = [p for p in rows if p["pid"] == 600]
    assert len(ts) == 3 and all(len(t["tuple"]) == 2 for t in ts), ts
'
expect_status 0 "ps --json" -- "$P" ps --json &&
	{ python3 -c "$check_json" plain "$run42" "$sleep42" "$bg1" <<<"$out" ||
		fail "ps --json: $out"; }
expect_status 0 "ps -J is --json" -- "$P" ps -J &&
	{ python3 -c "$check_json" plain "$run42" "$sleep42" "$bg1" <<<"$out" ||
		fail "ps -J: $out"; }
expect_status 0 "ps --threads --json" -- "$P" ps --threads --json &&
	{ python3 -c "$check_json" threads "$run42" "$sleep42" "$bg1" <<<"$out" ||
		fail "ps --threads --json: $out"; }
expect_status 0 "ps --json -o" -- "$P" ps --json -o pid,tuple &&
	expect_json "ps --json -o pid,tuple" \
		'{"pid": 300, "tuple": [300, 1]} in d["processes"] and
		 all(set(p) == {"pid", "tuple"} for p in d["processes"])'
expect_status 2 "ps --json, unknown column" -- "$P" ps --json -o nope &&
	expect_json_error "ps --json -o nope" usage=true

# ---- the end ----------------------------------------------------------------------------------
kill -KILL 300 4401 600
wait "$bg1" "$bg2" "$bg3"
expect_status 0 "ps after the end" -- "$P" ps
expect_eq "$(row 300)$(row 4401)$(row 600)" "" "ps after the end"

finish
