#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# kmatrix.sh BUILD_DIR [KERNEL_PATTERN]
#
# Runs the Check suites (tests/check_*.c) and the examples under other Linux kernels:
# Debian 12's own cloud kernels, booted in qemu-system-x86_64 with TCG, from a busybox
# initramfs that holds static test binaries. Old kernels make the library's fallbacks run for
# real (6.1: no nsfs PID ioctls, no PIDFD_GET_INFO, one global pid_max).
#
# Kernels: KERNEL_PATTERN (a regex on apt package names), else $KMATRIX_KERNELS, a list of
# "6.1", "6.12" or such regexes (default "6.1"). The newest matching linux-image .deb is
# fetched with apt-get download into $KMATRIX_CACHE (default BUILD_DIR/kmatrix-cache) and
# reused; without the archive, the newest cached one is used.
#
# Exit: 0 when every suite passed under every kernel; 1 when one failed, timed out, skipped or
# did not build; 77 when qemu cannot run here at all (no qemu or busybox-static obtainable, no
# kernel obtainable), unless KMATRIX_REQUIRE=1 makes that a failure too.
# Other knobs: KMATRIX_SUITE_TIMEOUT (seconds per binary in the guest, default 300),
# KMATRIX_QEMU_TIMEOUT (seconds per boot, default 600), CC (default gcc).
#
# KVM is never used: on some CI machines /dev/kvm is a nested PVM (kvm_pvm) on which a guest is
# 30-100 times slower than under TCG and then dies with an emulation failure.
# shellcheck disable=SC2317 # functions run through bg() look unreachable to shellcheck
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 BUILD_DIR [KERNEL_PATTERN]" >&2
	exit 2
fi

