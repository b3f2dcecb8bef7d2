#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds libpidtuple into build/gcc and runs the demo (examples/demo_tree). Arguments are
# passed to the demo.
set -eu

cd "$(dirname "$0")/.."

sh scripts/deps.sh
cmake -S . -B build/gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build/gcc -j "$(nproc 2>/dev/null || echo 2)"

demo=build/gcc/examples/demo_tree
if [ ! -x "$demo" ]; then
	echo "run-demo: $demo is missing (is examples/demo_tree.c built by examples/CMakeLists.txt?)" >&2
	exit 1
fi
exec "$demo" "$@"
