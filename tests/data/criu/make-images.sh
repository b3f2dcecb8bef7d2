#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# make-images.sh CRIU [OUTDIR]: makes the CRIU image directories of tests/data/criu with the
# criu binary CRIU (4.x; this script neither fetches nor builds one), as root:
#
#   sessions  a whole PID namespace: its init leads a session; a process group of two, and a
#             second session with a group of its own (8 processes, criu restore gives the
#             root PID 1 a new namespace)
#   threads   a whole PID namespace: init and a child with 4 threads
#   subtree   a tree dumped by criu running inside a PID namespace, from a process that is
#             not the namespace's init: a session leader, a process group of two, a child
#             with 4 threads, PIDs from 5000 on (criu restore puts it into the namespace it
#             runs in)
#
# Each tree is made of python3 processes that sleep; criu dump kills them once dumped. Only
# inventory.img, pstree.img and core-*.img are kept (what pidtuple import-criu reads); the
# expected JSON beside each directory is pidtuple's own output, checked by hand against
# `crit decode` (docs/criu-images.md). Every process this script starts is ended by its PID.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 CRIU [OUTDIR]" >&2
	exit 2
fi
criu=$(realpath "$1")
out=$(realpath "${2:-$(dirname "$0")}")
[ -x "$criu" ] || { echo "$0: $criu is not executable" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: criu dump needs root" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/criu-images.XXXXXX")
runner= # the unshare this script started and has not yet waited for
cleanup() {
	if [ -n "$runner" ]; then
		kill -KILL "$runner" 2>/dev/null || true # --kill-child ends the namespace's init
		wait "$runner" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# The trees. Every process marks itself ready with a file named by its PID in MARKS, holding
# its PID as /proc (mounted in the caller's namespace) knows it; it keeps no descriptor open.
# shellcheck disable=SC2016 # python, not shell
tree_py='
import os, sys, threading, time
os.closerange(3, 65536)
shape, marks = sys.argv[1], sys.argv[2]

def mark():
    with open(os.path.join(marks, str(os.getpid())), "w") as f:
        f.write(os.readlink("/proc/self"))

def hold():
    mark()
    while True:
        time.sleep(100000)

def child(fn):
    if os.fork() == 0:
        try:
            fn()
        finally:
            os._exit(0)

def group():       # a process group of its own, with one member
    os.setpgid(0, 0)
    child(hold)
    hold()

def session():     # a session of its own: a group of two in it, one more in the leader s group
    os.setsid()
    child(group)
    child(hold)
    hold()

def threaded():    # this thread and three more
    for _ in range(3):
        threading.Thread(target=time.sleep, args=(100000,), daemon=True).start()
    hold()

os.setsid()
if shape == "sessions":
    child(hold)
    child(group)
    child(session)
elif shape == "threads":
    child(threaded)
else:
    child(group)
    child(threaded)
hold()
'

# wait_marks DIR N: until N processes marked themselves ready (30 s at most).
wait_marks() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(find "$1" -type f | wc -l)" -eq "$2" ] && return 0
		sleep 0.1
	done
	echo "$0: the tree in $1 did not start" >&2
	return 1
}

# keep NAME: copies what the reader needs from the dump to OUTDIR/NAME.
keep() {
	rm -rf "${out:?}/$1"
	mkdir -p "$out/$1"
	cp "$work/$1"/inventory.img "$work/$1"/pstree.img "$work/$1"/core-*.img "$out/$1/"
	echo "$1: $(find "$out/$1" -type f | wc -l) files, $(du -sk "$out/$1" | cut -f1) KiB"
}

# dump_ns NAME N: a whole PID namespace whose init runs the tree NAME of N processes, dumped
# from here by the host PID of that init. (This shell has no job control, so setsid runs
# unshare in place: $! is unshare.)
dump_ns() {
	local name=$1 n=$2 init
	mkdir -p "$work/$name" "$work/$name.marks"
	setsid unshare --pid --fork --kill-child \
		python3 -c "$tree_py" "$name" "$work/$name.marks" </dev/null >/dev/null 2>&1 &
	runner=$!
	wait_marks "$work/$name.marks" "$n"
	init=$(<"$work/$name.marks/1") # its PID here
	"$criu" dump -t "$init" -D "$work/$name" -W "$work" -o "$name.log" ||
		{ echo "$0: criu dump failed: $work/$name.log" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
	wait "$runner" || true # the dump killed the tree
	runner=
	keep "$name"
}

# dump_inside NAME N: criu runs as a process of the tree's PID namespace (with its own /proc)
# and dumps the tree from its root, which is not the namespace's init. Its PIDs start above
# 5000, far from those a test's shell takes in a new namespace.
dump_inside() {
	local name=$1 n=$2 status=0
	mkdir -p "$work/$name" "$work/$name.marks"
	# shellcheck disable=SC2016 # for the inner shell
	setsid unshare --pid --fork --kill-child --mount-proc bash -c '
		echo 4999 >/proc/sys/kernel/ns_last_pid
		python3 -c "$1" "$2" "$3" </dev/null >/dev/null 2>&1 &
		root=$!
		for ((i = 0; i < 300; i++)); do
			[ "$(find "$3" -type f | wc -l)" -eq "$5" ] && break
			sleep 0.1
		done
		exec "$6" dump -t "$root" -D "$4" -W "$4/.." -o "$2.log"' inner \
		"$tree_py" "$name" "$work/$name.marks" "$work/$name" "$n" "$criu" \
		</dev/null >/dev/null 2>&1 &
	runner=$!
	wait "$runner" || status=$?
	runner=
	[ "$status" -eq 0 ] ||
		{ echo "$0: criu dump failed: $work/$name.log" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
	keep "$name"
}

dump_ns sessions 8
dump_ns threads 2
dump_inside subtree 4