src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
if [ $# -ge 2 ]; then
	kernels=("$2")
else
	read -r -a kernels <<<"${KMATRIX_KERNELS:-6.1}"
fi
# A work directory per kernel list, so that kmatrix-6.1 and kmatrix-6.12 may run in parallel.
tag=$(tr -c 'A-Za-z0-9.\n' _ <<<"${kernels[*]}")
[ ${#tag} -le 20 ] || tag=k$(cksum <<<"${kernels[*]}" | cut -d' ' -f1)
work=$build/kmatrix/$tag
cache=${KMATRIX_CACHE:-$build/kmatrix-cache}
suite_timeout=${KMATRIX_SUITE_TIMEOUT:-300}
qemu_timeout=${KMATRIX_QEMU_TIMEOUT:-600}
cc=${CC:-gcc}
mkdir -p "$work" "$cache"

log() { echo "kmatrix: $*"; }

skip() {
	echo "kmatrix: SKIP: $*" >&2
	if [ "${KMATRIX_REQUIRE:-0}" = 1 ]; then
		echo "kmatrix: KMATRIX_REQUIRE=1: failing instead" >&2
		exit 1
	fi
	exit 77
}

# newest FILE...: the newest existing file by version sort; nothing if none exists.
newest() {
	local f
	for f in "$@"; do
		if [ -e "$f" ]; then echo "$f"; fi
	done | sort -V | tail -1
}

ms_now() { date +%s%3N; }
secs_since() { awk -v a="$1" -v b="$(ms_now)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

t_total=$(ms_now)

# ---- qemu and busybox-static ------------------------------------------------------------------
# No grep -q after a pipe here: with pipefail, the writer's SIGPIPE would flip the answer.
static_busybox() {
	[ -x /bin/busybox ] &&
		! LC_ALL=C readelf -l /bin/busybox 2>/dev/null | grep INTERP >/dev/null &&
		/bin/busybox --list | grep -x cpio >/dev/null
}

if ! command -v qemu-system-x86_64 >/dev/null || ! static_busybox; then
	pkgs="qemu-system-x86 busybox-static"
	[ "$(id -u)" -eq 0 ] ||
		skip "qemu-system-x86_64 or a static /bin/busybox is missing and this is not root;" \
			"install them with: sudo apt-get install --no-install-recommends $pkgs"
	log "installing $pkgs (log: $work/apt.log)"
	export DEBIAN_FRONTEND=noninteractive
	apt_install() {
		# shellcheck disable=SC2086 # a list of package names
		apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 $pkgs \
			>>"$work/apt.log" 2>&1
	}
	if ! apt_install; then
		apt-get update -q -o DPkg::Lock::Timeout=300 >>"$work/apt.log" 2>&1 || true
		apt_install || { tail -n 20 "$work/apt.log" >&2; skip "apt-get install $pkgs failed"; }
	fi
fi
qemu_version=$(qemu-system-x86_64 --version 2>&1 | head -1) ||
	skip "qemu-system-x86_64 does not run: $qemu_version"
static_busybox || skip "/bin/busybox is not the static busybox (package busybox-static)"

# ---- static binaries --------------------------------------------------------------------------
# Every binary is built on its own: one that fails to build is reported, the others still run.
t_build=$(ms_now)
root=$work/initramfs
obj=$work/obj
rm -rf "$root" "$obj"
mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,t,ex} "$obj"

cflags=(-std=gnu11 -D_GNU_SOURCE -O2 -g0 -Wall -Wextra -I"$src/include" -I"$src/lib")
# shellcheck disable=SC2207 # pkg-config prints flags separated by spaces
check_cflags=($(pkg-config --cflags check 2>/dev/null || true))
# shellcheck disable=SC2207
check_libs=($(pkg-config --static --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm))
libs=("${check_libs[@]}" -lseccomp -pthread)

njobs=$(nproc 2>/dev/null || echo 2)
# bg CMD...: runs CMD in the background, at most $njobs at a time.
bg() {
	while [ "$(jobs -pr | wc -l)" -ge "$njobs" ]; do
		wait -n || true
	done
	"$@" &
}

# lib_obj SOURCE: one library object; a failure leaves lib-NAME.failed and its log.
lib_obj() {
	local n
	n=lib-$(basename "${1%.c}")
	"$cc" "${cflags[@]}" -c "$1" -o "$obj/$n.o" >"$obj/$n.log" 2>&1 || touch "$obj/$n.failed"
}
for c in "$src"/lib/*.c; do
	bg lib_obj "$c"
done
helpers_obj() {
	"$cc" "${cflags[@]}" "${check_cflags[@]}" -I"$src/tests" -c "$src/tests/helpers.c" \
		-o "$obj/helpers.o" >"$obj/helpers.log" 2>&1 || touch "$obj/helpers.failed"
}
bg helpers_obj
wait
if [ -n "$(newest "$obj"/lib-*.failed)" ]; then
	for f in "$obj"/lib-*.failed; do cat "${f%.failed}.log"; done >"$obj/lib.log"
	lib_ok=0
else
	ar rcs "$obj/libpidtuple.a" "$obj"/lib-*.o
	lib_ok=1
fi

# static_bin NAME OUT SOURCE [EXTRA_OBJ...]: a failure leaves NAME.failed next to NAME.log.
static_bin() {
	local name=$1 out=$2 source=$3 blog=$obj/$1.log
	shift 3
	if [ "$lib_ok" -ne 1 ]; then
		cp "$obj/lib.log" "$blog"
	elif [ -e "$obj/helpers.failed" ] && [ $# -gt 0 ]; then
		cp "$obj/helpers.log" "$blog"
	elif "$cc" "${cflags[@]}" "${check_cflags[@]}" -I"$src/tests" -static -s -o "$out" \
		"$source" "$@" "$obj/libpidtuple.a" "${libs[@]}" >"$blog" 2>&1; then
		return 0
	fi
	touch "$obj/$name.failed"
	rm -f "$out"
	return 1
}

suites=()
for c in "$src"/tests/check_*.c; do
	[ -e "$c" ] || continue
	name=$(basename "${c%.c}")
	suites+=("$name")
	bg static_bin "$name" "$root/t/$name" "$c" "$obj/helpers.o"
done
for c in "$src"/examples/*.c; do
	[ -e "$c" ] || continue
	name=example-$(basename "${c%.c}")
	suites+=("$name")
	bg static_bin "$name" "$root/ex/$(basename "${c%.c}")" "$c"
done
bg static_bin kmatrix-features "$root/bin/kmatrix-features" "$src/tests/kmatrix/features.c"
wait
[ ${#suites[@]} -gt 0 ] || { echo "kmatrix: no tests/check_*.c found" >&2; exit 1; }
if [ -e "$obj/kmatrix-features.failed" ]; then
	echo "kmatrix: cannot build tests/kmatrix/features.c:" >&2
	cat "$obj/kmatrix-features.log" >&2
	exit 1
fi
declare -A build_fail=() # binary name -> compiler log
for name in "${suites[@]}"; do
	[ ! -e "$obj/$name.failed" ] || build_fail[$name]=$obj/$name.log
done

# ---- the BPF scan ------------------------------------------------------------------------------
# The static binaries have no BPF scan (libbpf is opened at run time). So that the BPF program
# is loaded, verified and compared with /proc under each kernel too, the build's own check_scan
# (dynamic, built with the program) runs its "bpf" case from /d, with every library it and
# libbpf.so.1 load in /dlib (the guest's LD_LIBRARY_PATH: the build directory may be under
# /tmp, which the guest mounts over) and the dynamic loader at its own path. Only where the
# build has the program and the host has libbpf.so.1; the suite then fails when the program
# does not load in a kernel with BTF.
copy_with_libs() {
	local f x
	mkdir -p "$root/dlib" "$root/d"
	# shellcheck disable=SC2046 # ldd's paths, one word each (one file at a time: no headers)
	for f in $(for x in "$@"; do ldd "$x"; done 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
		case $f in
		*/ld-linux*)
			mkdir -p "$root$(dirname "$f")"
			cp -L "$f" "$root$f"
			;;
		*) cp -L "$f" "$root/dlib/" ;;
		esac
	done
}
libbpf=$(ldconfig -p 2>/dev/null | grep -o '/[^ ]*/libbpf\.so\.1$' | head -1 || true)
if [ -e "$build/scan.bpf.o" ] && [ -x "$build/tests/check_scan" ] && [ -n "$libbpf" ]; then
	copy_with_libs "$build/tests/check_scan" "$libbpf"
	cp "$build/tests/check_scan" "$root/d/check_scan_bpf"
	cp -L "$libbpf" "$root/dlib/"
	suites+=(check_scan_bpf)
