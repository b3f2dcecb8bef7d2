# SPDX-License-Identifier: LGPL-2.1-or-later
#
# cmake -DIN=file -DOUT=file.c -P pidtuple-embed.cmake: the bytes of IN as pt_scan_bpf_obj[].
file(READ "${IN}" _hex HEX)
string(LENGTH "${_hex}" _len)
math(EXPR _n "${_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n\t" _bytes "${_bytes}")
file(WRITE "${OUT}.tmp" "/* Generated from the BPF scan program: do not edit. */\n"
	"#include <stddef.h>\n\n"
	"extern const unsigned char pt_scan_bpf_obj[];\n"
	"extern const size_t pt_scan_bpf_obj_len;\n\n"
	"_Alignas(8) const unsigned char pt_scan_bpf_obj[] = {\n\t${_bytes}\n};\n"
	"const size_t pt_scan_bpf_obj_len = ${_n};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
