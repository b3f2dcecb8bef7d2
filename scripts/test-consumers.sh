#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: test-consumers.sh BUILD_DIR [CC [CXX]]
#
# Installs BUILD_DIR into a temporary prefix, then builds tests/consumers/consumer.c (ISO C11)
# and tests/consumers/consumer.cpp (C++17), both with -Wpedantic -Werror, the two ways a
# downstream project would: with pkg-config and with find_package(pidtuple)
# (tests/consumers/cmake), each against the shared and the static library, runs them, and
# checks how each is linked. Then builds tests/consumers/consumer_json.c with pkg-config
# libpidtuple-json and with find_package(pidtuple COMPONENTS json) the same ways, and checks
# that the component is refused when libpidtuple-json is not installed; unless the build has
# PIDTUPLE_WITH_JSON=OFF.
# Exits 77 (skip) in a sanitizer build: its libraries need the sanitizer runtime the
# consumers do not link.
set -eu

if [ "$#" -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [CC [CXX]]" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
cc=${2:-${CC:-cc}}
cxx=${3:-${CXX:-c++}}
src=$(cd "$(dirname "$0")/.." && pwd)

if grep -q '^PIDTUPLE_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "consumers: SKIP: $build is a sanitizer build"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pidtuple-consumers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "consumers: FAIL: $*" >&2
	exit 1
}

# run_logged LOG CMD...: quiet on success, the log on failure.
run_logged() {
	log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		fail "$*"
	fi
}

# ---------------------------------------------------------------------------------------------
# Install
prefix=$tmp/prefix
run_logged "$tmp/install.log" cmake --install "$build" --prefix "$prefix"

pcfile=$(find "$prefix" -name libpidtuple.pc)
if [ -z "$pcfile" ] || [ "$(echo "$pcfile" | wc -l)" -ne 1 ]; then
	fail "expected one libpidtuple.pc under $prefix, found: '$pcfile'"
fi
pcdir=$(dirname "$pcfile")
libdir=$(dirname "$pcdir")
for f in libpidtuple.so libpidtuple.so.1 libpidtuple.a cmake/pidtuple/pidtupleConfig.cmake; do
	[ -e "$libdir/$f" ] || fail "not installed: $libdir/$f"
done
[ -f "$prefix/include/pidtuple.h" ] || fail "not installed: $prefix/include/pidtuple.h"
so=$(realpath "$libdir/libpidtuple.so.1")

version=$(sed -n 's/^#define PIDTUPLE_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
	"$prefix/include/pidtuple.h" | paste -sd.)

