#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: test-debian.sh [--update-symbols]
#
# Builds the Debian packages (source and all binaries) from a copy of the source tree with
# dpkg-buildpackage, requires lintian to report no error and no warning, installs the .debs
# into a scratch root with dpkg --root, and checks the files, the dependencies and the symbols
# files there; then runs the packaged command and builds consumers against the packaged
# libraries (libpidtuple, and libpidtuple-json shared and static) and imports the packaged
# Python binding. Installs the Debian tools it needs when missing (root), else exits 77
# (skip), or fails under CI=true. Takes about 1-2 minutes; prints the elapsed seconds.
#
# The package build fails when a library's exported symbols differ from its symbols file,
# debian/libpidtuple1.symbols or debian/libpidtuple-json1.symbols (dpkg-gensymbols -c4).
# --update-symbols builds the binaries, rewrites both files from the libraries (new symbols
# get the current version, removed ones are marked #MISSING#), shows the diff and stops;
# review it and run the test again.
set -eu

update_symbols=0
case "${1:-}" in
"") ;;
--update-symbols) update_symbols=1 ;;
*)
	echo "usage: $0 [--update-symbols]" >&2
	exit 2
	;;
esac

start=$(date +%s)
src=$(cd "$(dirname "$0")/.." && pwd)

fail() {
	echo "debian: FAIL: $*" >&2
	exit 1
}

# ---------------------------------------------------------------------------------------------
# Tools
# libjson-c-dev: a build dependency (libpidtuple-json and the command); libsmartcols-dev: of
# the command's ps and tree; dh-python: of python3-pidtuple; python3: runs the packaged binding.
packages="debhelper dpkg-dev fakeroot lintian cmake doxygen pkg-config libjson-c-dev
libsmartcols-dev dh-python python3"
missing=""
for pkg in $packages; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		[ "${CI:-}" = true ] && fail "missing packages:$missing (not root, cannot install)"
		echo "debian: SKIP: missing packages:$missing; run as root or: apt-get install$missing"
		exit 77
	fi
	echo "debian: installing$missing"
	# shellcheck disable=SC2086 # a space-separated list of package names
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing ||
		{ apt-get update && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends $missing; } ||
		fail "cannot install$missing"
fi

# The pidtuple package ships the command and its man page: say so rather than failing deep
# inside dh_install.
[ -f "$src/tools/CMakeLists.txt" ] ||
	fail "tools/CMakeLists.txt is missing: the pidtuple command (package pidtuple) is not built"
[ -f "$src/docs/pidtuple.1" ] ||
	fail "docs/pidtuple.1 is missing: the pidtuple(1) man page (package pidtuple) is not written"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pidtuple-debian.XXXXXX")
# PIDTUPLE_KEEP_TMP=1 keeps the build, the logs and the scratch root for a look afterwards.
if [ "${PIDTUPLE_KEEP_TMP:-0}" = 1 ]; then
	trap 'echo "debian: kept $tmp"' EXIT
else
	trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# A clean copy: tracked and untracked files, minus what .gitignore excludes (build trees).
tree=$tmp/libpidtuple
mkdir "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	# shellcheck disable=SC2016 # $f belongs to the inner shell
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$tree"
else
	(cd "$src" && tar --exclude=./build --exclude='./obj-*' --exclude=./.git -cf - .) |
		tar -xf - -C "$tree"
fi

version=$(sed -n 's/^#define PIDTUPLE_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
	"$src/include/pidtuple.h" | paste -sd.)
major=${version%%.*}

