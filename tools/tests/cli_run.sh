#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple run, as PID 1 of a private PID namespace: every PID pinned here belongs to it.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE
tab=$'\t'

# shellcheck disable=SC2016 # $$ is for the child's shell
expect_status 0 "one level" -- "$P" run 4242 -- sh -c 'echo $$' &&
	expect_eq "$out" "4242" "run 4242: the child's \$\$"
# shellcheck disable=SC2016
expect_status 0 "without --" -- "$P" run 4243 sh -c 'echo $$' &&
	expect_eq "$out" "4243" "run 4243 without --"

# A new namespace: the command is its init, PID 1 inside, 77 here.
# shellcheck disable=SC2016
expect_status 0 "--newpid" -- "$P" run --newpid 77/1 -- sh -c 'echo $$' &&
	expect_eq "$out" "1" "run --newpid 77/1: the child's \$\$"
expect_status 0 "--newpid, the init reads its own tuple" -- \
	"$P" run --newpid 77/1 -- "$P" show 1 &&
	expect_eq "$out" "1${tab}1" "run --newpid 77/1 -- pidtuple show 1"
# shellcheck disable=SC2016
expect_status 0 "options after TUPLE" -- "$P" run 77/1 --newpid -- sh -c 'echo $$' &&
	expect_eq "$out" "1" "run 77/1 --newpid"
# shellcheck disable=SC2016
expect_status 0 "--newuser --newpid" -- "$P" run --newuser --newpid 78/1 -- sh -c 'echo $$' &&
	expect_eq "$out" "1" "run --newuser --newpid 78/1"
expect_status 0 "--check" -- "$P" run --check 4244 -- true

# Inside the new namespace, a second pidtuple pins a PID of its own.
expect_status 0 "nested run" -- "$P" run --newpid 79/1 -- "$P" run 33 -- "$P" show 33 1 &&
	expect_eq "$out" "33${tab}33"$'\n'"1${tab}1" "nested run"

# Seen from here, the init of the new namespace has the whole tuple. It is killed from here
# (the only signal an init without handlers gets) and run reports 128+9.
"$P" run --newpid 80/1 -- sleep 30 &
bg=$!
for _ in $(seq 100); do
	"$P" show 80 >/dev/null 2>&1 && break
	sleep 0.05
done
expect_status 0 "show of the new init from outside" -- "$P" show 80 &&
	expect_eq "$out" "80${tab}80/1" "show 80"
kill -KILL 80
wait "$bg"
expect_eq "$?" 137 "run of a killed init"

# Exit statuses pass through; a signal becomes 128+N.
expect_status 42 "exit status" -- "$P" run 4245 -- sh -c 'exit 42'
# shellcheck disable=SC2016
expect_status 143 "killed by a signal" -- "$P" run 4246 -- sh -c 'kill -TERM $$'