# The .pc file carries the configure-time prefix; point it at the temporary one. Our directory
# comes first, so a libpidtuple installed on the host cannot be picked up; the host's path
# after it provides what the .pc files require from elsewhere (json-c, Requires.private).
sys_pc_path=$(pkg-config --variable=pc_path pkg-config)
pc() {
	PKG_CONFIG_LIBDIR=$pcdir:$sys_pc_path PKG_CONFIG_PATH="" \
		pkg-config --define-variable=prefix="$prefix" "$@" libpidtuple
}
[ "$(pc --variable=pcfiledir)" = "$pcdir" ] || fail "pkg-config found $(pc --variable=pcfiledir)/libpidtuple.pc"
[ "$(pc --modversion)" = "$version" ] || fail "pkg-config --modversion: $(pc --modversion), header: $version"
case "$(pc --variable=includedir)" in
"$prefix"/*) ;;
*) fail "pkg-config includedir $(pc --variable=includedir) is outside $prefix" ;;
esac

# ---------------------------------------------------------------------------------------------
# Checks on one built consumer: check BINARY shared|static|full-static
check() {
	exe=$1
	kind=$2
	name=$(basename "$exe")
	out=$(LD_LIBRARY_PATH=$libdir "$exe") || fail "$name exited with $?"
	case "$out" in
	*"consumer: 4242/17/1, libpidtuple $version") ;;
	*) fail "$name printed '$out'" ;;
	esac

	needed=$(readelf -dW "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
	deps=$(LD_LIBRARY_PATH=$libdir ldd "$exe" 2>&1 || true)
	case "$kind" in
	shared)
		echo "$needed" | grep -qx 'libpidtuple.so.1' ||
			fail "$name: NEEDED lacks libpidtuple.so.1: $needed"
		path=$(echo "$deps" | sed -n 's/^[[:space:]]*libpidtuple\.so\.1 => \(.*\) (0x.*$/\1/p')
		if [ -z "$path" ] || [ "$(realpath "$path")" != "$so" ]; then
			fail "$name: ldd resolves libpidtuple.so.1 to '$path', not $so"
		fi
		# Calls bind to the versioned symbols, so the binary keeps working with later 1.x.
		readelf --dyn-syms -W "$exe" | grep -q ' pidtuple_parse@PIDTUPLE_1\.0' ||
			fail "$name: pidtuple_parse is not bound to PIDTUPLE_1.0"
		;;
	static)
		! echo "$deps" | grep -q libpidtuple || fail "$name: linked to the shared library: $deps"
		! readelf --dyn-syms -W "$exe" | grep -q pidtuple_ ||
			fail "$name: imports pidtuple_* symbols"
		;;
	full-static)
		! echo "$needed" | grep -q . || fail "$name: has NEEDED entries: $needed"
		;;
	esac
	echo "consumers: ok  $name ($kind): $out"
}

# ---------------------------------------------------------------------------------------------
# pkg-config
bin=$tmp/pkgconfig
mkdir -p "$bin"
# What a careful downstream project builds with: ISO C11 and C++17, pedantic, warnings fatal.
cflags="-Wall -Wextra -Wpedantic -Werror"
# shellcheck disable=SC2046,SC2086 # $cflags and pkg-config output are split into words
{
	run_logged "$tmp/cc.log" "$cc" -std=c11 $cflags $(pc --cflags) \
		"$src/tests/consumers/consumer.c" -o "$bin/c_shared" $(pc --libs)
	# --static adds Libs.private; -Bstatic makes the linker take libpidtuple.a over the .so
	# lying next to it, the C library stays shared.
	run_logged "$tmp/cc.log" "$cc" -std=c11 $cflags $(pc --cflags) \
		"$src/tests/consumers/consumer.c" -o "$bin/c_static" \
		-Wl,-Bstatic $(pc --static --libs) -Wl,-Bdynamic
	# A fully static executable: Libs.private must be complete.
	run_logged "$tmp/cc.log" "$cc" -static -std=c11 $cflags $(pc --cflags) \
		"$src/tests/consumers/consumer.c" -o "$bin/c_full_static" $(pc --static --libs)
	run_logged "$tmp/cxx.log" "$cxx" -std=c++17 $cflags $(pc --cflags) \
		"$src/tests/consumers/consumer.cpp" -o "$bin/cxx_shared" $(pc --libs)
	run_logged "$tmp/cxx.log" "$cxx" -std=c++17 $cflags $(pc --cflags) \
		"$src/tests/consumers/consumer.cpp" -o "$bin/cxx_static" \
		-Wl,-Bstatic $(pc --static --libs) -Wl,-Bdynamic
}
check "$bin/c_shared" shared
check "$bin/c_static" static
check "$bin/c_full_static" full-static
check "$bin/cxx_shared" shared
check "$bin/cxx_static" static

# ---------------------------------------------------------------------------------------------
# find_package(pidtuple): host package registries are ignored, only the temporary prefix counts.
cm() {
	dir=$1
	shift
	cmake -S "$src/tests/consumers/cmake" -B "$dir" -DCMAKE_C_COMPILER="$cc" \
		-DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" \
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
		"$@"
}
bin=$tmp/cmake
run_logged "$tmp/cmake.log" cm "$bin"
dir=$(sed -n 's/^pidtuple_DIR:PATH=//p' "$bin/CMakeCache.txt")
[ "$(realpath "$dir")" = "$(realpath "$libdir/cmake/pidtuple")" ] ||
	fail "find_package(pidtuple) found $dir, not the temporary prefix"
run_logged "$tmp/cmake-build.log" cmake --build "$bin"
check "$bin/consumer_c_shared" shared
check "$bin/consumer_c_static" static
check "$bin/consumer_cxx_shared" shared
check "$bin/consumer_cxx_static" static

# The version file accepts only the same major version.
major=${version%%.*}
if cm "$tmp/cmake-next" -DPIDTUPLE_WANT_VERSION=$((major + 1)).0 >"$tmp/cmake-next.log" 2>&1; then
	fail "find_package(pidtuple $((major + 1)).0) accepted version $version"
fi
grep -q 'compatible with requested version' "$tmp/cmake-next.log" ||
	fail "find_package(pidtuple $((major + 1)).0) failed for another reason: $(cat "$tmp/cmake-next.log")"
echo "consumers: ok  find_package(pidtuple $((major + 1)).0) refused $version"

# ---------------------------------------------------------------------------------------------
# libpidtuple-json, through pkg-config and find_package(pidtuple COMPONENTS json).
if grep -q '^PIDTUPLE_WITH_JSON:BOOL=OFF$' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "consumers: PASS (9 consumers; libpidtuple-json not built: PIDTUPLE_WITH_JSON=OFF)"
	exit 0
fi
for f in libpidtuple-json.so libpidtuple-json.so.1 libpidtuple-json.a pkgconfig/libpidtuple-json.pc \
	cmake/pidtuple/pidtupleJsonTargets.cmake; do
	[ -e "$libdir/$f" ] || fail "not installed: $libdir/$f"
done
[ -f "$prefix/include/pidtuple-json.h" ] || fail "not installed: $prefix/include/pidtuple-json.h"
json_so=$(realpath "$libdir/libpidtuple-json.so.1")

# libpidtuple (Requires) comes from our directory, first in the path.
jpc() {
	PKG_CONFIG_LIBDIR=$pcdir:$sys_pc_path PKG_CONFIG_PATH="" \
		pkg-config --define-variable=prefix="$prefix" "$@" libpidtuple-json
}
[ "$(jpc --modversion)" = "$version" ] ||
	fail "pkg-config --modversion libpidtuple-json: $(jpc --modversion), header: $version"
jpc --print-requires | grep -q '^libpidtuple\b' ||
	fail "libpidtuple-json.pc Requires: $(jpc --print-requires)"
# json-c is private: its headers are not ours to pass on (pidtuple-json.h does not include it).
case " $(jpc --cflags) " in
*json-c*) fail "pkg-config --cflags libpidtuple-json names json-c: $(jpc --cflags)" ;;
esac
# Shared: the consumer calls both libraries and links both, never json-c (private to the .so).
case " $(jpc --libs) " in
*" -lpidtuple-json "*"-lpidtuple "*) ;;
*) fail "pkg-config --libs libpidtuple-json: $(jpc --libs)" ;;
esac
case " $(jpc --libs) " in
*" -ljson-c "*) fail "pkg-config --libs libpidtuple-json names json-c: $(jpc --libs)" ;;
esac
# Static: both after -lpidtuple-json, which needs them (Libs.private names json-c).
for l in -lpidtuple -ljson-c; do
	case " $(jpc --static --libs) " in
	*" -lpidtuple-json "*"$l "*) ;;
	*) fail "pkg-config --static --libs libpidtuple-json: $(jpc --static --libs)" ;;
	esac
done

# check_json BINARY shared|static|static-pidtuple|full-static
# static-pidtuple: both libraries linked in, json-c as the linker found it (CMake's plain
# `json-c`, the shared one when there is one).
check_json() {
	exe=$1
	kind=$2
	name=$(basename "$exe")
	out=$(LD_LIBRARY_PATH=$libdir "$exe") || fail "$name exited with $?"
	case "$out" in
	*"json consumer: 3 nodes, format 2, libpidtuple $version") ;;
	*) fail "$name printed '$out'" ;;
	esac
	needed=$(readelf -dW "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
	case "$kind" in
	shared)
		for l in libpidtuple-json.so.1 libpidtuple.so.1; do
			echo "$needed" | grep -qx "$l" || fail "$name: NEEDED lacks $l: $needed"
		done
		! echo "$needed" | grep -q json-c || fail "$name: links json-c itself: $needed"
		deps=$(LD_LIBRARY_PATH=$libdir ldd "$exe" 2>&1 || true)
		path=$(echo "$deps" | sed -n 's/^[[:space:]]*libpidtuple-json\.so\.1 => \(.*\) (0x.*$/\1/p')
		if [ -z "$path" ] || [ "$(realpath "$path")" != "$json_so" ]; then
			fail "$name: ldd resolves libpidtuple-json.so.1 to '$path', not $json_so"
		fi
		readelf --dyn-syms -W "$exe" | grep -q ' pidtuple_tree_from_json@PIDTUPLE_JSON_1\.0' ||
			fail "$name: pidtuple_tree_from_json is not bound to PIDTUPLE_JSON_1.0"
		;;
	static)
		! echo "$needed" | grep -qE 'pidtuple|json-c' || fail "$name: NEEDED: $needed"
		! readelf --dyn-syms -W "$exe" | grep -qE 'pidtuple_|json_' ||
			fail "$name: imports pidtuple_* or json_* symbols"
		;;
	static-pidtuple)
		! echo "$needed" | grep -q pidtuple || fail "$name: NEEDED: $needed"
		! readelf --dyn-syms -W "$exe" | grep -q pidtuple_ ||
			fail "$name: imports pidtuple_* symbols"
		;;
	full-static)
		! echo "$needed" | grep -q . || fail "$name: has NEEDED entries: $needed"
		;;
	esac
	echo "consumers: ok  $name ($kind): $out"
}

bin=$tmp/json
mkdir -p "$bin"
# shellcheck disable=SC2046,SC2086 # $cflags and pkg-config output are split into words
{
	run_logged "$tmp/cc.log" "$cc" -std=c11 $cflags $(jpc --cflags) \
		"$src/tests/consumers/consumer_json.c" -o "$bin/c_json_shared" $(jpc --libs)
	run_logged "$tmp/cc.log" "$cc" -std=c11 $cflags $(jpc --cflags) \
		"$src/tests/consumers/consumer_json.c" -o "$bin/c_json_static" \
		-Wl,-Bstatic $(jpc --static --libs) -Wl,-Bdynamic
	run_logged "$tmp/cc.log" "$cc" -static -std=c11 $cflags $(jpc --cflags) \
		"$src/tests/consumers/consumer_json.c" -o "$bin/c_json_full_static" $(jpc --static --libs)
}
check_json "$bin/c_json_shared" shared
check_json "$bin/c_json_static" static
check_json "$bin/c_json_full_static" full-static

# find_package(pidtuple COMPONENTS json): pidtuple::pidtuple_json and _static.
bin=$tmp/cmake-json
run_logged "$tmp/cmake-json.log" cm "$bin" -DPIDTUPLE_CONSUMER_JSON=ON
run_logged "$tmp/cmake-json-build.log" cmake --build "$bin" \
	--target consumer_json_shared consumer_json_static
check_json "$bin/consumer_json_shared" shared
check_json "$bin/consumer_json_static" static-pidtuple

# Without libpidtuple-json installed the component is missing, and says what to install.
mkdir "$tmp/json-targets"
mv "$libdir/cmake/pidtuple/pidtupleJsonTargets"*.cmake "$tmp/json-targets/"
if cm "$tmp/cmake-nojson" -DPIDTUPLE_CONSUMER_JSON=ON >"$tmp/cmake-nojson.log" 2>&1; then
	fail "find_package(pidtuple COMPONENTS json) succeeded without pidtupleJsonTargets.cmake"
fi
grep -q 'libpidtuple-json is not installed' "$tmp/cmake-nojson.log" ||
	fail "find_package(pidtuple COMPONENTS json) without it failed for another reason: $(cat "$tmp/cmake-nojson.log")"
mv "$tmp/json-targets/"*.cmake "$libdir/cmake/pidtuple/"
echo "consumers: ok  find_package(pidtuple COMPONENTS json) refused without libpidtuple-json"

echo "consumers: PASS (14 consumers: pkg-config and find_package, C11 and C++17 with" \
	"-Wpedantic, shared and static; libpidtuple-json through pkg-config and" \
	"find_package(pidtuple COMPONENTS json))"
