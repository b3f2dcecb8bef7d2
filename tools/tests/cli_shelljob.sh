#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple restore --shell-job, as PID 1 of a private PID namespace: an interactive bash on a
# pseudo-terminal (script, or python3's pty module) starts a job, sh and two sleeps, in a
# process group of its own and the shell's session. The job is captured and killed while the
# shell lives on: restored from another session, its session leader is the live shell, so the
# restore fails, says capture saw the session's leader outside the tree (the capture marks it)
# and to use --shell-job; with it the job gets the same PIDs, in pidtuple's session.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE
tab=$'\t'

# The group and session of PID, as this namespace numbers them: "PGID SID".
ids_of() {
	"$P" ps -r -n -o PID,PGID,SID | awk -v p="$1" '$1 == p { print $2, $3 }'
}

# Runs bash -i -c SCRIPT on a pseudo-terminal, in the background: job control is on.
on_pty() {
	if command -v script >/dev/null; then
		script -qec "bash --norc --noprofile -i -c '$1'" /dev/null </dev/null >/dev/null 2>&1 &
	elif command -v python3 >/dev/null; then
		python3 -c 'import pty, sys; pty.spawn(sys.argv[1:])' \
			bash --norc --noprofile -i -c "$1" </dev/null >/dev/null 2>&1 &
	else
		echo "$t_name: skipped: neither script nor python3 for a pseudo-terminal" >&2
		exit 77
	fi
	term=$!
}

# The shell starts the job, writes its PID and stays (a foreground sleep) once it is killed.
# shellcheck disable=SC2016 # expanded by the interactive shell
on_pty 'sh -c "sleep 1000 & sleep 1000 & wait" & echo $! >'"$t_tmp"'/job; wait; sleep 1000'

job=
for _ in $(seq 200); do
	[ -s "$t_tmp/job" ] && job=$(<"$t_tmp/job") &&
		"$P" capture "$job" >"$t_tmp/job.json" 2>/dev/null &&
		[ "$(tree_pids "$t_tmp/job.json" | wc -l)" -eq 3 ] &&
		[ "$(grep -c '"name": "sleep"' "$t_tmp/job.json")" -eq 2 ] && break
	job=
	sleep 0.05
done
if [ -z "$job" ]; then
	fail "no job of three processes from the interactive shell"
	kill -KILL "$term"
	wait "$term"
	finish
fi
# A job of its own: its group is the root's, its session the shell's, led outside the tree.
ids=$(ids_of "$job")
shell=${ids#* }
expect_eq "${ids% *}" "$job" "the job leads its group"
expect_match "$(tr -d ' \n' <"$t_tmp/job.json")" "\"pgid\":[$job],\"sid\":[$shell]" \
	"capture: the root's group and session"
# Capture marks what it saw led from outside the tree: every node's session, the shell's.
expect_eq "$(grep -c '"outside": \["session"\]' "$t_tmp/job.json")" 3 \
	"capture: every session led outside the tree"
expect_eq "$(grep -c '"outside"' "$t_tmp/job.json")" 3 "capture: no group led outside the tree"
expect_match "$(<"$t_tmp/job.json")" '"version": 2' "capture: the mark is format version 2"
kill_captured "$t_tmp/job.json" --shell-job
kill -0 "$shell" 2>/dev/null || fail "the shell $shell is gone"

# Without --shell-job: the session's leader, the live shell, cannot be brought back.
expect_status 1 "restore --check of a shell job" -- "$P" restore --check "$t_tmp/job.json" &&
	expect_match "$err" "restore --shell-job" "restore --check suggests --shell-job"
expect_status 1 "restore of a shell job" -- "$P" restore "$t_tmp/job.json" &&
	expect_match "$err" "(capture saw the leader of the root's session $shell outside the tree: a shell job? restore with PIDTUPLE_FORK_SHELL_JOB, pidtuple restore --shell-job)" \
		"restore names the session, what capture saw, and suggests --shell-job"
expect_status 1 "restore --json of a shell job" -- "$P" restore --json "$t_tmp/job.json" &&
	expect_json_error "restore --json of a shell job" errno=17 rule='"pid-taken"'

# With it: the same PIDs, in pidtuple's session (the test's, invisible here) and the root
# leading its own group as before.
expect_status 0 "restore --check --shell-job" -- \
	"$P" restore --check --shell-job "$t_tmp/job.json" &&
	expect_eq "$out" "$t_tmp/job.json: valid (3 processes)" "restore --check --shell-job"
expect_status 0 "restore --shell-job" -- "$P" restore --shell-job "$t_tmp/job.json" &&
	expect_eq "$(cut -f 1 <<<"$out")" "$(tree_pids "$t_tmp/job.json")" "restore --shell-job: PIDs" &&
	expect_eq "$(head -n 1 <<<"$out")" "$job${tab}$job" "restore --shell-job: the root"
for pid in $(tree_pids "$t_tmp/job.json"); do
	expect_eq "$(ids_of "$pid")" "$job 0" "restored $pid: group, session"
done
kill_captured "$t_tmp/job.json" --shell-job

# The terminal's processes: script (or python3), the shell, its foreground sleep.
for pid in $("$P" ps -r -n -o PID,SID | awk -v s="$shell" '$2 == s { print $1 }'); do
	kill -KILL "$pid"
done
kill -KILL "$term"
wait "$term"
# Their orphans are this shell's to reap, as they come.
for _ in $(seq 200); do
	count_children
	[ "$n_children" -eq 0 ] && break
	sleep 0.05
done
finish