if [ "$update_symbols" = 1 ]; then
	# dh_makeshlibs fails on the difference, after dh_strip has staged the library.
	# dh_strip stages every package before dh_makeshlibs looks at the first.
	(cd "$tree" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$tmp/build.log" 2>&1 || true
	# PACKAGE:SONAME, the SONAME major being the package's trailing number.
	for pair in "libpidtuple$major:libpidtuple.so.$major" libpidtuple-json1:libpidtuple-json.so.1; do
		pkg=${pair%%:*}
		lib=$(ls "$tree/debian/$pkg/usr/lib/"*/"${pair#*:}" 2>/dev/null) || {
			tail -n 40 "$tmp/build.log" >&2
			fail "the build did not get as far as ${pair#*:}"
		}
		(cd "$tree" && dpkg-gensymbols -q -p"$pkg" -Pdebian/"$pkg" -v"$version" \
			-e"$lib" -Odebian/"$pkg".symbols.new) || fail "dpkg-gensymbols -p$pkg"
		diff -u "$src/debian/$pkg.symbols" "$tree/debian/$pkg.symbols.new" || true
		cp "$tree/debian/$pkg.symbols.new" "$src/debian/$pkg.symbols"
		echo "debian: wrote debian/$pkg.symbols"
	done
	echo "debian: review the symbols files, then run $0"
	exit 0
fi

# ---------------------------------------------------------------------------------------------
# Build (source and binaries, unsigned)
echo "debian: dpkg-buildpackage in $tree"
if ! (cd "$tree" && dpkg-buildpackage -us -uc -j"$(nproc)") >"$tmp/build.log" 2>&1; then
	tail -n 80 "$tmp/build.log" >&2
	grep -q 'dpkg-gensymbols: error' "$tmp/build.log" &&
		echo "debian: the exported symbols changed: update debian/libpidtuple1.symbols or" \
			"debian/libpidtuple-json1.symbols from the diff above ($0 --update-symbols)" >&2
	fail "dpkg-buildpackage (log above)"
fi
# -Werror is off in the package build (debian/rules), so warnings are caught here instead.
if grep -E ': warning: ' "$tmp/build.log" >&2; then
	fail "compiler warnings in the package build (above)"
fi
built=$(date +%s)

changes=$(ls "$tmp"/libpidtuple_*.changes)
debs=$(ls "$tmp"/*.deb)
all_packages="libpidtuple1 libpidtuple-dev libpidtuple-json1 libpidtuple-json-dev pidtuple
libpidtuple-doc python3-pidtuple"
for p in $all_packages; do
	ls "$tmp/${p}_"*.deb >/dev/null 2>&1 || fail "package $p was not built"
done

# ---------------------------------------------------------------------------------------------
# lintian: overrides live in debian/*.lintian-overrides, each with its reason.
echo "debian: lintian"
if ! lintian --fail-on error,warning --display-level '>=warning' --show-overrides \
	"$changes" >"$tmp/lintian.log" 2>&1; then
	cat "$tmp/lintian.log" >&2
	fail "lintian"
fi
cat "$tmp/lintian.log"
linted=$(date +%s)

# ---------------------------------------------------------------------------------------------
# Install into a scratch root with its own, empty dpkg database. Dependencies outside this
# source package (libc6) are not there, and maintainer scripts run outside the root.
root=$tmp/root
admin=$root/var/lib/dpkg
mkdir -p "$admin/info" "$admin/updates" "$admin/triggers"
: >"$admin/status"
: >"$admin/available"
# The maintainer scripts run outside the root: python3-pidtuple's postinst would byte-compile
# the host's /usr/lib/python3/dist-packages/pidtuple, so a py3compile that does nothing stands
# in for it.
mkdir "$tmp/nopycompile"
printf '#!/bin/sh\nexit 0\n' >"$tmp/nopycompile/py3compile"
chmod +x "$tmp/nopycompile/py3compile"
# shellcheck disable=SC2086 # a space-separated list of paths without spaces
PATH=$tmp/nopycompile:$PATH dpkg --root="$root" --log=/dev/null --force-depends --force-not-root \
	--force-script-chrootless --no-triggers -i $debs >"$tmp/dpkg.log" 2>&1 ||
	{ cat "$tmp/dpkg.log" >&2; fail "dpkg --root -i"; }
all_packages="libpidtuple1 libpidtuple-dev libpidtuple-json1 libpidtuple-json-dev pidtuple
libpidtuple-doc python3-pidtuple"
for p in $all_packages; do
	[ "$(dpkg --root="$root" -s "$p" 2>/dev/null | sed -n 's/^Status: //p')" = \
		"install ok installed" ] || fail "$p is not installed in the scratch root"
done

ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

# owner PACKAGE PATH: PATH exists in the scratch root and belongs to PACKAGE.
owner() {
	[ -e "$root$2" ] || fail "missing from the scratch root: $2"
	got=$(dpkg --root="$root" -S "$2" 2>/dev/null | sed 's/[:,].*//')
	[ "$got" = "$1" ] || fail "$2 belongs to '$got', expected $1"
}
owner libpidtuple1 "/usr/lib/$ma/libpidtuple.so.$major"
owner libpidtuple1 "/usr/lib/$ma/libpidtuple.so.$version"
owner libpidtuple-dev /usr/include/pidtuple.h
owner libpidtuple-dev "/usr/lib/$ma/libpidtuple.so"
owner libpidtuple-dev "/usr/lib/$ma/libpidtuple.a"
owner libpidtuple-dev "/usr/lib/$ma/pkgconfig/libpidtuple.pc"
owner libpidtuple-dev "/usr/lib/$ma/cmake/pidtuple/pidtupleConfig.cmake"
owner libpidtuple-dev "/usr/lib/$ma/cmake/pidtuple/pidtupleConfigVersion.cmake"
owner libpidtuple-dev "/usr/lib/$ma/cmake/pidtuple/pidtupleTargets.cmake"
owner libpidtuple-json-dev "/usr/lib/$ma/cmake/pidtuple/pidtupleJsonTargets.cmake"
owner libpidtuple-json1 "/usr/lib/$ma/libpidtuple-json.so.1"
owner libpidtuple-json1 "/usr/lib/$ma/libpidtuple-json.so.$version"
owner libpidtuple-json-dev /usr/include/pidtuple-json.h
owner libpidtuple-json-dev "/usr/lib/$ma/libpidtuple-json.so"
owner libpidtuple-json-dev "/usr/lib/$ma/libpidtuple-json.a"
owner libpidtuple-json-dev "/usr/lib/$ma/pkgconfig/libpidtuple-json.pc"
owner pidtuple /usr/bin/pidtuple
owner pidtuple /usr/share/man/man1/pidtuple.1.gz
owner pidtuple /usr/share/man/man5/pidtuple-json.5.gz
owner pidtuple /usr/share/bash-completion/completions/pidtuple
owner libpidtuple-doc /usr/share/doc/libpidtuple-dev/html/index.html
owner libpidtuple-dev /usr/share/man/man7/pidtuple.7.gz
py=/usr/lib/python3/dist-packages/pidtuple
for f in "$src"/bindings/python/pidtuple/*.py "$src/bindings/python/pidtuple/py.typed"; do
	owner python3-pidtuple "$py/${f##*/}"