# A signal sent to pidtuple reaches the command. Wait until pidtuple catches SIGTERM, read
# from the host-side /proc: this shell's only child is that pidtuple.
"$P" run 4247 -- sleep 30 &
bg=$!
read -r self_stat </proc/self/stat
self_stat=${self_stat%% *}
caught=
for _ in $(seq 100); do
	read -r cli_host </proc/"$self_stat"/task/"$self_stat"/children || true
	if [ -n "$cli_host" ] && [[ $(<"/proc/$cli_host/status") =~ SigCgt:[[:space:]]*([0-9a-f]+) ]] &&
		(((16#${BASH_REMATCH[1]} >> 14) & 1)); then
		caught=1
		break
	fi
	sleep 0.05
done
[ -n "$caught" ] || fail "pidtuple run did not install its SIGTERM handler"
kill -TERM "$bg"
wait "$bg"
expect_eq "$?" 143 "SIGTERM forwarded to the command"

# Commands that cannot run, like a shell: 127 not found, 126 not executable.
expect_status 127 "missing command in PATH" -- "$P" run 4248 -- no-such-command-pidtuple &&
	expect_match "$err" "no-such-command-pidtuple: command not found" "missing command"
expect_status 127 "missing command path" -- "$P" run 4249 -- "$t_tmp/none" &&
	expect_match "$err" "cannot execute $t_tmp/none" "missing command path"
printf 'echo hi\n' >"$t_tmp/noexec"
chmod 644 "$t_tmp/noexec"
expect_status 126 "command not executable" -- "$P" run 4250 -- "$t_tmp/noexec"
# The failed child was reaped: its PID is free again.
expect_status 0 "PID of a failed exec is free" -- "$P" check 4249

# PATH search, including an empty element (the current directory).
mkdir "$t_tmp/bin"
printf '#!/bin/sh\necho "found $$"\n' >"$t_tmp/bin/pt-hello"
chmod 755 "$t_tmp/bin/pt-hello"
expect_status 0 "PATH search" -- env PATH="/nonexistent:$t_tmp/bin:/usr/bin:/bin" \
	"$P" run 4251 -- pt-hello && expect_eq "$out" "found 4251" "PATH search"
# shellcheck disable=SC2016 # expanded by that sh
expect_status 0 "empty PATH element" -- \
	sh -c 'cd "$1/bin" && PATH=":/usr/bin:/bin" exec "$2" run 4252 -- pt-hello' sh "$t_tmp" "$P" &&
	expect_eq "$out" "found 4252" "empty PATH element"

# The process cannot be created: exit 1 with the validator's diagnostic.
expect_status 1 "taken PID" -- "$P" run 1 -- true &&
	expect_eq "$err" "pidtuple: run: cannot create a process with PIDs 1: PID already in use (rule pid-taken)
pidtuple: run: PID 1 (NSpid field 1 of 1) is already in use in that namespace" "run 1"
expect_status 1 "taken PID with --check" -- "$P" run --check 1 -- true &&
	expect_match "$err" "(rule pid-taken)" "run --check 1"
expect_status 1 "--newpid without 1" -- "$P" run --newpid 5 -- true &&
	expect_match "$err" "(rule newpid-needs-1)" "run --newpid 5"

# --json: why the process could not be created, as JSON on stdout; the command's own options
# after TUPLE and COMMAND are not pidtuple's.
expect_status 1 "--json, taken PID" -- "$P" run 1 --json -- true &&
	expect_json_error "run 1 --json" errno=17 rule='"pid-taken"' level=0 nspid_field=1 pid=1
expect_status 127 "--json, missing command" -- "$P" run --json 4255 no-such-command-pidtuple &&
	expect_json_error "run --json, missing command" errno=2 errno_name='"ENOENT"' \
		rule='"exec"' message='"no-such-command-pidtuple: command not found"'
expect_status 0 "--json after COMMAND is COMMAND's" -- "$P" run 4256 echo --json &&
	expect_eq "$out" "--json" "run 4256 echo --json"
expect_status 0 "--help after COMMAND is COMMAND's" -- "$P" run 4257 -- printf %s --help &&
	expect_eq "$out" "--help" "run 4257 -- printf %s --help"

# --cgroup: the command starts in the given cgroup v2 directory (here: this shell's own).
cgroot=$(findmnt -n -t cgroup2 -o TARGET 2>/dev/null | head -n 1)
cg=$(grep '^0::' /proc/self/cgroup)
cg=${cg#0::}
if [ -n "$cgroot" ] && [ -n "$cg" ] && [ -d "$cgroot$cg" ]; then
	expect_status 0 "--cgroup" -- "$P" run --cgroup "$cgroot$cg" 4253 -- cat /proc/self/cgroup &&
		expect_match "$out" $'\n'"0::$cg" "--cgroup"
else
	echo "cli_run.sh: no cgroup v2 mount; the --cgroup success case is not run"
fi
expect_status 1 "--cgroup of a missing directory" -- \
	"$P" run --cgroup "$t_tmp/nocg" 4254 -- true &&
	expect_match "$err" "cannot open the cgroup directory $t_tmp/nocg: No such file" "--cgroup missing"
expect_status 1 "--cgroup of a missing directory, --json" -- \
	"$P" run --cgroup "$t_tmp/nocg" 4254 --json -- true &&
	expect_json_error "--cgroup missing, --json" errno=2 rule=null

finish