else
	log "no BPF scan in $build, or no libbpf.so.1 here: the BPF program is not run"
fi

# ---- the restore's heap -------------------------------------------------------------------------
# A static program's TLS is on its heap, which a restore then keeps (lib/restore_heap.c). So that
# a restore whose held processes leave the heap out runs under each kernel too, the build's own
# dynamic check_restore_heap runs from /d as well, and fails when the heap is kept.
if [ -x "$build/tests/check_restore_heap" ]; then
	copy_with_libs "$build/tests/check_restore_heap"
	cp "$build/tests/check_restore_heap" "$root/d/check_restore_heap_dyn"
	suites+=(check_restore_heap_dyn)
fi

cp /bin/busybox "$root/bin/busybox"
cp "$src/tests/kmatrix/init.sh" "$root/init"
chmod 755 "$root/init"
echo "KMATRIX_SUITE_TIMEOUT=$suite_timeout" >"$root/kmatrix.env"
# Tests use /etc/passwd as a path that surely exists (e.g. "/etc/passwd/x" gives ENOTDIR).
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
if [ "$(id -u)" -eq 0 ]; then
	mknod "$root/dev/console" c 5 1
	mknod "$root/dev/null" c 1 3
fi # else the kernel's built-in initramfs supplies /dev/console, and /init mounts devtmpfs
(cd "$root" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) \
	>"$work/initrd.gz"
log "built ${#suites[@]} binaries (${#build_fail[@]} failed) and the initramfs" \
	"($(du -k "$work/initrd.gz" | cut -f1) KiB) in $(secs_since "$t_build") s"

# ---- kernels ----------------------------------------------------------------------------------
kernel_pattern() {
	case $1 in
	6.1) echo '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' ;;
	6.12) echo '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned$' ;;
	*) echo "$1" ;;
	esac
}

# cached_debs PATTERN: "NAME PATH" of every cached .deb whose package name matches.
cached_debs() {
	local deb base
	for deb in "$cache"/*.deb; do
		[ -e "$deb" ] || continue
		base=${deb##*/}
		echo "${base%%_*} $deb"
	done | grep -E "${1%\$} " || true
}

# prune_cache PATTERN KEEP: drops older kernels of the same series (ABI bumps rename them).
prune_cache() {
	local name deb
	cached_debs "$1" | while read -r name deb; do
		[ "$deb" = "$2" ] || rm -rf "$deb" "${deb%.deb}"
	done
}

