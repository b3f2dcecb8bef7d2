# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Shared by the CLI tests: assertions, the privilege check and the private PID namespace.
# $PIDTUPLE is the pidtuple binary under test (CTest sets it); begin() insists on it.

t_failed=0
t_name=${0##*/}

fail() {
	echo "FAIL: $t_name: $*" >&2
	t_failed=1
}

# expect_status WANT DESCRIPTION -- CMD...: runs CMD, keeps its stdout in $out and its stderr
# in $err, and checks its exit status.
expect_status() {
	local want=$1 what=$2 got
	shift 3
	out=$("$@" 2>"$t_tmp/stderr")
	got=$?
	err=$(<"$t_tmp/stderr")
	if [ "$got" -ne "$want" ]; then
		fail "$what: exit $got, want $want (stdout: '$out', stderr: '$err')"
		return 1
	fi
	return 0
}

expect_eq() {
	local got=$1 want=$2 what=$3
	[ "$got" = "$want" ] || fail "$what: got '$got', want '$want'"
}

expect_match() {
	local text=$1 pattern=$2 what=$3
	[[ $text == *"$pattern"* ]] || fail "$what: '$text' does not contain '$pattern'"
}

# Exits 77 (skip) unless root; under CI=true a missing privilege is a failure instead.
require_privilege() {
	if [ "$(id -u)" -eq 0 ] && unshare --pid --fork --kill-child -- true 2>/dev/null; then
		return 0
	fi
	if [ "${CI:-}" = true ]; then
		echo "$t_name: needs root and PID namespaces, which CI must provide" >&2
		exit 1
	fi
	echo "$t_name: skipped: needs root and PID namespaces (unshare --pid)" >&2
	exit 77
}

# Re-executes the calling script as PID 1 of a new PID namespace, so that every PID it pins
# belongs to that namespace; the kernel kills whatever is left when the script ends.
enter_private_pidns() {
	require_privilege
	if [ "$$" -ne 1 ]; then
		exec unshare --pid --fork --kill-child -- "$BASH" "$0" "$@"
	fi
}

# Sets $n_children to the children (live or zombie) of this shell, read from the host-side
# /proc where $$ means nothing. Must not run in a subshell: that would count itself.
count_children() {
	local stat kids=()
	read -r stat </proc/self/stat # opened by this shell itself, so "self" is the shell
	stat=${stat%% *}
	read -r -a kids <"/proc/$stat/task/$stat/children" || true
	n_children=${#kids[@]}
}

# Call once, after enter_private_pidns: a scratch directory removed on exit.
begin() {
	: "${PIDTUPLE:?set PIDTUPLE to the pidtuple binary}"
	t_tmp=$(mktemp -d) || exit 1
	trap 'rm -rf "$t_tmp"' EXIT
}

finish() {
	count_children
	[ "$n_children" -eq 0 ] || fail "$n_children child process(es) left behind"
	if [ "$t_failed" -ne 0 ]; then
		echo "$t_name: FAILED" >&2
		exit 1
	fi
	echo "$t_name: ok"
	exit 0
}
