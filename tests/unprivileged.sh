#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The pure suite and the CLI's read commands as an unprivileged user: run as root, it drops to
# nobody (uid and gid 65534, no groups, no capability) with setpriv (or runuser); run by
# anyone else, it runs as that user. The binaries and the shared objects they load from the
# build tree are copied to a directory of their own first, so a build tree nobody may not
# read does not matter. Checked: check_tuple passes; `pidtuple features` exits 0 and reports
# bpf_scan absent with a reason; `pidtuple ps` and `pidtuple ps --json` exit 0, print
# nothing on stderr (the scan falls back to /proc silently), list processes, and the JSON
# parses. Environment: PIDTUPLE (the CLI), CHECK_TUPLE (the suite), BUILD_DIR (the build
# tree: the shared objects to copy come from there). Exit 77 when it cannot drop privilege,
# except under CI=true, where that is a failure.
set -u

skip() {
	echo "SKIP: ${0##*/}: $*" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 77
}

failed=0
fail() {
	echo "FAIL: ${0##*/}: $*" >&2
	failed=1
}

for v in PIDTUPLE CHECK_TUPLE BUILD_DIR; do
	[ -n "${!v:-}" ] || {
		echo "${0##*/}: $v is not set" >&2
		exit 1
	}
done

if [ "$(id -u)" -eq 0 ]; then
	if command -v setpriv >/dev/null; then
		as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
	elif command -v runuser >/dev/null; then
		as_user=(runuser -u nobody --)
	else
		skip "neither setpriv nor runuser is installed"
	fi
else
	as_user=()
fi

dir=$(mktemp -d /tmp/pidtuple-unpriv.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"

# copy BINARY: into $dir, with the build tree's shared objects it loads, under their sonames.
copy() {
	local lib path
	cp "$1" "$dir/" || return 1
	while read -r lib _ path _; do
		case $path in
		"$BUILD_DIR"/*) [ -e "$dir/$lib" ] || cp -L "$path" "$dir/$lib" || return 1 ;;
		esac
	done < <(ldd "$1")
}
copy "$PIDTUPLE" && copy "$CHECK_TUPLE" || exit 1
chmod -R a+rX "$dir"
P=$dir/${PIDTUPLE##*/}
T=$dir/${CHECK_TUPLE##*/}

# run NAME CMD...: CMD as the unprivileged user in $dir, its stdout in $dir/NAME.out, its
# stderr in $dir/NAME.err; returns its exit status.
run() {
	local name=$1
	shift
	(cd "$dir" && env -u CK_TAP_LOG_FILE_NAME LD_LIBRARY_PATH="$dir" CK_FORK=yes \
		"${as_user[@]}" "$@") >"$dir/$name.out" 2>"$dir/$name.err"
}

# The user really is unprivileged: no capability in its effective set.
run whoami sh -c 'id -u; grep ^CapEff: /proc/self/status'
if [ "${#as_user[@]}" -gt 0 ] && ! grep -qx 65534 "$dir/whoami.out"; then
	fail "not running as nobody: $(cat "$dir/whoami.out" "$dir/whoami.err")"
fi
grep -q '^CapEff:[[:space:]]*0*$' "$dir/whoami.out" ||
	fail "capabilities left: $(cat "$dir/whoami.out")"

run check_tuple "$T" || fail "check_tuple: exit $?: $(tail -20 "$dir/check_tuple.out" "$dir/check_tuple.err")"

if run features "$P" features; then
	grep -Eq '^bpf_scan +E[A-Z]+: .+' "$dir/features.out" ||
		fail "features: bpf_scan is not reported absent with a reason: $(cat "$dir/features.out")"
else
	fail "features: exit $?: $(cat "$dir/features.err")"
fi
run features_json "$P" features --json bpf_scan
python3 - "$dir/features_json.out" <<'EOF' || fail "features --json: $(cat "$dir/features_json.out")"
import json, sys
d = json.load(open(sys.argv[1]))["bpf_scan"]
assert d["present"] is False and d["errno"] > 0 and d["reason"], d
EOF

if run ps "$P" ps; then
	[ ! -s "$dir/ps.err" ] || fail "ps: wrote to stderr: $(cat "$dir/ps.err")"
	[ "$(wc -l <"$dir/ps.out")" -ge 2 ] || fail "ps: no process listed: $(cat "$dir/ps.out")"
	head -1 "$dir/ps.out" | grep -q '^ *PID  *PPID  *TUPLE' || fail "ps: no header: $(head -1 "$dir/ps.out")"
else
	fail "ps: exit $?: $(cat "$dir/ps.err")"
fi

if run ps_json "$P" ps --json; then
	[ ! -s "$dir/ps_json.err" ] || fail "ps --json: wrote to stderr: $(cat "$dir/ps_json.err")"
	python3 - "$dir/ps_json.out" <<'EOF' || fail "ps --json: not the JSON expected"
import json, sys
ps = json.load(open(sys.argv[1]))["processes"]
assert ps, "no process"
for p in ps:
    assert p["pid"] > 0 and p["tuple"] and p["tuple"][-1] > 0 and "comm" in p, p
EOF
else
	fail "ps --json: exit $?: $(cat "$dir/ps_json.err")"
fi

[ "$failed" -eq 0 ] && echo "PASS: ${0##*/}: as $(head -1 "$dir/whoami.out")"
exit "$failed"