apt_updated=0
# fetch_kernel PATTERN: sets $deb to a cached .deb of the newest matching package, or "".
fetch_kernel() {
	local pat=$1 pkg
	pkg=$(apt-cache search --names-only "$pat" 2>/dev/null | cut -d' ' -f1 | sort -V | tail -1)
	if [ -z "$pkg" ] && [ $apt_updated -eq 0 ] && [ "$(id -u)" -eq 0 ]; then
		apt_updated=1
		apt-get update -q -o DPkg::Lock::Timeout=300 >>"$work/apt.log" 2>&1 || true
		pkg=$(apt-cache search --names-only "$pat" 2>/dev/null | cut -d' ' -f1 | sort -V | tail -1)
	fi
	if [ -n "$pkg" ]; then
		deb=$(newest "$cache/${pkg}_"*.deb)
		if [ -z "$deb" ]; then
			log "downloading $pkg" >&2
			(cd "$cache" && apt-get download -q "$pkg" >>"$work/apt.log" 2>&1) || true
			deb=$(newest "$cache/${pkg}_"*.deb)
			[ -z "$deb" ] || prune_cache "$pat" "$deb"
		fi
		[ -z "$deb" ] || return 0
	fi
	# No archive: the newest cached package whose name matches.
	deb=$(cached_debs "$pat" | sort -V | tail -1 | cut -d' ' -f2)
}

overall=0 ran=0 missing=0
for k in "${kernels[@]}"; do
	pat=$(kernel_pattern "$k")
	exec 9>"$cache/.lock"
	flock 9 # parallel runs share the cache
	fetch_kernel "$pat"
	if [ -z "$deb" ]; then
		flock -u 9
		echo "kmatrix: no kernel package matching '$pat' in the apt archive or in $cache" >&2
		missing=$((missing + 1))
		continue
	fi
	kdir=$cache/$(basename "${deb%.deb}")
	kernel=$(newest "$kdir"/boot/vmlinuz-*)
	if [ -z "$kernel" ]; then
		rm -rf "$kdir" && mkdir -p "$kdir"
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir" --wildcards './boot/vmlinuz-*'
		kernel=$(newest "$kdir"/boot/vmlinuz-*)
	fi
	flock -u 9
	kver=${kernel##*/vmlinuz-}
	serial=$work/serial-$kver.log
	ran=$((ran + 1))

	log "booting $kver ($(basename "$deb")) with TCG"
	t_boot=$(ms_now)
	# -accel tcg on purpose (see the top). qemu exits 0 after poweroff whatever the tests did.
	timeout "$qemu_timeout" qemu-system-x86_64 -accel tcg -cpu qemu64 -m 1024 -smp 2 \
		-kernel "$kernel" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1" \
		-nographic -no-reboot -nic none </dev/null >"$serial" 2>&1 || true
	boot_secs=$(secs_since "$t_boot")

	# SeaBIOS writes escape codes onto the serial line.
	clean=$work/console-$kver.log
	tr -d '\033\r' <"$serial" >"$clean"
	echo "----- guest console ($kver) -----"
	if grep -aq 'KMATRIX BEGIN' "$clean"; then
		sed -n '/KMATRIX BEGIN/,$p' "$clean"
	else
		tail -n 60 "$clean"
	fi
	echo "----- end of guest console -----"

	krc=0
	grep -aq '=== KMATRIX END rc=' "$clean" || {
		echo "kmatrix: $kver: no end marker: the guest crashed or hit the ${qemu_timeout} s timeout" \
			"(full log: $serial)"
		krc=1
	}
	printf 'kmatrix: %s: results (boot+tests %s s, qemu: %s)\n' "$kver" "$boot_secs" "$qemu_version"
	for name in "${suites[@]}"; do
		if [ -n "${build_fail[$name]:-}" ]; then
			printf '  %-28s FAIL (static build failed)\n' "$name"
			head -n 40 "${build_fail[$name]}" | sed 's/^/      /'
			krc=1
			continue
		fi
		line=$(grep -a "^KMATRIX SUITE $name " "$clean" | tail -1 || true)
		if [ -z "$line" ]; then
			printf '  %-28s FAIL (no result: did not run or the guest died)\n' "$name"
			krc=1
			continue
		fi
		read -r _ _ _ verdict rest <<<"$line"
		printf '  %-28s %s (%s)\n' "$name" "$verdict" "$rest"
		[ "$verdict" = PASS ] || krc=1
	done
	if [ $krc -eq 0 ] && ! grep -aq '=== KMATRIX END rc=0 ===' "$clean"; then
		krc=1
	fi
	if [ $krc -eq 0 ]; then
		log "$kver: PASS"
	else
		log "$kver: FAIL (serial log: $serial)"
		overall=1
	fi
done

[ $ran -gt 0 ] || skip "no kernel could be obtained for: ${kernels[*]}"
[ $missing -eq 0 ] || overall=1
log "total $(secs_since "$t_total") s"
exit $overall
