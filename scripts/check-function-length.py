#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""No function in lib/ longer than a reader can hold in view.

    scripts/check-function-length.py MAX FILE...

A function is counted from the line of its opening brace at column 0 to its closing brace at
column 0 (the layout clang-format gives every function here). Prints the longest function of
each file and every function over MAX lines, and exits 1 when there is one.
"""
import re
import sys

NAME = re.compile(r"([A-Za-z_]\w*)\s*\(")


def functions(path):
    """(name, first line, length) of each function definition in the file."""
    lines = open(path, encoding="utf-8").read().splitlines()
    out, start, name = [], None, None
    for i, line in enumerate(lines):
        if start is None and line.startswith("{"):
            # The name is on the nearest line above with "name(" that is not a comment.
            for j in range(i - 1, max(i - 6, -1), -1):
                m = NAME.search(lines[j])
                if m and not lines[j].lstrip().startswith(("*", "/*")):
                    name = m.group(1)
                    break
            else:
                name = "?"
            start = i
        elif start is not None and line.startswith("}"):
            out.append((name, start + 1, i - start + 1))
            start = None
    return out


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        print(__doc__.strip(), file=sys.stderr)
        return 2
    limit, bad = int(sys.argv[1]), 0
    for path in sys.argv[2:]:
        found = functions(path)
        if not found:
            continue
        name, line, length = max(found, key=lambda f: f[2])
        print(f"{path}: longest {name}() {length} lines (line {line})")
        for name, line, length in found:
            if length > limit:
                print(f"{path}:{line}: {name}() is {length} lines, over {limit}", file=sys.stderr)
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
