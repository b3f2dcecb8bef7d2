# SPDX-License-Identifier: LGPL-2.1-or-later
"""Code written against the binding's public API, for the type checker only (test_typing.py
runs mypy --strict over the package and this file; nothing here is executed). Every use a
caller would make must type-check without a cast."""

from __future__ import annotations

import io
import signal
from typing import List, Optional
from typing import Tuple as Tuple_

import pidtuple
from pidtuple import NodeKind, PidtupleError, Process, Restore, Tree, Tuple


def tuples() -> List[int]:
    t: Tuple = pidtuple.Tuple("4242/17/1")
    inner: int = t[0]
    outer: List[int] = t.outer()
    part: List[int] = t[1:]
    group = Tuple.from_ids([4242, 0])
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
        thread: Optional[int] = e.thread
        return f"{rule} {pos} {level} {node} {thread} {e.errno}"
    except PidtupleError as e:
        return e.rule_id.name if isinstance(e.rule_id, pidtuple.Rule) else None
    return None


def trees() -> List[int]:
    tree = Tree()
    root = tree.add("300", pgid="300", sid="300")
    init = tree.add("301/1", parent=root, newpid=True)
    tree.add("302/2", parent=init, argv=["sleep", "60"], env={"A": "b"}, kind="exec")
    tree.add("303", parent=0, kind=NodeKind.HOLD, pgid=Tuple.from_ids([300]))
    tree.add("304", parent=0, threads=["305", Tuple("306")])
    for node in tree:
        parent: Optional[int] = node.parent
        kind: NodeKind = node.kind
        threads: Tuple_[Tuple, ...] = node.threads
        assert parent is None or kind in NodeKind or not threads
    levels_left: int = pidtuple.check(tree)
    r: Restore
    with pidtuple.restore(tree, exit_signal=signal.SIGCHLD, lock=False) as r:
        pids: List[int] = r.pids()
        fd: int = r.pidfd(init)
        r.release()
        r.hand_over(3, None, ["sleep", "60"], env=None)
        root_process: Process = r.process(0)
    captured: Tree = pidtuple.capture(root_process.pid)
    text: str = pidtuple.dumps(captured, pretty=True)
    again: Tree = pidtuple.loads(text)
    out = io.StringIO()
    pidtuple.dump(again, out)
    if not pidtuple.json_available():
        raise pidtuple.JsonUnavailableError("no JSON")
    return pids + [fd, levels_left, root_process.wait()]
