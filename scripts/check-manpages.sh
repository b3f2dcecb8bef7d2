#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-manpages.sh render MAN_DIR
#        check-manpages.sh coverage MAN_DIR MAP...
#
# The hand-written manual pages under MAN_DIR (man/man3, man/man5, man/man7), as they are
# installed.
#
# render: every page renders with `man --warnings` without a single warning, 80 columns wide
#   (what lintian runs too); a page that is only `.so man3/OTHER.3` names an existing page.
#   Exits 77 (skip) when man-db is missing, or fails under CI=true.
# coverage: every function a version script (MAP: lib/libpidtuple.map, json/libpidtuple-json.map)
#   exports has its own man3 page, whose NAME line names it; a page with the sections NAME,
#   SYNOPSIS (with its #include and "Link with"), DESCRIPTION, RETURN VALUE, ERRORS and SEE ALSO;
#   and every pidtuple page a page refers to exists.
set -eu

fail() {
	echo "manpages: FAIL: $*" >&2
	exit 1
}

[ "$#" -ge 2 ] || {
	echo "usage: $0 render MAN_DIR | coverage MAN_DIR MAP..." >&2
	exit 2
}
mode=$1
man_dir=$(cd "$2" && pwd)
shift 2
# The version scripts as absolute paths, before moving to MAN_DIR.
maps=""
for map in "$@"; do
	[ -f "$map" ] || fail "no such version script: $map"
	maps="$maps $(cd "$(dirname "$map")" && pwd)/$(basename "$map")"
done
cd "$man_dir"

pages=$(find man3 man5 man7 -type f -name '*.[0-9]' 2>/dev/null | LC_ALL=C sort)
[ -n "$pages" ] || fail "no pages under $man_dir"

# so_target PAGE: the page a `.so` page points to, empty for a page of its own.
so_target() {
	sed -n '1s/^\.so[[:space:]]\{1,\}\([^[:space:]]*\)[[:space:]]*$/\1/p' "$1"
}

case "$mode" in
render)
	if ! command -v man >/dev/null 2>&1; then
		[ "${CI:-}" = true ] && fail "man (man-db) is not installed"
		echo "manpages: SKIP: man (man-db) is not installed"
		exit 77
	fi
	# The check must be able to fail: a page with an unknown macro gives a warning.
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pidtuple-man.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	printf '.TH bad 3\n.SH NAME\nbad \\- bad\n.NOSUCHMACRO\n' >"$tmp/bad.3"
	out=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$tmp/bad.3" 2>&1 >/dev/null || true)
	[ -n "$out" ] || fail "man --warnings reports nothing for a page with an unknown macro"

	n=0
	bad=0
	for page in $pages; do
		target=$(so_target "$page")
		if [ -n "$target" ] && [ ! -f "$target" ]; then
			echo "$page: .so $target: no such page" >&2
			bad=$((bad + 1))
		fi
		# Relative to MAN_DIR, where `.so man3/...` resolves as it does once installed.
		out=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || echo "man exited $?")
		if [ -n "$out" ]; then
			printf '%s:\n%s\n' "$page" "$out" >&2
			bad=$((bad + 1))
		fi
		n=$((n + 1))
	done
	[ "$bad" -eq 0 ] || fail "$bad of $n pages have warnings or errors (above)"
	echo "manpages: PASS: $n pages render without warnings"
	;;
coverage)
	[ -n "$maps" ] || fail "coverage needs at least one version script"
	bad=0
	problem() {
		echo "$*" >&2
		bad=$((bad + 1))
	}
	nfunc=0
	for map in $maps; do
		# The names between `global:` and `local:` of every node.
		funcs=$(sed -n '/global:/,/local:/s/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);[[:space:]]*$/\1/p' \
			"$map" | LC_ALL=C sort -u)
		[ -n "$funcs" ] || fail "$map exports nothing"
		for f in $funcs; do
			nfunc=$((nfunc + 1))
			page=man3/$f.3
			if [ ! -f "$page" ]; then
				problem "$f ($map): no page $page"
				continue
			fi
			main=$(so_target "$page")
			main=${main:-$page}
			[ -f "$main" ] || continue # reported by render
			# The NAME line lists every function the page documents.
			sed -n '/^\.SH NAME/{n;p;}' "$main" | tr -s ', ' '\n' | grep -qx "$f" ||
				problem "$f: the NAME line of $main does not name it"
			grep -q "^\.B #include <pidtuple.*\.h>$" "$main" ||
				problem "$f: $main has no #include in its SYNOPSIS"
			grep -q '^Link with$' "$main" || problem "$f: $main does not say what to link with"
		done
	done

	for page in $pages; do
		[ -z "$(so_target "$page")" ] || continue
		for section in NAME SYNOPSIS DESCRIPTION 'RETURN VALUE' ERRORS 'SEE ALSO'; do
			case "$page" in
			man3/*) ;;
			*)
				# Overview and format pages have no return value or errors.
				case "$section" in 'RETURN VALUE' | ERRORS) continue ;; esac
				;;
			esac
			grep -q "^\.SH \"*$section\"*\$" "$page" || problem "$page: no section $section"
		done
		# Every reference to a page of this library resolves here.
		refs=$(sed -n 's/^\.BR \(pidtuple[A-Za-z0-9_\\-]*\|PIDTUPLE_[A-Z_]*\) (\([0-9]\)).*/\1.\2/p' "$page" |
			sed 's/\\-/-/g' | LC_ALL=C sort -u)
		for r in $refs; do
			case "$r" in
			pidtuple.1) continue ;; # the command's page lives in docs/
			esac
			[ -f "man${r##*.}/$r" ] || problem "$page: refers to ${r%.*}(${r##*.}), which has no page"
		done
	done
	[ "$bad" -eq 0 ] || fail "$bad problems (above)"
	echo "manpages: PASS: $nfunc exported functions, each with its own page; $(echo "$pages" | wc -l) pages"
	;;
*)
	fail "unknown mode $mode"
	;;
esac
