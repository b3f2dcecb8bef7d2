# SPDX-License-Identifier: LGPL-2.1-or-later
"""Code written against the binding's public API, for the type checker only (test_typing.py
runs mypy --strict over the package and this file; nothing here is executed). Every use a
caller would make must type-check without a cast."""

from __future__ import annotations

import signal
from typing import List, Optional

import pidtuple
from pidtuple import PidtupleError, Process, Tuple


def tuples() -> List[int]:
    t: Tuple = pidtuple.Tuple("4242/17/1")
    inner: int = t[0]
    outer: List[int] = t.outer()
    part: List[int] = t[1:]
    group = Tuple(b"4242/17")
    return [inner, *outer, *part, len(group), *Tuple.from_inner(range(1, 3))]


def spawning() -> int:
    p: Process = pidtuple.spawn("17/1", ["sleep", "1"], {"PATH": "/bin"}, newpid=True,
                                executable="/bin/sleep", exit_signal=signal.SIGCHLD,
                                precheck=True, fallback=False, lock=True, fallback_retries=2)
    with p:
        fd: int = p.fileno()
        now: Optional[int] = p.poll()
        p.send_signal(signal.SIGTERM)
    child = pidtuple.fork(Tuple("18"), clone_flags=pidtuple.CLONE_NEWNS)
    if child is None:
        raise SystemExit(0)
    return child.wait() + fd + (now or 0) + pidtuple.check("19", newpid=False)


def errors() -> Optional[str]:
    try:
        pidtuple.spawn("1", ["/bin/true"])
    except FileExistsError as e:
        assert isinstance(e, PidtupleError)
        rule: str = e.rule
        pos: Optional[int] = e.nspid_pos
        level: Optional[int] = e.level
        node: Optional[int] = e.node
        return f"{rule} {pos} {level} {node} {e.errno}"
    except PidtupleError as e:
        return e.rule_id.name if isinstance(e.rule_id, pidtuple.Rule) else None
    return None