done
# A section 3 page for every public function of both libraries, with its library's -dev
# package (the pages are written by hand in man/; Doxygen makes only the HTML).
funcs=$(sed -n 's/^PIDTUPLE_API .*[ *]\(pidtuple_[a-z0-9_]*\)(.*/\1/p' "$src/include/pidtuple.h")
[ -n "$funcs" ] || fail "no PIDTUPLE_API functions found in include/pidtuple.h"
json_funcs=$(sed -n 's/^PIDTUPLE_JSON_API .*[ *]\(pidtuple_[a-z0-9_]*\)(.*/\1/p' \
	"$src/include/pidtuple-json.h")
[ -n "$json_funcs" ] || fail "no PIDTUPLE_JSON_API functions found in include/pidtuple-json.h"
n=0
for f in $funcs; do
	owner libpidtuple-dev "/usr/share/man/man3/$f.3.gz"
	n=$((n + 1))
done
for f in $json_funcs; do
	owner libpidtuple-json-dev "/usr/share/man/man3/$f.3.gz"
	n=$((n + 1))
done
# Every installed page renders without a warning, `.so` pages through the page they name.
for page in $(cd "$root/usr/share/man" && find . -name '*.gz' | sort); do
	out=$(cd "$root/usr/share/man" && LC_ALL=C MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$out" ] || fail "man --warnings -l $page: $out"
done

# Relations and the symbols file, as the control files say them.
field() {
	dpkg-deb -f "$(ls "$tmp/${1}_"*.deb)" "$2"
}
field libpidtuple1 Depends | grep -q 'libc6' || fail "libpidtuple1 Depends: $(field libpidtuple1 Depends)"
field libpidtuple-dev Depends | grep -qF "libpidtuple1 (= $version)" ||
	fail "libpidtuple-dev Depends: $(field libpidtuple-dev Depends)"
field pidtuple Depends | grep -qE "libpidtuple1 \(>= $major\.[0-9.]+\)" ||
	fail "pidtuple Depends: $(field pidtuple Depends)"
field pidtuple Depends | grep -qE "libpidtuple-json1 \(>= 1\.[0-9.]+\)" ||
	fail "pidtuple Depends: $(field pidtuple Depends) (no libpidtuple-json1)"
deps=$(field libpidtuple-json1 Depends)
{ echo "$deps" | grep -qE "libpidtuple1 \(>= $major\.[0-9.]+\)" && echo "$deps" | grep -q libjson-c; } ||
	fail "libpidtuple-json1 Depends: $deps"
deps=$(field libpidtuple-json-dev Depends)
for d in "libpidtuple-json1 (= $version)" "libpidtuple-dev (= $version)" libjson-c-dev; do
	echo "$deps" | grep -qF "$d" || fail "libpidtuple-json-dev Depends lacks $d: $deps"
done
for p in libpidtuple1 libpidtuple-dev libpidtuple-json1 libpidtuple-json-dev; do
	[ "$(field "$p" Multi-Arch)" = same ] || fail "$p is not Multi-Arch: same"
done
[ "$(field libpidtuple-doc Architecture)" = all ] || fail "libpidtuple-doc is not Architecture: all"
[ "$(field python3-pidtuple Architecture)" = all ] || fail "python3-pidtuple is not Architecture: all"
deps=$(field python3-pidtuple Depends)
{ echo "$deps" | grep -qF "libpidtuple1 (>= $version)" && echo "$deps" | grep -q 'python3'; } ||
	fail "python3-pidtuple Depends: $deps"
symbols=$(dpkg-deb -I "$(ls "$tmp"/libpidtuple1_*.deb)" symbols)
echo "$symbols" | grep -q "^libpidtuple.so.$major libpidtuple1 #MINVER#" ||
	fail "symbols file: $symbols"
for f in $funcs; do
	echo "$symbols" | grep -q "^ $f@PIDTUPLE_[0-9.]* " ||
		fail "$f is declared PIDTUPLE_API in include/pidtuple.h but libpidtuple.so.$major" \
			"does not export it (not implemented, or not in lib/libpidtuple.map)"
done
symbols=$(dpkg-deb -I "$(ls "$tmp"/libpidtuple-json1_*.deb)" symbols)
echo "$symbols" | grep -q "^libpidtuple-json.so.1 libpidtuple-json1 #MINVER#" ||
	fail "libpidtuple-json1 symbols file: $symbols"
for f in $json_funcs; do
	echo "$symbols" | grep -q "^ $f@PIDTUPLE_JSON_[0-9.]* " ||
		fail "$f is declared PIDTUPLE_JSON_API in include/pidtuple-json.h but" \
			"libpidtuple-json.so.1 does not export it (not in json/libpidtuple-json.map?)"
done

# The packaged command runs, and a consumer builds from the packaged .pc.
out=$(LD_LIBRARY_PATH=$root/usr/lib/$ma "$root/usr/bin/pidtuple" --version 2>&1) ||
	fail "pidtuple --version: $out"
echo "$out" | grep -qF "$version" || fail "pidtuple --version printed '$out'"
# restore reads its file with the packaged libpidtuple-json; a document of an unknown format
# version is refused before anything is created.
rc=0
out=$(echo '{"format":"libpidtuple-tree","version":99,"nodes":[]}' |
	LD_LIBRARY_PATH=$root/usr/lib/$ma "$root/usr/bin/pidtuple" restore --check - 2>&1) || rc=$?
{ [ "$rc" = 1 ] && echo "$out" | grep -q 'version: 99 is not supported'; } ||
	fail "pidtuple restore --check of a version 99 document: exit $rc, '$out'"
# The packaged binding imports with the packaged libraries and writes a tree as JSON.
out=$(PYTHONPATH=$root/usr/lib/python3/dist-packages PYTHONDONTWRITEBYTECODE=1 \
	PIDTUPLE_LIBRARY=$root/usr/lib/$ma/libpidtuple.so.$major \
	PIDTUPLE_JSON_LIBRARY=$root/usr/lib/$ma/libpidtuple-json.so.1 /usr/bin/python3 -c '
import pidtuple
t = pidtuple.Tree()
t.add("5", pgid="5")
assert pidtuple.loads(pidtuple.dumps(t)) == t
print(pidtuple.version(), pidtuple.__file__)' 2>&1) || fail "python3-pidtuple: $out"
[ "$out" = "$version $root$py/__init__.py" ] || fail "python3-pidtuple printed '$out'"
# The .pc files of the scratch root come first; anything else comes from the host's path after
# them.
host_pc_path=$(pkg-config --variable=pc_path pkg-config)
rpc() {
	PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root/usr/lib/$ma/pkgconfig:$host_pc_path \
		PKG_CONFIG_PATH="" pkg-config "$@"
}
# shellcheck disable=SC2046 # pkg-config output is meant to be split into words
cc -Wall -Wextra -Werror "$src/tests/consumers/consumer.c" -o "$tmp/consumer" \
	$(rpc --cflags --libs libpidtuple) >"$tmp/cc.log" 2>&1 ||
	{ cat "$tmp/cc.log" >&2; fail "consumer against the packaged libpidtuple-dev"; }
out=$(LD_LIBRARY_PATH=$root/usr/lib/$ma "$tmp/consumer") || fail "consumer: $out"

# The .pc files name system directories as plain paths under ${prefix}, so pkg-config drops
# them: nothing but the libraries is left. json-c, private to libpidtuple-json, stays out.
# Read as an installed system reads them (without the sysroot, which would prefix the paths
# and so make them non-system ones).
spc() {
	PKG_CONFIG_LIBDIR=$root/usr/lib/$ma/pkgconfig:$host_pc_path PKG_CONFIG_PATH="" \
		pkg-config "$@"
}
for f in libpidtuple libpidtuple-json; do
	! grep -q pcfiledir "$root/usr/lib/$ma/pkgconfig/$f.pc" ||
		fail "$f.pc is relative to its own directory: $(cat "$root/usr/lib/$ma/pkgconfig/$f.pc")"
done
[ -z "$(spc --cflags libpidtuple | tr -d ' ')" ] || fail "pkg-config --cflags libpidtuple: $(spc --cflags libpidtuple)"
[ "$(spc --libs libpidtuple | xargs)" = "-lpidtuple" ] || fail "pkg-config --libs libpidtuple: $(spc --libs libpidtuple)"
[ -z "$(spc --cflags libpidtuple-json | tr -d ' ')" ] ||
	fail "pkg-config --cflags libpidtuple-json: $(spc --cflags libpidtuple-json)"
[ "$(spc --libs libpidtuple-json | xargs)" = "-lpidtuple-json -lpidtuple" ] ||
	fail "pkg-config --libs libpidtuple-json: $(spc --libs libpidtuple-json)"
echo "debian: pkg-config --cflags --libs libpidtuple: '$(spc --cflags --libs libpidtuple | xargs)'," \
	"libpidtuple-json: '$(spc --cflags --libs libpidtuple-json | xargs)'"

# libpidtuple-json.pc: Requires libpidtuple (the scratch root's), Libs.private -ljson-c.
jpc() {
	rpc "$@" libpidtuple-json
}
[ "$(jpc --modversion)" = "$version" ] || fail "pkg-config --modversion libpidtuple-json: $(jpc --modversion)"
# shellcheck disable=SC2046 # pkg-config output is meant to be split into words
{
	cc -Wall -Wextra -Werror "$src/tests/consumers/consumer_json.c" -o "$tmp/consumer_json" \
		$(jpc --cflags --libs) >"$tmp/cc.log" 2>&1 ||
		{ cat "$tmp/cc.log" >&2; fail "json consumer against the packaged libpidtuple-json-dev"; }
	# The packaged archives, json-c's too; the C library stays shared.
	cc -Wall -Wextra -Werror "$src/tests/consumers/consumer_json.c" -o "$tmp/consumer_json_static" \
		$(jpc --cflags) -Wl,-Bstatic $(jpc --static --libs) -Wl,-Bdynamic >"$tmp/cc.log" 2>&1 ||
		{ cat "$tmp/cc.log" >&2; fail "static json consumer against the packaged libpidtuple-json-dev"; }
}
out=$(LD_LIBRARY_PATH=$root/usr/lib/$ma "$tmp/consumer_json") || fail "json consumer: $out"
needed=$(readelf -dW "$tmp/consumer_json" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
for l in libpidtuple-json.so.1 libpidtuple.so.$major; do
	echo "$needed" | grep -qx "$l" || fail "json consumer: NEEDED lacks $l: $needed"
done
out=$("$tmp/consumer_json_static") || fail "static json consumer: $out"
! readelf -dW "$tmp/consumer_json_static" | grep -qE 'NEEDED.*(pidtuple|json-c)' ||
	fail "static json consumer is linked to a shared libpidtuple or json-c"

# find_package(pidtuple COMPONENTS json): pidtupleConfig.cmake of libpidtuple-dev loads the
# targets libpidtuple-json-dev installs beside it.
cmake -S "$src/tests/consumers/cmake" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$root/usr" \
	-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
	-DPIDTUPLE_CONSUMER_JSON=ON >"$tmp/cmake.log" 2>&1 ||
	{ cat "$tmp/cmake.log" >&2; fail "find_package(pidtuple COMPONENTS json) in the scratch root"; }
cmake --build "$tmp/cmake" --target consumer_json_shared >"$tmp/cmake-build.log" 2>&1 ||
	{ cat "$tmp/cmake-build.log" >&2; fail "the json consumer through find_package"; }
out=$(LD_LIBRARY_PATH=$root/usr/lib/$ma "$tmp/cmake/consumer_json_shared") ||
	fail "json consumer through find_package: $out"

end=$(date +%s)
echo "debian: PASS: $(echo "$all_packages" | wc -w) packages, lintian clean, $n functions with man3 pages;" \
	"elapsed $((end - start)) s (build $((built - start)) s, lintian $((linted - built)) s)"
