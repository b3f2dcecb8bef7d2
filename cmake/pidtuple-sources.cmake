# SPDX-License-Identifier: LGPL-2.1-or-later
#
# PIDTUPLE_SOURCES: the library's C sources, named here and nowhere else in CMake. Every build
# of them takes the list from here: the library (CMakeLists.txt), the fault-injection build
# (tests/fault) and the fuzz targets (tests/fuzz, a project of its own that includes this file
# too). scripts/kmatrix.sh, outside CMake, compiles lib/*.c on its own.
get_filename_component(_pidtuple_lib_dir "${CMAKE_CURRENT_LIST_DIR}/../lib" ABSOLUTE)
# TODO explicit list
file(GLOB PIDTUPLE_SOURCES CONFIGURE_DEPENDS "${_pidtuple_lib_dir}/*.c")
if(NOT PIDTUPLE_SOURCES)
	message(FATAL_ERROR "no library sources found in ${_pidtuple_lib_dir}/*.c")
endif()
