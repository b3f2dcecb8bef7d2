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

finish
