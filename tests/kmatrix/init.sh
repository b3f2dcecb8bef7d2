#!/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# /init of the kmatrix initramfs (scripts/kmatrix.sh packs it): runs every static test binary
# in /t (Check suites) and /ex (examples), and the dynamic ones in /d (the BPF scan), one line
# per binary, then powers off. The host decides pass/fail from the "KMATRIX" lines on the
# serial console.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# shellcheck source=/dev/null # written by kmatrix.sh: KMATRIX_SUITE_TIMEOUT
. /kmatrix.env

# CI=true: a privileged suite that finds no privilege fails instead of skipping. TCG is slow,
# so Check's per-test timeouts are stretched.
export CI=true CK_FORK=yes CK_DEFAULT_TIMEOUT=30 CK_TIMEOUT_MULTIPLIER=4 HOME=/tmp TMPDIR=/tmp

now() { cut -d' ' -f1 /proc/uptime; }

echo "=== KMATRIX BEGIN $(uname -r) ==="
/bin/kmatrix-features
rc=0
for t in /t/* /ex/* /d/*; do
	[ -x "$t" ] || continue
	name=${t##*/}
	case $t in
	/ex/*)
		# Examples want a PID namespace of their own (their "Run:" line says unshare
		# --pid --fork --kill-child; busybox has no --kill-child, and the example is the
		# namespace's init anyway).
		name=example-$name
		set -- unshare --pid --fork "$t"
		;;
	/d/check_restore_heap_dyn)
		# The build's own dynamic check_restore_heap, which fails when the heap is kept.
		set -- env LD_LIBRARY_PATH=/dlib PIDTUPLE_TEST_REQUIRE_HEAP_LEFT_OUT=1 "$t"
		;;
	/d/*)
		# The build's own dynamic check_scan, with the BPF scan: its "bpf" case only, which
		# fails when the program does not load.
		set -- env LD_LIBRARY_PATH=/dlib CK_RUN_CASE=bpf PIDTUPLE_TEST_REQUIRE_BPF=1 "$t"
		;;
	*)
		set -- "$t"
		;;
	esac
	echo "--- KMATRIX RUN $name"
	start=$(now)
	timeout "$KMATRIX_SUITE_TIMEOUT" "$@" </dev/null 2>&1
	r=$?
	secs=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
	case $r in
	0) verdict=PASS ;;
	77) verdict=SKIP ;; # must not happen under CI=true: counted as a failure
	124 | 143) verdict=TIMEOUT ;;
	*) verdict=FAIL ;;
	esac
	[ $r -eq 0 ] || rc=1
	echo "KMATRIX SUITE $name $verdict rc=$r time=${secs}s"
done
echo "=== KMATRIX END rc=$rc ==="
sync
poweroff -f
