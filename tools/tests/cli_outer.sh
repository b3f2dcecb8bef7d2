#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple check of levels above the caller's PID namespace, as PID 1 of a private PID
# namespace that kept the host's /proc: the host's level is /proc's, seen through it; a level
# between /proc's and the caller's is not, and only that one is left to the kernel.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE

read -r -a nspid < <(grep '^NSpid:' /proc/self/status)
if [ "${#nspid[@]}" -ne 3 ]; then
	echo "$t_name: skipped: /proc is not the parent namespace's" >&2
	exit 77
fi

# 1 at the host's level is the host's init.
expect_status 1 "check of a taken host PID" -- "$P" check 1/50 &&
	expect_eq "$out" "" "check 1/50: stdout" &&
	expect_eq "$err" "pidtuple: check: 1/50 is not valid here: PID already in use (rule pid-taken)
pidtuple: check: PID 1 (NSpid field 1 of 2) is already in use in that namespace" \
		"check 1/50: stderr"
expect_status 1 "check --json of a taken host PID" -- "$P" check --json 1/50 &&
	expect_json_error "check --json 1/50" errno=17 rule='"pid-taken"' level=1 nspid_field=1 \
		pid=1

# A free host PID: below 300, where no number is handed out again after the first wrap.
free=
for n in $(seq 299 -1 2); do
	[ -e "/proc/$n" ] || {
		free=$n
		break
	}
done
[ -n "$free" ] || fail "no free PID below 300 in /proc"
expect_status 0 "check of a free host PID" -- "$P" check "$free/50" &&
	expect_eq "$out" "$free/50: valid" "check $free/50: stdout" &&
	expect_eq "$err" "" "check $free/50: no note, every level was seen"
expect_status 0 "check --json of a free host PID" -- "$P" check --json "$free/50" &&
	expect_json "check --json $free/50" "d == {'tuple': [$free, 50], 'valid': True, 'unverified': 0}"

# One namespace further down, this shell's lies between /proc's and the caller's: unseen,
# the note says so; the host's level is still checked.
expect_status 0 "check from below: the middle level left to the kernel" -- \
	unshare --pid --fork --kill-child -- "$P" check "$free/4242/7" &&
	expect_eq "$out" "$free/4242/7: valid" "check $free/4242/7: stdout" &&
	expect_match "$err" "note: 1 outer level(s) are above the caller's PID namespace" \
		"check $free/4242/7: note"
expect_status 1 "check from below: the host's init" -- \
	unshare --pid --fork --kill-child -- "$P" check 1/4242/7 &&
	expect_match "$err" "PID 1 (NSpid field 1 of 3) is already in use in that namespace" \
		"check 1/4242/7: stderr"

finish
