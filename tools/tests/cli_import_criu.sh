#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple import-criu on the images of tests/data/criu (made by real CRIU with
# make-images.sh there): each directory gives its expected JSON; broken copies (wrong magic,
# truncated, malformed protobuf, a missing core image, an impossible tree) fail with exit 1
# and a message naming the file and the byte offset. Reads files only: no privilege needed.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin

P=$PIDTUPLE
data=${PIDTUPLE_CRIU_DATA:-$(cd "$(dirname "$0")/../../tests/data/criu" && pwd)}

# ---- the committed images --------------------------------------------------------------------
for d in sessions threads subtree; do
	expect_status 0 "import $d" -- "$P" import-criu "$data/$d" &&
		expect_eq "$out" "$(<"$data/$d.json")" "import $d"
done
expect_status 0 "import --threads subtree" -- "$P" import-criu --threads "$data/subtree" &&
	expect_eq "$out" "$(<"$data/subtree.threads.json")" "import --threads subtree"
expect_status 0 "import --compact --threads threads" -- \
	"$P" import-criu --compact --threads "$data/threads" &&
	expect_eq "$out" '{"format":"libpidtuple-tree","version":2,"nodes":[{"tuple":"1","parent":-1,"newpid":true,"pgid":[1],"sid":[1],"name":"python3","kind":"hold"},{"tuple":"42","parent":0,"newpid":false,"pgid":[1],"sid":[1],"threads":["43","44","45"],"name":"python3","kind":"hold"}],"criu_threads":{"0":[1],"1":[42,43,44,45]}}' \
		"import --compact --threads threads"
# A trailing slash is the same directory.
expect_status 0 "import DIR/" -- "$P" import-criu "$data/sessions/" &&
	expect_eq "$out" "$(<"$data/sessions.json")" "import DIR/"

# ---- usage ---------------------------------------------------------------------------------
usage_error() {
	local what=$1 pattern=$2
	shift 2
	expect_status 2 "$what" -- "$P" import-criu "$@" || return
	expect_match "$err" "$pattern" "$what: stderr"
	expect_eq "$out" "" "$what: stdout"
}
usage_error "no DIR" "no DIR given"
usage_error "two DIRs" "too many arguments" a b
usage_error "--check --threads" "--check prints no JSON" --check --threads "$data/threads"
usage_error "unknown option" "unknown option '--bogus'" --bogus "$data/threads"
expect_status 0 "help import-criu" -- "$P" help import-criu &&
	expect_match "$out" "Usage: pidtuple import-criu [--check [--ns PID|PATH] | --threads] [--compact] DIR" \
		"help import-criu"
expect_status 0 "--help lists import-criu" -- "$P" --help &&
	expect_match "$out" "  import-criu " "--help lists import-criu"

# ---- broken images ---------------------------------------------------------------------------
# broken WHAT PATTERN DIR: import-criu DIR fails with exit 1, PATTERN on stderr, no stdout.
broken() {
	local what=$1 pattern=$2 dir=$3
	expect_status 1 "$what" -- "$P" import-criu "$dir" || return
	expect_match "$err" "pidtuple: import-criu: $pattern" "$what: stderr"
	expect_eq "$out" "" "$what: stdout"
}

# fresh: a writable copy of the subtree image in $b.
fresh() {
	b=$t_tmp/broken
	rm -rf "$b"
	cp -r "$data/subtree" "$b"
}

# image FILE HEX...: writes the bytes given in hex (e.g. 19 43 56 54) to FILE.
image() {
	local file=$1 x s=
	shift
	for x in "$@"; do
		s+="\\x$x"
	done
	printf '%b' "$s" >"$file"
}
head_pstree=(19 43 56 54 30 30 27 50) # CRIU's image magic, then pstree's

broken "no such directory" "$t_tmp/none: cannot open the directory: No such file" "$t_tmp/none"

fresh
image "$b/pstree.img" 00 00 00 00 30 30 27 50
broken "wrong image magic" "$b/pstree.img: byte 0: the image magic is 0x00000000, not 0x54564319" "$b"

fresh
cp "$data/subtree/core-5000.img" "$b/pstree.img"
broken "core magic in pstree.img" \
	"$b/pstree.img: byte 4: the file's magic is 0x55053847 (core's), not 0x50273030 (pstree's)" "$b"

fresh
image "$b/pstree.img" 54 56 43 19 30 30 27 50
broken "other byte order" "$b/pstree.img: byte 0: the image magic 0x19435654 is in the other byte order" "$b"

fresh
: >"$b/pstree.img"
broken "empty pstree.img" "$b/pstree.img: byte 0: the file ends 0 byte(s) into the image magic" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}"
broken "pstree.img without entries" "$b/pstree.img: byte 8: the file ends before its first entry" "$b"

fresh
head -c 10 "$data/subtree/pstree.img" >"$b/pstree.img"
broken "size cut off" "$b/pstree.img: byte 8: an entry's 4-byte size is cut off after 2 byte(s)" "$b"

fresh
head -c 40 "$data/subtree/pstree.img" >"$b/pstree.img"
broken "truncated pstree.img" \
	"$b/pstree.img: byte 26: an entry of 15 bytes runs past the end of the file (10 bytes follow" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 02 00 00 00 08 80
