#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench_tree_python: a tree restore from Python, the default against share_vm=True.

A Python caller's address space (the interpreter, its modules, pymalloc's mmap'd arenas) is
what every process of a default restore copies; with share_vm=True (PIDTUPLE_FORK_SHARE_VM)
the HOLD leaves share their creator's instead. Restores N HOLD processes (fan-out 8, one PID
namespace level, PIDs from 2000) both ways in alternating order, releases and kills each, and
prints the medians and their ratio. Not a test: it asserts nothing about time.

    sudo unshare -pf --mount-proc python3 bench/bench_tree_python.py [--processes N]
        [--repeat N]

with the binding on PYTHONPATH (bindings/python) and PIDTUPLE_LIBRARY naming the library
when it is not installed. Run it as PID 1 of a PID namespace of its own (as above): it pins
PIDs 2000 and up there. Exit 77 when it cannot run here (not root).
"""
import argparse
import os
import statistics
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    if os.geteuid() != 0 or os.getpid() != 1:
        print("bench_tree_python: needs root, as PID 1 of its own PID namespace "
              "(unshare -pf --mount-proc)", file=sys.stderr)
        return 77
    import pidtuple  # after the check: the library may not load where it cannot run

    tree = pidtuple.Tree()
    nodes = [tree.add("2000")]
    for k in range(1, args.processes):
        nodes.append(tree.add(str(2000 + k), parent=nodes[(k - 1) // 8]))
    ms = {False: [], True: []}
    for rep in range(args.repeat):
        for share in ((False, True) if rep % 2 == 0 else (True, False)):
            t0 = time.perf_counter()
            r = tree.restore(share_vm=share)
            t1 = time.perf_counter()
            r.release()
            r.kill()
            r.close()
            ms[share].append((t1 - t0) * 1e3)
    plain, shared = statistics.median(ms[False]), statistics.median(ms[True])
    print(f"bench_tree_python: {args.processes} processes (fan-out 8), median of "
          f"{args.repeat}: restore {plain:.1f} ms, share_vm {shared:.1f} ms, "
          f"share_vm / restore {shared / plain:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
