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

# expect_json WHAT EXPR: $out is JSON and the Python expression EXPR is true of it (as `d`).
expect_json() {
	local what=$1 expr=$2
	python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$expr" <<<"$out" ||
		fail "$what: not JSON, or not ($expr): '$out'"
}

# The members of every error object of `pidtuple ... --json`.
json_error_keys='{"errno", "errno_name", "rule", "rule_number", "headline", "node", "thread", "level",
	"levels", "nspid_field", "pid", "byte", "kernel_errno", "usage", "message"}'

# expect_json_error WHAT [KEY=JSON]...: $out is one object whose "error" has every member,
# and those given have the values given, as JSON text: rule='"pid-taken"' pid=1 node=null.
expect_json_error() {
	local what=$1
	shift
	python3 -c 'import json, sys
keys = eval(sys.argv[1])
e = json.loads(sys.stdin.read())["error"]
assert set(e) == keys, sorted(set(e) ^ keys)
assert isinstance(e["message"], str) and e["message"] and "\n" not in e["message"]
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    assert e[k] == json.loads(v), (k, e[k], v)' "$json_error_keys" "$@" <<<"$out" ||
		fail "$what: not an error object with $*: '$out'"
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

# The outermost PID of every node of a pretty capture (pidtuple capture FILE), one per line.
tree_pids() {
	sed -n 's/^ *"tuple": "\([0-9]*\).*/\1/p' "$1"
}

# kill_captured FILE [OPTION...]: kills every process FILE describes, then waits until its PIDs are
# free again, as `pidtuple restore --check OPTION... FILE` sees them (the orphans are reaped by
# the calling shell, the namespace's init).
kill_captured() {
	local pid
	for pid in $(tree_pids "$1"); do
		kill -KILL "$pid" 2>/dev/null
	done
	for _ in $(seq 200); do
		"$PIDTUPLE" restore --check "${@:2}" "$1" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "the PIDs of $1 did not become free"
	return 1
}

# Call once, after enter_private_pidns: a scratch directory removed on exit.
begin() {
	: "${PIDTUPLE:?set PIDTUPLE to the pidtuple binary}"
	t_tmp=$(mktemp -d "${TMPDIR:-/tmp}/pidtuple-cli.XXXXXXXX") || exit 1
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