broken "varint cut off" "$b/pstree.img: byte 13: a varint runs past the end of its message (byte 14)" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 0b 00 00 00 08 ff ff ff ff ff ff ff ff ff 7f
broken "varint over 64 bits" "$b/pstree.img: byte 13: a varint longer than 64 bits" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 06 00 00 00 08 01 10 00 1b 01
broken "a group" "$b/pstree.img: byte 16: field 3: wire type 3 is a group" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 06 00 00 00 08 01 10 00 22 09
broken "length past the message" "$b/pstree.img: byte 16: field 4: 9 bytes run past the end of its message" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 06 00 00 00 08 05 10 00 18 05
broken "required field missing" "$b/pstree.img: byte 8: pstree_entry has no sid (field 4), which is required" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 0a 00 00 00 08 05 10 00 18 05 20 05 08 06
broken "field twice" "$b/pstree.img: byte 20: pstree_entry.pid (field 1) appears twice (first at byte 12)" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 0b 00 00 00 08 05 10 00 18 05 22 01 05 20 05
broken "wrong wire type" "$b/pstree.img: byte 18: pstree_entry.sid (field 4) is length-delimited, not a varint" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 0c 00 00 00 08 05 10 00 18 05 20 05 28 05 28 06 \
	08 00 00 00 08 06 10 05 18 05 20 05
broken "a TID that is another PID" \
	"$b/pstree.img: byte 24: process 6 has the ID of thread 6 of process 5: an ID is unique" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 08 00 00 00 08 05 10 00 18 05 20 05 \
	08 00 00 00 08 06 10 07 18 05 20 05
broken "an unknown parent" "$b/pstree.img: byte 20: process 6: its parent 7 is not in the image" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 08 00 00 00 08 05 10 00 18 05 20 05 \
	08 00 00 00 08 06 10 00 18 06 20 06
broken "two roots" "$b/pstree.img: byte 20: process 6 has parent 0 too: a second root" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 0a 00 00 00 08 05 10 00 18 05 20 05 28 06
broken "threads without the process" \
	"$b/pstree.img: byte 8: process 5: its threads begin with 6, not with the process itself" "$b"

fresh
image "$b/pstree.img" "${head_pstree[@]}" 08 00 00 00 08 05 10 00 18 00 20 05
broken "a group 0" "$b/pstree.img: byte 16: process 5: its process group is 0" "$b"

# Packed threads, as protobuf allows, and a field of a later CRIU (number 99), are read.
fresh
image "$b/pstree.img" "${head_pstree[@]}" 0f 00 00 00 08 05 10 00 18 05 20 05 2a 02 05 06 \
	98 06 2a
cp "$data/subtree/core-5000.img" "$b/core-5.img"
cp "$data/subtree/core-5055.img" "$b/core-6.img"
expect_status 0 "packed threads" -- "$P" import-criu --threads --compact "$b" &&
	expect_match "$out" '"criu_threads":{"0":[5,6]}' "packed threads"

fresh
head -c 100 "$data/subtree/core-5055.img" >"$b/core-5055.img"
broken "truncated core" \
	"$b/core-5055.img: byte 8: an entry of 1724 bytes runs past the end of the file (88 bytes follow" "$b"

fresh
rm "$b/core-5057.img"
broken "missing core" \
	"$b/core-5057.img: cannot open: No such file or directory (pstree.img lists thread 5057 of process 5054)" "$b"

fresh
cp "$data/subtree/core-5055.img" "$b/core-5000.img" # a thread's core: no task_core_entry
broken "no task core" "$b/core-5000.img: byte 8: core_entry of process 5000 has no tc (field 3)" "$b"

fresh
cat "$data/subtree/core-5000.img" "$data/subtree/core-5000.img" >"$b/core-5000.img"
broken "two core entries" "$b/core-5000.img: byte 2805: 2805 more byte(s) after the entry" "$b"

fresh
cp "$data/subtree/pstree.img" "$b/inventory.img"
broken "inventory with a head" \
	"$b/inventory.img: byte 0: the file's magic is 0x54564319 (the head of CRIU's images), not 0x58313116 (inventory's)" "$b"

fresh
image "$b/inventory.img" 16 31 31 58 02 00 00 00 08 01
broken "image version 1" "$b/inventory.img: byte 8: image version 1: only version 2 is read" "$b"

fresh
rm "$b/inventory.img"
broken "no inventory" "$b/inventory.img: cannot open: No such file or directory" "$b"

fresh
rm "$b/pstree.img"
mkdir "$b/pstree.img"
broken "pstree.img a directory" "$b/pstree.img: not a regular file" "$b"

# Every cut of the small files, and cuts of the cores, fail cleanly: exit 1, never a crash.
# A pstree.img cut between two entries is a smaller tree (the format has no count; CRIU cannot
# tell either): its first 1, 2 and 3 processes.
for n in 26 45 64; do
	fresh
	head -c "$n" "$data/subtree/pstree.img" >"$b/pstree.img"
	expect_status 0 "pstree.img cut after an entry ($n bytes)" -- "$P" import-criu "$b"
done
for f in pstree.img inventory.img core-5000.img core-5055.img; do
	size=$(stat -c %s "$data/subtree/$f")
	step=1
	[ "$size" -gt 200 ] && step=37
	for ((n = 0; n < size; n += step)); do
		[ "$f" = pstree.img ] && [[ " 26 45 64 " == *" $n "* ]] && continue
		fresh
		head -c "$n" "$data/subtree/$f" >"$b/$f"
		"$P" import-criu "$b" >/dev/null 2>"$t_tmp/cut.err"
		got=$?
		if [ "$got" -ne 1 ] || ! grep -q "^pidtuple: import-criu: $b/$f: byte [0-9]*: " \
			"$t_tmp/cut.err"; then
			fail "$f cut to $n bytes: exit $got, stderr '$(<"$t_tmp/cut.err")'"
			break
		fi
	done
done

finish
