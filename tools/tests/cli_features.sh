#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple features and next-pid, as PID 1 of a private PID namespace.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE

expect_status 0 "features" -- "$P" features &&
	expect_match "$out" "set_tid                  yes" "features: set_tid" &&
	expect_match "$out" "ns_last_pid              yes" "features: ns_last_pid"

expect_status 0 "features --json" -- "$P" features --json set_tid clone3 &&
	expect_eq "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["set_tid"]["present"], d["clone3"]["present"], len(d))' <<<"$out")" \
		"True True 2" "features --json"

expect_status 2 "features with an unknown name" -- "$P" features no_such_feature &&
	expect_match "$err" "unknown feature 'no_such_feature'" "features: unknown"
expect_status 2 "features with a mistyped name" -- "$P" features set_ti &&
	expect_match "$err" "unknown feature 'set_ti'; did you mean 'set_tid'?" "features: typo"
expect_status 2 "features --json with an unknown name" -- "$P" features bogus --json &&
	expect_json_error "features bogus --json" usage=true errno=22

expect_status 2 "features --json=x" -- "$P" features --json=x &&
	expect_match "$err" "option '--json' takes no argument" "features: --json=x"
# shellcheck disable=SC2016 # $1 is expanded by the inner shell
expect_status 1 "features into a full disk" -- sh -c '"$1" features >/dev/full' sh "$P" &&
	expect_match "$err" "No space left on device" "features: write error"

# Named features that are present exit 0 (missing ones exit 1; the fallback suite covers
# the reasons under a seccomp filter).
expect_status 0 "features of present bits" -- "$P" features set_tid pidfd

# next-pid: read, move, and an ordinary fork lands at or after it.
expect_status 0 "next-pid" -- "$P" next-pid
expect_status 0 "next-pid 5000" -- "$P" next-pid 5000 && expect_eq "$out" "5000" "next-pid 5000"
sh -c 'echo $$ >"$1/pid"' sh "$t_tmp"
[ "$(<"$t_tmp/pid")" -ge 5000 ] || fail "a fork after next-pid 5000 got $(<"$t_tmp/pid")"
expect_status 2 "next-pid 0" -- "$P" next-pid 0
expect_status 2 "next-pid x" -- "$P" next-pid x
expect_status 1 "next-pid beyond pid_max" -- "$P" next-pid 2147483647 &&
	expect_match "$err" "cannot move the next PID to 2147483647: PID out of range (rule pid-range)" \
		"next-pid beyond pid_max"
expect_status 0 "next-pid --json" -- "$P" next-pid 6000 --json &&
	expect_json "next-pid 6000 --json" 'd == {"next_pid": 6000}'
expect_status 1 "next-pid --json beyond pid_max" -- "$P" next-pid --json 2147483647 &&
	expect_json_error "next-pid --json 2147483647" errno=22 rule='"pid-range"' \
		pid=2147483647

finish
