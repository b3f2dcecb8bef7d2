#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every import arrow in lib/ points down (docs/design.md).

    scripts/check-arrows.py NM OBJECT...

An arrow goes from one object file to another when the first calls (references, undefined) a
symbol the second defines. Prints the arrows, one line per file, and exits 1 when they form a
circle: a file that reaches itself through other files' functions. The shim
(syscall_shim.c.o) is the floor and is left out of the listing.
"""
import os
import subprocess
import sys


def symbols(nm, obj):
    out = subprocess.run([nm, obj], check=True, capture_output=True, text=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCVW":
            defined.add(parts[2])
    return defined, used


def name(obj):
    base = os.path.basename(obj)
    return base[: -len(".o")] if base.endswith(".o") else base


def cycles(graph):
    """The strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    nm, objs = sys.argv[1], sys.argv[2:]
    tables = {name(o): symbols(nm, o) for o in objs}
    owner = {s: f for f, (defined, _) in tables.items() for s in defined}
    graph = {f: sorted({owner[s] for s in used if s in owner and owner[s] != f})
             for f, (_, used) in tables.items()}
    for f in sorted(graph):
        if "syscall_shim" in f:
            continue
        down = [g for g in graph[f] if "syscall_shim" not in g]
        print(f"{f:24} -> {', '.join(down) if down else '(the shim and libc only)'}")
    bad = cycles(graph)
    for comp in bad:
        print("circle: " + " <-> ".join(comp), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
