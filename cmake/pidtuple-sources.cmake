# SPDX-License-Identifier: LGPL-2.1-or-later
#
# PIDTUPLE_SOURCES: the library's C sources, named here and nowhere else in CMake. Every build
# of them takes the list from here: the library (CMakeLists.txt), the fault-injection build
# (tests/fault) and the fuzz targets (tests/fuzz, a project of its own that includes this file
# too). scripts/kmatrix.sh, outside CMake, compiles lib/*.c on its own.
get_filename_component(_pidtuple_lib_dir "${CMAKE_CURRENT_LIST_DIR}/../lib" ABSOLUTE)

# From the bottom up, as docs/design.md draws the arrows.
set(_pidtuple_lib_files
	# the floor: raw kernel ABI, then /proc
	syscall_shim.c proc.c pidns.c diag.c join.c
	# objects and what every module needs
	libpidtuple.c tuple.c caps.c cgroup.c features.c
	# namespaces, the validator, forking
	nsctx.c check.c legacy.c fork.c
	# threads of the calling process
	thread_arch.c thread.c
	# reading
	of_pid.c scan_uring.c bpf_iter.c scan_bpf.c scan.c read.c
	# trees: the description, the check and plan, the restore, capture
	tree.c tree_planner.c tree_shape.c tree_ids.c tree_replay.c tree_groups.c tree_check.c
	tree_plan.c restore_child.c restore_objects.c restore_heap.c restore_handle.c restore.c capture.c)

set(PIDTUPLE_SOURCES "")
foreach(_f IN LISTS _pidtuple_lib_files)
	list(APPEND PIDTUPLE_SOURCES "${_pidtuple_lib_dir}/${_f}")
endforeach()

# A source added to lib/ and not here would silently stay out of the library.
file(GLOB _pidtuple_lib_found RELATIVE "${_pidtuple_lib_dir}" CONFIGURE_DEPENDS "${_pidtuple_lib_dir}/*.c")
foreach(_f IN LISTS _pidtuple_lib_found)
	if(NOT _f IN_LIST _pidtuple_lib_files)
		message(FATAL_ERROR "lib/${_f} is not listed in cmake/pidtuple-sources.cmake")
	endif()
endforeach()
foreach(_f IN LISTS _pidtuple_lib_files)
	if(NOT EXISTS "${_pidtuple_lib_dir}/${_f}")
		message(FATAL_ERROR "cmake/pidtuple-sources.cmake lists lib/${_f}, which does not exist")
	endif()
endforeach()
