# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidtuple_bpf_object(TARGET FOUND_VAR): compiles lib/bpf/scan.bpf.c with clang -target bpf
# and embeds the object's bytes in TARGET (pt_scan_bpf_obj[], a generated C file), defining
# PIDTUPLE_WITH_BPF there. FOUND_VAR is set to ON when it could, OFF otherwise. The program is
# self-contained (hand-written CO-RE types): clang alone builds it; libbpf is a run-time need.
get_filename_component(_pidtuple_bpf_lib "${CMAKE_CURRENT_LIST_DIR}/../lib" ABSOLUTE)

function(pidtuple_bpf_object target found_var)
	set(${found_var} OFF PARENT_SCOPE)
	find_program(PIDTUPLE_BPF_CLANG NAMES clang-14 clang)
	if(NOT PIDTUPLE_BPF_CLANG)
		return()
	endif()
	# The clang found must know the BPF target (some builds leave it out).
	execute_process(COMMAND "${PIDTUPLE_BPF_CLANG}" -print-targets
		OUTPUT_VARIABLE _targets ERROR_QUIET RESULT_VARIABLE _rc)
	if(NOT _rc EQUAL 0 OR NOT _targets MATCHES "bpf")
		return()
	endif()
	set(_src "${_pidtuple_bpf_lib}/bpf/scan.bpf.c")
	set(_obj "${CMAKE_CURRENT_BINARY_DIR}/scan.bpf.o")
	set(_c "${CMAKE_CURRENT_BINARY_DIR}/scan_bpf_obj.c")
	add_custom_command(OUTPUT "${_obj}"
		COMMAND "${PIDTUPLE_BPF_CLANG}" -target bpf -O2 -g -Wall -Wextra -Werror
			-c "${_src}" -o "${_obj}"
		DEPENDS "${_src}" "${_pidtuple_bpf_lib}/scan_bpf_rec.h"
		COMMENT "Compiling the BPF scan program" VERBATIM)
	add_custom_command(OUTPUT "${_c}"
		COMMAND "${CMAKE_COMMAND}" -DIN=${_obj} -DOUT=${_c}
			-P "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/pidtuple-embed.cmake"
		DEPENDS "${_obj}" "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/pidtuple-embed.cmake"
		COMMENT "Embedding the BPF scan program" VERBATIM)
	target_sources(${target} PRIVATE "${_c}")
	target_compile_definitions(${target} PRIVATE PIDTUPLE_WITH_BPF)
	set(${found_var} ON PARENT_SCOPE)
endfunction()
