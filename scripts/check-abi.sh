#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-abi.sh ABIDIFF BASELINE.abi SUPPRESSIONS HEADERS_DIR LIB.so
#
# Compares LIB.so against the committed ABI baseline with libabigail's abidiff. Added symbols
# are allowed (--no-added-syms), so is append-only growth of size-prefixed structs (see
# SUPPRESSIONS). Anything else fails. ABIDIFF may be empty when abidiff was not found; then
# the check fails, unless PIDTUPLE_ALLOW_NO_ABIDIFF=1, which makes it exit 77 (CTest: skipped).
set -eu

if [ "$#" -ne 5 ]; then
	echo "usage: $0 ABIDIFF BASELINE.abi SUPPRESSIONS HEADERS_DIR LIB.so" >&2
	exit 2
fi
abidiff=$1
baseline=$2
suppressions=$3
headers=$4
lib=$5

if [ -z "$abidiff" ] || ! command -v "$abidiff" >/dev/null 2>&1; then
	if [ "${PIDTUPLE_ALLOW_NO_ABIDIFF:-0}" = 1 ]; then
		echo "abidiff not found; ABI check skipped because PIDTUPLE_ALLOW_NO_ABIDIFF=1"
		exit 77
	fi
	echo "FAIL: abidiff not found. Install abigail-tools (scripts/deps.sh) and re-run cmake," >&2
	echo "      or set PIDTUPLE_ALLOW_NO_ABIDIFF=1 to skip this check." >&2
	exit 1
fi
if [ ! -f "$baseline" ]; then
	echo "FAIL: no ABI baseline at $baseline." >&2
	echo "      Create it from a RelWithDebInfo build: cmake --build build/gcc --target abi-dump" >&2
	exit 1
fi

rc=0
"$abidiff" --no-added-syms --suppressions "$suppressions" --headers-dir2 "$headers" \
	"$baseline" "$lib" || rc=$?
if [ "$rc" -eq 0 ]; then
	echo "OK: $lib matches the ABI baseline $baseline"
	exit 0
fi

echo >&2
echo "FAIL: abidiff exit code $rc:" >&2
[ $((rc & 1)) -ne 0 ] && echo "  - abidiff error (bit 1)" >&2
[ $((rc & 2)) -ne 0 ] && echo "  - abidiff usage error (bit 2)" >&2
[ $((rc & 4)) -ne 0 ] && echo "  - ABI change that needs review (bit 4)" >&2
[ $((rc & 8)) -ne 0 ] && echo "  - INCOMPATIBLE ABI change, e.g. a removed symbol (bit 8)" >&2
cat >&2 <<MSG
The public ABI of $lib differs from the baseline.
  - Only appending symbols (in a new PIDTUPLE_x.y node of lib/libpidtuple.map) and appending
    fields at the end of size-prefixed structs are allowed.
  - If the change is intended and compatible (a new minor release), regenerate the baseline
    with 'cmake --build build/gcc --target abi-dump' and commit abi/libpidtuple.abi.
  - Build with debug info (RelWithDebInfo); without DWARF only symbols are compared.
MSG
exit 1
