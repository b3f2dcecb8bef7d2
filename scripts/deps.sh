#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs the Debian 12 packages needed to build, test and document libpidtuple.
# Idempotent: does nothing when everything is installed. The BPF scan needs only clang to build
# (its program declares its kernel types itself: no libbpf-dev) and libbpf1 to run (opened at
# run time), so that the tests take the BPF path; without either, everything still passes. Needs root to install; otherwise it
# prints what is missing and exits 1.
set -eu

packages="build-essential cmake pkg-config clang check libsubunit-dev doxygen abigail-tools
libseccomp-dev libjson-c-dev libsmartcols-dev valgrind python3 python3-pytest qemu-system-x86
busybox-static debhelper dh-python lintian dpkg-dev fakeroot mypy
libclang-rt-14-dev liburing-dev man-db libbpf1"

missing=""
for pkg in $packages; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	if [ "$status" != "installed" ]; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all packages installed"
	exit 0
fi

echo "deps: missing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root; install them with: sudo apt-get install$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # $missing is a space-separated list of package names
apt-get install -y --no-install-recommends $missing
