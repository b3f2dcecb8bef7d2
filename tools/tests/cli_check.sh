#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple check, as PID 1 of a private PID namespace. Nothing is created.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE

expect_status 0 "check of a free PID" -- "$P" check 4242 &&
	expect_eq "$out" "4242: valid" "check 4242: stdout" &&
	expect_eq "$err" "" "check 4242: stderr"

# PID 1 is this shell, the namespace's init.
expect_status 1 "check of a taken PID" -- "$P" check 1 &&
	expect_eq "$out" "" "check 1: stdout"
expect_match "$err" "1 is not valid here" "check 1: verdict"
expect_match "$err" "rule pid-taken, inner index 0, NSpid field 0, PID 1" "check 1: diag"

expect_status 2 "check of bad syntax" -- "$P" check 4242/ &&
	expect_match "$err" "rule syntax" "check 4242/: diag"

expect_status 0 "check --newpid of outer/1" -- "$P" check --newpid 77/1
expect_status 1 "check --newpid with an inner PID that is not 1" -- "$P" check --newpid 77/3 &&
	expect_match "$err" "rule newpid-needs-1, inner index 0, NSpid field 1" "check --newpid 77/3"
expect_status 0 "check --newuser --newpid" -- "$P" check --newuser --newpid 77/1
expect_status 1 "check of a PID above pid_max" -- "$P" check 2147483647 &&
	expect_match "$err" "rule pid-range" "check 2147483647"

# A second level is the parent namespace, above this shell's: it cannot be checked from
# here. The verdict is still "valid", with a note.
expect_status 0 "check with an unverifiable outer level" -- "$P" check 5/4242 &&
	expect_eq "$out" "5/4242: valid" "check 5/4242: stdout" &&
	expect_match "$err" "note: 1 outer level(s)" "check 5/4242: note"

finish
