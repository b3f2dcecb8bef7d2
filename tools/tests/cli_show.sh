#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple show, as PID 1 of a private PID namespace.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE
tab=$'\t'

# This shell is the namespace's init: relative to itself its tuple is just 1.
expect_status 0 "show 1" -- "$P" show 1 && expect_eq "$out" "1${tab}1" "show 1"

# pidtuple itself as the init of a fresh namespace shows itself as 1.
expect_status 0 "show of self in a fresh namespace" -- \
	unshare --pid --fork --kill-child -- "$P" show 1 &&
	expect_eq "$out" "1${tab}1" "show of self in a fresh namespace"

# A child with a kernel-chosen PID, and several PIDs at once.
sleep 30 &
kid=$!
expect_status 0 "show of a child" -- "$P" show 1 "$kid" &&
	expect_eq "$out" "1${tab}1"$'\n'"$kid${tab}$kid" "show 1 $kid"
kill "$kid"
wait "$kid"

# A missing process: exit 1, an error naming the PID; the others are still printed.
expect_status 1 "show of a missing PID" -- "$P" show 1 99999 &&
	expect_eq "$out" "1${tab}1" "show 1 99999: stdout"
expect_match "$err" "PID 99999: " "show 99999: stderr"
expect_match "$err" "No such process" "show 99999: stderr"

# ---- --pgid, --sid and --threads ---------------------------------------------------------------
# 4400 leads a session (setsid in place: it is no group leader); its child 4401 makes a
# process group of its own.
"$P" run 4400 -- setsid "$P" run 4401 -- perl -e 'setpgrp; exec @ARGV' sleep 1000 &
bg1=$!
# 4500 leads a session; 410/1, the init of a new namespace, is in it: 0 at the new level.
"$P" run 4500 -- setsid "$P" run --newpid 410/1 -- sleep 1000 &
bg2=$!
# 600/1, the init of another namespace, has two more threads.
"$P" run --newpid 600/1 -- python3 -c '
import threading, time
for _ in range(2):
    threading.Thread(target=threading.Event().wait, daemon=True).start()
time.sleep(1000)' &
bg3=$!
for _ in $(seq 200); do
	[ "$("$P" show --pgid --sid 4401 2>/dev/null)" = "4401${tab}4401${tab}4401${tab}4400" ] &&
		[ "$("$P" show --sid 410 2>/dev/null)" = "410${tab}410/1${tab}4500/0" ] &&
		[ "$("$P" show --threads 600 2>/dev/null | wc -l)" -eq 3 ] && break
	sleep 0.05
done

expect_status 0 "show --pgid --sid" -- "$P" show --pgid --sid 4401 &&
	expect_eq "$out" "4401${tab}4401${tab}4401${tab}4400" "show --pgid --sid 4401"
expect_status 0 "show --sid" -- "$P" show --sid 4401 &&
	expect_eq "$out" "4401${tab}4401${tab}4400" "show --sid 4401"
expect_status 0 "show --pgid of two" -- "$P" show --pgid 4400 4401 &&
	expect_eq "$out" "4400${tab}4400${tab}4400"$'\n'"4401${tab}4401${tab}4401" "show --pgid 4400 4401"
# Options after PID, in any order: the fields keep theirs.
expect_status 0 "show PID --sid --pgid" -- "$P" show 410 --sid --pgid &&
	expect_eq "$out" "410${tab}410/1${tab}4500/0${tab}4500/0" "show 410 --sid --pgid"
# This shell's group and session were made outside its namespace.
expect_status 0 "show --pgid --sid 1" -- "$P" show --pgid --sid 1 &&
	expect_eq "$out" "1${tab}1${tab}0${tab}0" "show --pgid --sid 1"

# --threads: the leader first, then the others by TID, with their TID tuples.
check_threads() { # check_threads WHAT SUFFIX: $out holds show --threads 600's lines
	local line lines seen=
	mapfile -t lines <<<"$out"
	expect_eq "${#lines[@]}" 3 "$1: lines"
	expect_eq "${lines[0]}" "600${tab}600${tab}600/1$2" "$1: the leader"
	for line in "${lines[@]:1}"; do
		if [[ $line =~ ^600${tab}([0-9]+)${tab}([0-9]+)/([0-9]+)$2$ ]] &&
			[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[3]}" -ge 2 ] &&
			{ [ -z "$seen" ] || [ "${BASH_REMATCH[1]}" -gt "$seen" ]; }; then
			seen=${BASH_REMATCH[1]}
		else
			fail "$1: thread line '$line'"
		fi
	done
}
expect_status 0 "show --threads" -- "$P" show --threads 600 && check_threads "show --threads 600" ""
expect_status 0 "show --threads --pgid --sid" -- "$P" show --threads --sid --pgid 600 &&
	check_threads "show --threads --pgid --sid 600" "${tab}0/0${tab}0/0"
expect_status 0 "show --threads of a one-thread process" -- "$P" show --threads --sid 410 &&
	expect_eq "$out" "410${tab}410${tab}410/1${tab}4500/0" "show --threads 410"
expect_status 1 "show --threads of a missing PID" -- "$P" show --threads 99999 1 &&
	expect_eq "$out" "1${tab}1${tab}1" "show --threads 99999 1: stdout"
expect_match "$err" "PID 99999: No such process" "show --threads 99999: stderr"
expect_status 1 "show --pgid of a missing PID" -- "$P" show --pgid 99999 &&
	expect_match "$err" "PID 99999: No such process" "show --pgid 99999: stderr"

# ---- --json ----------------------------------------------------------------------------------
# Every tuple is an array of integers, outermost first; a PID that cannot be read is an entry
# with an error, and the first such error is also the answer's.
expect_status 0 "show --json" -- "$P" show --json --pgid --sid 410 4401 &&
	expect_json "show --json 410 4401" 'd == {"processes": [
		{"pid": 410, "tuple": [410, 1], "pgid": [4500, 0], "sid": [4500, 0]},
		{"pid": 4401, "tuple": [4401], "pgid": [4401], "sid": [4400]}]}'
expect_status 0 "show --json --threads" -- "$P" show 600 --threads --json &&
	expect_json "show --json --threads 600" 'len(d["processes"]) == 1 and
		d["processes"][0]["tuple"] == [600, 1] and
		d["processes"][0]["threads"][0] == {"tid": 600, "tuple": [600, 1]} and
		len(d["processes"][0]["threads"]) == 3 and
		all(len(t["tuple"]) == 2 and t["tuple"][0] == t["tid"] and t["tuple"][1] >= 1
		    for t in d["processes"][0]["threads"])'
expect_status 1 "show --json of a missing PID" -- "$P" show --json 1 99999 &&
	expect_json_error "show --json 1 99999" errno=3 errno_name='"ESRCH"' pid=99999 rule=null \
		message='"PID 99999: No such process"' &&
	expect_json "show --json 1 99999: entries" 'd["processes"][0] == {"pid": 1, "tuple": [1]}
		and d["processes"][1]["pid"] == 99999 and d["processes"][1]["error"] == d["error"]'
expect_status 2 "show --json of a word" -- "$P" show --json abc &&
	expect_json_error "show --json abc" usage=true message="\"'abc' is not a PID\""

kill -KILL 4401 410 600
wait "$bg1" "$bg2" "$bg3"

finish
