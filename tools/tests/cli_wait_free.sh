#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple run and restore --wait-free, as PID 1 of a private PID namespace: a wanted PID held
# by a zombie is named as one, waited for until its parent reaps it, and not past the bound; a
# living holder fails at once.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
enter_private_pidns "$@"
begin

P=$PIDTUPLE
Z=5000 # the zombie's PID
L=5001 # a living holder's

# Leaves a zombie at PID $Z: its parent, a `pidtuple run` (PID $zparent), is stopped before
# the child exits, so nobody waits for it until SIGCONT. The child exits only once the parent
# is seen stopped (state T, read from the host-side /proc where $$ means nothing): a parent
# woken by the exit and the stop at once would reap first.
make_zombie() {
	local fifo=$t_tmp/go self kids k st stopped=
	rm -f "$fifo"
	mkfifo "$fifo"
	# shellcheck disable=SC2016 # $1 is for the child's shell
	"$P" run "$Z" -- sh -c 'read -r _ <"$1"; exit 0' sh "$fifo" >/dev/null 2>&1 &
	zparent=$!
	for _ in $(seq 200); do
		"$P" check "$Z" >/dev/null 2>&1 || break # the child holds $Z
		sleep 0.05
	done
	kill -STOP "$zparent"
	read -r self </proc/self/stat # opened by this shell itself
	self=${self%% *}
	for _ in $(seq 200); do
		read -r -a kids <"/proc/$self/task/$self/children" || true
		for k in "${kids[@]}"; do
			read -r st <"/proc/$k/stat" || continue
			st=${st##*) }
			[ "${st%% *}" = T ] && stopped=1
		done
		[ -n "$stopped" ] && break
		sleep 0.05
	done
	[ -n "$stopped" ] || fail "the parent of $Z did not stop"
	echo go >"$fifo"
	for _ in $(seq 200); do
		[[ $("$P" check "$Z" 2>&1) == *"not yet reaped"* ]] && return 0
		sleep 0.05
	done
	fail "no zombie at $Z: $("$P" check "$Z" 2>&1)"
	return 1
}

elapsed_ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

expect_status 2 "--wait-free without a number" -- "$P" run --wait-free soon "$Z" -- true &&
	expect_match "$err" "--wait-free wants a number of seconds" "--wait-free soon"
expect_status 2 "--wait-free negative" -- "$P" restore --wait-free -1 x.json

make_zombie
# The message says what holds the PID and who has to reap it, and how to wait for that.
expect_status 1 "a zombie holder" -- "$P" run "$Z" -- true &&
	expect_match "$err" "PID $Z (NSpid field 1 of 1) is already in use in that namespace: a zombie of $zparent, not yet reaped" \
		"the zombie and its parent named" &&
	expect_match "$err" "--wait-free SECONDS waits" "the hint"
expect_status 1 "check names the zombie" -- "$P" check "$Z" &&
	expect_match "$err" "a zombie of $zparent" "check: the zombie named"

# Nobody reaps: the wait ends at its bound, with a clear message.
start=$(date +%s%N)
expect_status 1 "--wait-free 1, never reaped" -- "$P" run --wait-free 1 "$Z" -- true &&
	expect_match "$err" "gave up after waiting 1 s (--wait-free) for PID $Z to be reaped" \
		"--wait-free 1: timed out"
ms=$(elapsed_ms "$start")
((ms >= 1000 && ms < 4000)) || fail "--wait-free 1 took $ms ms"

# Reaped after a second: run waits for it and succeeds.
(
	sleep 1
	kill -CONT "$zparent"
) &
reaper=$!
# shellcheck disable=SC2016 # $$ is for the child's shell
expect_status 0 "--wait-free 5, reaped after 1 s" -- "$P" run --wait-free 5 "$Z" -- sh -c 'echo $$' &&
	expect_eq "$out" "$Z" "run --wait-free: the child got $Z"
wait "$reaper"
wait "$zparent"

# The same for restore, with --check and without.
cat >"$t_tmp/tree.json" <<JSON
{"format": "libpidtuple-tree", "version": 1,
 "nodes": [{"tuple": "$Z", "parent": -1, "kind": "exec",
            "exec": {"path": "/bin/true", "argv": ["true"]}}]}
JSON
make_zombie
expect_status 1 "restore --check, a zombie holder" -- "$P" restore --check "$t_tmp/tree.json" &&
	expect_match "$err" "node 0 (5000): PID $Z (NSpid field 1 of 1) is already in use in that namespace: a zombie of $zparent, not yet reaped" \
		"restore --check: the zombie named"
expect_status 1 "restore --check --wait-free 0.3, never reaped" -- \
	"$P" restore --check --wait-free 0.3 "$t_tmp/tree.json" &&
	expect_match "$err" "gave up after waiting 0.3 s" "restore --check --wait-free: timed out"
(
	sleep 1
	kill -CONT "$zparent"
) &
reaper=$!
expect_status 0 "restore --wait-free 5, reaped after 1 s" -- \
	"$P" restore --wait --wait-free 5 "$t_tmp/tree.json"
wait "$reaper"
wait "$zparent"

# A living holder: no waiting at all.
"$P" run "$L" -- sleep 60 &
holder=$!
for _ in $(seq 100); do
	"$P" check "$L" >/dev/null 2>&1 || break
	sleep 0.05
done
start=$(date +%s%N)
if expect_status 1 "a living holder" -- "$P" run --wait-free 5 "$L" -- true; then
	expect_match "$err" "PID $L (NSpid field 1 of 1) is already in use in that namespace" \
		"a living holder: pid-taken"
	[[ $err != *"not yet reaped"* && $err != *"gave up"* ]] ||
		fail "a living holder is not a zombie: $err"
fi
ms=$(elapsed_ms "$start")
((ms < 2000)) || fail "a living holder: --wait-free 5 waited $ms ms"
kill "$holder"
wait "$holder"

finish
