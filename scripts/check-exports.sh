#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-exports.sh LIB.so MAPFILE OBJECT...
#
# Checks that the shared library exports exactly the PIDTUPLE_API symbols, all versioned:
#  - defined GLOBAL/WEAK symbols with DEFAULT visibility in the library's object files (the
#    ones marked PIDTUPLE_API) must equal the @PIDTUPLE_* versioned symbols of LIB.so;
#  - LIB.so must export nothing unversioned or under another version;
#  - every symbol listed in a global: section of MAPFILE must be exported.
# OBJECT arguments may also be one ';'-separated list (as CMake passes $<TARGET_OBJECTS:...>).
set -eu

if [ "$#" -lt 3 ]; then
	echo "usage: $0 LIB.so MAPFILE OBJECT..." >&2
	exit 2
fi
prefix=${PIDTUPLE_SYMVER_PREFIX:-PIDTUPLE_}
lib=$1
map=$2
shift 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# 1. PIDTUPLE_API symbols, from the object files.
: >"$tmp/objects"
set -f
for arg in "$@"; do
	old_ifs=$IFS
	IFS=';'
	for obj in $arg; do
		[ -n "$obj" ] && printf '%s\n' "$obj" >>"$tmp/objects"
	done
	IFS=$old_ifs
done
set +f
while IFS= read -r obj; do
	LC_ALL=C readelf -sW "$obj"
done <"$tmp/objects" |
	awk '($5 == "GLOBAL" || $5 == "WEAK") && $6 == "DEFAULT" && $7 != "UND" && NF >= 8 {
		sub(/@.*/, "", $8); print $8 }' |
	LC_ALL=C sort -u >"$tmp/api"

# 2. Dynamic symbols the library defines.
LC_ALL=C readelf --dyn-syms -W "$lib" |
	awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" && NF >= 8 { print $7, $8 }' \
	>"$tmp/dynsyms"

# The version nodes themselves appear as ABS symbols (PIDTUPLE_1.0@@PIDTUPLE_1.0): skip them.
grep -v '^ABS ' "$tmp/dynsyms" | awk '{ print $2 }' >"$tmp/defined" || true
grep "@@*${prefix}" "$tmp/defined" | sed 's/@.*//' | LC_ALL=C sort -u >"$tmp/versioned" || true
if grep -v "@@*${prefix}" "$tmp/defined" >"$tmp/bad"; then
	echo "FAIL: $lib exports symbols without a ${prefix}* version:" >&2
	sed 's/^/  /' "$tmp/bad" >&2
	echo "  (add them to $map, or make them static / hidden)" >&2
	fail=1
fi

if ! diff -u "$tmp/api" "$tmp/versioned" >"$tmp/diff"; then
	echo "FAIL: PIDTUPLE_API symbols in the objects (-) differ from ${prefix}* symbols of $lib (+):" >&2
	tail -n +3 "$tmp/diff" | grep '^[-+]' >&2 || true
	echo "  '-': marked PIDTUPLE_API but missing from $map;" >&2
	echo "  '+': exported through $map but not marked PIDTUPLE_API (or not defined)" >&2
	fail=1
fi

# 3. Every name in a global: section of the map must be exported.
sed 's/#.*//' "$map" | awk '
	/global:/ { g = 1; sub(/.*global:/, "") }
	/local:/ { g = 0 }
	/}/ { g = 0 }
	g { n = split($0, w, /[ \t;]+/); for (i = 1; i <= n; i++) if (w[i] ~ /^[A-Za-z_][A-Za-z0-9_]*$/) print w[i] }' |
	LC_ALL=C sort -u >"$tmp/mapped"
if [ ! -s "$tmp/mapped" ]; then
	echo "FAIL: no symbols found in the global: sections of $map" >&2
	fail=1
fi
if LC_ALL=C comm -23 "$tmp/mapped" "$tmp/versioned" | grep . >"$tmp/missing"; then
	echo "FAIL: listed in $map but not exported by $lib:" >&2
	sed 's/^/  /' "$tmp/missing" >&2
	fail=1
fi

if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "OK: $(wc -l <"$tmp/versioned") symbols exported, all ${prefix}* versioned, map and objects agree"
