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
# A headline per rule, then one sentence with the place in the tuple counted from 1.
expect_eq "$err" "pidtuple: check: 1 is not valid here: PID already in use (rule pid-taken)
pidtuple: check: PID 1 (NSpid field 1 of 1) is already in use in that namespace" "check 1: stderr"

expect_status 2 "check of bad syntax" -- "$P" check 4242/ &&
	expect_match "$err" "syntax error (rule syntax)" "check 4242/: headline" &&
	expect_match "$err" "tuple text, field 2 (byte 5): empty field" "check 4242/: why" &&
	expect_match "$err" $'\n    4242/\n         ^' "check 4242/: caret"

expect_status 0 "check --newpid of outer/1" -- "$P" check --newpid 77/1
expect_status 1 "check --newpid with an inner PID that is not 1" -- "$P" check --newpid 77/3 &&
	expect_match "$err" "a new namespace's init must be PID 1 (rule newpid-needs-1)" \
		"check --newpid 77/3: headline" &&
	expect_match "$err" "innermost PID (NSpid field 2 of 2) must be 1, not 3" \
		"check --newpid 77/3: why"
# Options after TUPLE, and "--" before a TUPLE.
expect_status 0 "check TUPLE --newpid" -- "$P" check 77/1 --newpid &&
	expect_eq "$out" "77/1: valid" "check 77/1 --newpid"
expect_status 1 "check TUPLE --newpid, not 1" -- "$P" check 77/3 --newpid
expect_status 0 "check -- TUPLE" -- "$P" check --newpid -- 77/1
expect_status 0 "check --newuser --newpid" -- "$P" check --newuser --newpid 77/1
expect_status 1 "check of a PID above pid_max" -- "$P" check 2147483647 &&
	expect_match "$err" "PID out of range (rule pid-range)" "check 2147483647" &&
	expect_match "$err" "PID 2147483647 (NSpid field 1 of 1) is not below" "check 2147483647"

# ---- --json ---------------------------------------------------------------------------------
expect_status 0 "check --json of a free PID" -- "$P" check --json 4242 &&
	expect_json "check --json 4242" \
		'd == {"tuple": [4242], "valid": True, "unverified": 0}'
expect_status 1 "check --json of a taken PID" -- "$P" check 1 --json &&
	expect_json_error "check 1 --json" errno=17 errno_name='"EEXIST"' rule='"pid-taken"' \
		rule_number=9 headline='"PID already in use"' node=null level=0 levels=1 \
		nspid_field=1 pid=1 byte=null usage=false &&
	expect_json "check 1 --json: verdict" 'd["tuple"] == [1] and d["valid"] is False'
expect_status 1 "check --json --newpid, not 1" -- "$P" check --json --newpid 77/3 &&
	expect_json_error "check --json --newpid 77/3" rule='"newpid-needs-1"' level=0 levels=2 \
		nspid_field=2 pid=3
expect_status 1 "check --json beyond pid_max" -- "$P" check --json 2147483647 &&
	expect_json_error "check --json 2147483647" errno=22 rule='"pid-range"' \
		headline='"PID out of range"' nspid_field=1
expect_status 2 "check --json of bad syntax" -- "$P" check --json 4242//1 &&
	expect_json_error "check --json 4242//1" errno=22 rule='"syntax"' nspid_field=2 byte=5 \
		usage=true
expect_status 2 "check --json without TUPLE" -- "$P" check --json &&
	expect_json_error "check --json" errno=22 rule=null usage=true \
		message='"no TUPLE given"'
expect_status 2 "check --json with an unknown option" -- "$P" check --bogus 5 --json &&
	expect_json_error "check --bogus 5 --json" usage=true \
		message='"unknown option '"'--bogus'"'"'

# A second level is the parent namespace, seen through the host's /proc: cli_outer.sh.

finish
