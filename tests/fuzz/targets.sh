# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# The fuzz targets and the longest input each is given, for scripts/run-fuzz.sh and
# scripts/fuzz-long.sh: a tuple line, a status file past the 4 KiB the library reads, an
# options struct with a tail, the fixed header of fuzz_read_opts, a tree of a few hundred nodes,
# a CRIU core image (about 3 KB) twice over.
# shellcheck disable=SC2034 # used by the scripts that source this file
fuzz_targets="fuzz_parse fuzz_nspid fuzz_opts fuzz_read_opts fuzz_tree_json fuzz_criu_img"
declare -A fuzz_max_len=([fuzz_parse]=1024 [fuzz_nspid]=8192 [fuzz_opts]=512 [fuzz_read_opts]=64 [fuzz_tree_json]=16384 [fuzz_criu_img]=8192)
