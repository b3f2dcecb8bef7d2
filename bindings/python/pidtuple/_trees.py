# SPDX-License-Identifier: LGPL-2.1-or-later
"""Process trees: describe, check, restore, capture, and their JSON form (docs/trees.md).

Internal module; everything public is re-exported by the package.
"""

from __future__ import annotations

import ctypes
import dataclasses
import enum
import errno as _errno
import fcntl
import operator
import os
import warnings
from typing import IO, Any, Callable, Iterator, List, Optional, Sequence
from typing import Tuple as TypingTuple
from typing import Union

from . import _json, _lib
from ._errors import PidtupleError, Rule, error
from ._lib import lib as _c
from ._process import Process
from ._tuple import Tuple, TupleLike, as_ids, as_tuple, dup
from ._util import Env, FdLike, StrOrBytesPath, args_of, cstrings, envp_of, fork_opts, resolve

__all__ = ["Node", "NodeKind", "Restore", "Tree", "capture", "dump", "dumps",
           "json_available", "load", "loads", "restore", "JsonUnavailableError"]

JsonUnavailableError = _json.JsonUnavailableError


class NodeKind(enum.IntEnum):
    """What a tree node does once the tree is released (PIDTUPLE_NODE_*)."""

    #: Keeps its PIDs taken, doing nothing, until handed over (:meth:`Restore.hand_over`)
    #: or killed.
    HOLD = _lib.NODE_HOLD
    #: Executes its program.
    EXEC = _lib.NODE_EXEC
    #: Runs a C function (trees described in C only; such a node has no JSON form).
    CALLBACK = _lib.NODE_CALLBACK

    def __str__(self) -> str:
        return self.name.lower()


#: What add() takes as a kind: a NodeKind, its name ("hold", "exec") or its value.
KindLike = Union[NodeKind, str, int]


@dataclasses.dataclass(frozen=True)
class Node:
    """One process of a :class:`Tree`, as the tree holds it (a snapshot: the tree owns the
    description, and :meth:`Tree.add` returns the node it added).

    ``tuple`` is its PIDs from the tree's top level down; ``parent`` the parent's index
    (None for the root); ``newpid`` whether it is the init of a new PID namespace (then its
    innermost PID is 1). ``pgid`` and ``sid`` are its process group and session at every
    level, outermost first with 0 where not visible, or None: the parent's. ``path``,
    ``argv`` and ``env`` ("NAME=value" strings; None: the restorer's environment) are the
    program of an EXEC node. ``threads`` are the TID tuples of a HOLD node's other threads
    (not the main thread, whose TIDs are ``tuple``), each with the node's levels; empty for
    a process with one thread. ``name`` is the command name a HOLD node takes (what ps
    shows; :func:`capture` records it), or None: the restorer's.

    ``group_outside`` and ``session_outside`` are what :func:`capture` saw: the leader of
    the node's process group (session) was no process of the tree, alive outside it or gone
    (PIDTUPLE_NODE_GROUP_OUTSIDE, _SESSION_OUTSIDE). They are marks, not instructions: a
    restore refused over the root's group or session says so, and ``shell_job=True``
    (:meth:`Tree.restore`) restores such a job into the caller's session and group.
    """

    index: int
    tuple: Tuple
    parent: Optional[int] = None
    newpid: bool = False
    kind: NodeKind = NodeKind.HOLD
    pgid: Optional[Tuple] = None
    sid: Optional[Tuple] = None
    path: Optional[str] = None
    argv: Optional[TypingTuple[str, ...]] = None
    env: Optional[TypingTuple[str, ...]] = None
    threads: TypingTuple[Tuple, ...] = ()
    name: Optional[str] = None
    group_outside: bool = False
    session_outside: bool = False

    @property
    def is_root(self) -> bool:
        return self.parent is None

    def __repr__(self) -> str:
        parts = [f"{self.index}", f"{str(self.tuple)!r}"]
        if self.parent is not None:
            parts.append(f"parent={self.parent}")
        if self.newpid:
            parts.append("newpid=True")
        parts.append(f"kind={str(self.kind)!r}")
        for name in ("pgid", "sid"):
            t = getattr(self, name)
            if t is not None:
                parts.append(f"{name}={str(t)!r}")
        if self.path is not None:
            parts.append(f"path={self.path!r}, argv={list(self.argv or ())!r}")
        if self.threads:
            parts.append(f"threads={[str(t) for t in self.threads]!r}")
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        for name in ("group_outside", "session_outside"):
            if getattr(self, name):
                parts.append(f"{name}=True")
        return f"pidtuple.Node({', '.join(parts)})"


#: A node of a tree: its index, or the Node itself.
NodeRef = Union[int, Node]


def _index(node: NodeRef, size: int) -> int:
    i = node.index if isinstance(node, Node) else operator.index(node)
    if not 0 <= i < size:
        raise IndexError(f"node {i} out of range for a tree of {size} nodes")
    return i


def _strings(arr: Any) -> Optional[TypingTuple[str, ...]]:
    """A NULL-terminated char *const [] as text, None for NULL."""
    if not arr:
        return None
    out = []
    i = 0
    while arr[i] is not None:
        out.append(os.fsdecode(arr[i]))
        i += 1
    return tuple(out)


def _threads(threads: Optional[Sequence[TupleLike]]) -> List[Tuple]:
    """The TID tuples of add(threads=...): a sequence of tuples or their text forms."""
    if threads is None:
        return []
    if isinstance(threads, (str, bytes, bytearray, Tuple)):
        raise TypeError("threads is a sequence of TID tuples, one per thread, not one tuple")
    return [as_tuple(t) for t in threads]


def _set_threads(nd: _lib.Node, threads: Sequence[Tuple]) -> Any:
    """Points @nd at @threads' C tuples; returns the array, to keep alive until the call."""
    arr = (ctypes.c_void_p * max(len(threads), 1))(*[t._handle() for t in threads])
    if threads:
        nd.threads = ctypes.cast(arr, ctypes.POINTER(ctypes.c_void_p))
        nd.nthreads = len(threads)
    return arr


def _read_threads(nd: _lib.Node) -> TypingTuple[Tuple, ...]:
    """The node's thread tuples, each a Tuple of its own."""
    if not nd.threads:
        return ()
    out = []
    for k in range(nd.nthreads):
        t = dup(nd.threads[k], "tree node thread")
        assert t is not None
        out.append(t)
    return tuple(out)


def _kind(kind: Optional[KindLike], program: bool) -> NodeKind:
    if kind is None:
        return NodeKind.EXEC if program else NodeKind.HOLD
    if isinstance(kind, str):
        try:
            return NodeKind[kind.upper()]
        except KeyError:
            raise ValueError(f"kind must be 'hold' or 'exec', not {kind!r}") from None
    return NodeKind(kind)


def _tree_opts(diag: Optional[_lib.Diag], exit_signal: Optional[int],
               cgroup_fd: Optional[FdLike], lock: bool, shell_job: bool,
               ns: Optional[FdLike] = None, share_vm: bool = False) -> _lib.ForkOpts:
    o = fork_opts(diag, exit_signal=exit_signal, cgroup_fd=cgroup_fd, lock=lock, ns=ns)
    if shell_job:
        o.flags |= _lib.FORK_SHELL_JOB
    if share_vm:
        o.flags |= _lib.FORK_SHARE_VM
    return o


def _node_flags(newpid: bool, group_outside: bool, session_outside: bool) -> int:
    return ((_lib.NODE_NEWPID if newpid else 0)
            | (_lib.NODE_GROUP_OUTSIDE if group_outside else 0)
            | (_lib.NODE_SESSION_OUTSIDE if session_outside else 0))


class Tree:
    """A description of a process tree: for each process its tuple, its parent, whether it
    starts a new PID namespace, its process group and session, and what it does once the
    tree is released.

    Build one with :meth:`add` (parents before their children, the root first), read one
    from a live tree with :func:`capture` or from JSON with :func:`loads`. ``len(tree)``,
    ``tree[i]`` and iteration give :class:`Node` objects; two trees compare equal when they
    describe the same nodes. :meth:`check` and :meth:`restore` (or the functions of the same
    names) check it against the machine and create it.

    The description is a C object freed when the tree is collected (or at once with
    :meth:`close`, or at the end of a ``with`` block).
    """

    _ptr: Optional[int]

    def __init__(self) -> None:
        self._ptr = None
        _lib.need("pidtuple_tree_new")
        ptr = ctypes.c_void_p()
        r = _c.pidtuple_tree_new(ctypes.byref(ptr))
        if r < 0:
            raise error(r, what="tree")
        self._ptr = ptr.value

    @classmethod
    def _adopt(cls, ptr: Optional[int]) -> Tree:
        self = cls.__new__(cls)
        self._ptr = ptr
        return self

    def _handle(self) -> int:
        if self._ptr is None:
            raise ValueError("operation on a closed pidtuple.Tree")
        return self._ptr

    def close(self, _free: Optional[Callable[[int], None]] =
              getattr(_c, "pidtuple_tree_free", None)) -> None:
        """Frees the description now (never any process)."""
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr is not None and _free is not None:
            _free(ptr)

    __del__ = close

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- building ------------------------------------------------------------------------

    def add(self, tuple: TupleLike, *, parent: Optional[NodeRef] = None,
            pgid: Optional[TupleLike] = None, sid: Optional[TupleLike] = None,
            newpid: bool = False, kind: Optional[KindLike] = None,
            path: Optional[StrOrBytesPath] = None,
            argv: Optional[Sequence[StrOrBytesPath]] = None,
            env: Optional[Env] = None,
            threads: Optional[Sequence[TupleLike]] = None,
            name: Optional[str] = None, group_outside: bool = False,
            session_outside: bool = False) -> Node:
        """Appends a node and returns it; the tree keeps copies of everything.

        *tuple* is the node's PIDs (a :class:`Tuple` or its text form) from the tree's top
        level, the namespace the root is created in, down. *parent* is the parent node (or
        its index); None for the root, which comes first. *newpid*: the node is the init of
        a new PID namespace (one level more than its parent, innermost PID 1). *pgid* and
        *sid*: its process group and session at every level, outermost first, 0 where not
        visible (``"4242/0"``, or :meth:`Tuple.from_ids`); None: the parent's.

        *kind* is "hold" (the default: keep the PIDs taken until handed over or killed) or
        "exec" (the default when *argv* is given): execute *path*, else ``argv[0]``
        searched in PATH (the PATH of *env*), with *argv* and *env* (a mapping; None: the
        restorer's environment).

        *threads* (a hold node only) are the TIDs of the process's other threads: a sequence
        of TID tuples (or their text forms) with the node's levels, one per thread; the
        restore creates them with exactly these TIDs, parked until the node is handed over
        or killed. None or empty: one thread. *name* (a hold node only): the command name
        it takes, 1 to 15 bytes; None: the restorer's. *group_outside* and
        *session_outside* are the marks :func:`capture` sets (:class:`Node`); they change
        nothing but what a refused restore says.

        Only what the node itself says is checked here (PidtupleError, a ValueError, for a
        second root or a parent that does not come before); :meth:`check` checks the tree.
        """
        h = self._handle()
        t = as_tuple(tuple)
        if parent is None and len(self):
            raise PidtupleError(_errno.EINVAL, f"Tree.add({str(t)!r}): the tree has a root "
                                "already; say which node is the parent", rule=Rule.TREE_SHAPE)
        g = as_ids(pgid) if pgid is not None else None
        s = as_ids(sid) if sid is not None else None
        k = _kind(kind, argv is not None or path is not None)
        ts = _threads(threads)
        if ts and k != NodeKind.HOLD:
            raise TypeError("threads are for a hold node: an exec node's execve() would end "
                            "them")
        nd = _lib.Node()
        nd.parent = -1 if parent is None else _index(parent, len(self))
        nd.kind = int(k)
        nd.flags = _node_flags(newpid, group_outside, session_outside)
        nd.tuple = t._handle()
        nd.pgid = g._handle() if g is not None else None
        nd.sid = s._handle() if s is not None else None
        # What the C pointers point into, alive until the call returns.
        keep: List[Any] = [_set_threads(nd, ts)]
        if name is not None:
            if k != NodeKind.HOLD:
                raise TypeError("name is for a hold node: a program names itself")
            nd.name = os.fsencode(name)
        if k == NodeKind.EXEC:
            if argv is None:
                if path is None:
                    raise TypeError("an exec node needs argv (and optionally path)")
                argv = [path]
            args = args_of(argv, "Tree.add")
            exe = resolve(path if path is not None else args[0], env, "Tree.add")
            keep += [exe, cstrings(args), envp_of(env)]
            nd.path, nd.argv, nd.envp = keep[1], keep[2], keep[3]
        elif k == NodeKind.HOLD:
            if path is not None or argv is not None or env is not None:
                raise TypeError("a hold node runs no program: path, argv and env are for "
                                "kind='exec' (a hold node is given one by Restore.hand_over)")
        else:
            raise ValueError("a callback node runs a C function: it cannot be described from "
                             "Python")
        r = _c.pidtuple_tree_add(h, ctypes.byref(nd))
        if r < 0:
            raise error(r, what=f"Tree.add({str(t)!r})")
        return self[r]

    # ---- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        r = _c.pidtuple_tree_size(self._handle())
        if r < 0:
            raise error(r, what="tree size")
        return int(r)

    def __getitem__(self, index: int) -> Node:
        n = len(self)
        i = operator.index(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"node {index} out of range for a tree of {n} nodes")
        nd = _lib.Node()
        r = _c.pidtuple_tree_get(self._handle(), i, ctypes.byref(nd))
        if r < 0:
            raise error(r, what=f"node {i}")
        t = dup(nd.tuple, "tree node")
        assert t is not None
        return Node(index=i, tuple=t, parent=None if nd.parent < 0 else int(nd.parent),
                    newpid=bool(nd.flags & _lib.NODE_NEWPID), kind=NodeKind(nd.kind),
                    pgid=dup(nd.pgid, "tree node"), sid=dup(nd.sid, "tree node"),
                    path=os.fsdecode(nd.path) if nd.path is not None else None,
                    argv=_strings(nd.argv), env=_strings(nd.envp),
                    threads=_read_threads(nd),
                    name=os.fsdecode(nd.name) if nd.name is not None else None,
                    group_outside=bool(nd.flags & _lib.NODE_GROUP_OUTSIDE),
                    session_outside=bool(nd.flags & _lib.NODE_SESSION_OUTSIDE))

    def __iter__(self) -> Iterator[Node]:
        return (self[i] for i in range(len(self)))

    @property
    def nodes(self) -> List[Node]:
        """Every node, in order."""
        return list(self)

    @property
    def root(self) -> Node:
        """The first node (IndexError for an empty tree)."""
        return self[0]

    def children(self, node: NodeRef) -> List[Node]:
        """The nodes whose parent is *node*, in order."""
        i = _index(node, len(self))
        return [n for n in self if n.parent == i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tree):
            return NotImplemented
        return self.nodes == other.nodes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<pidtuple.Tree (closed)>"
        return f"<pidtuple.Tree nodes={len(self)}>"

    def __reduce__(self) -> TypingTuple[Any, ...]:
        return (_rebuild, ([[n.tuple, n.parent, n.newpid, int(n.kind), n.pgid, n.sid, n.path,
                              n.argv, n.env, list(n.threads), n.name, n.group_outside,
                              n.session_outside] for n in self],))

    # ---- checking, restoring, JSON -------------------------------------------------------

    def check(self, *, exit_signal: Optional[int] = None, cgroup_fd: Optional[FdLike] = None,
              lock: bool = False, shell_job: bool = False,
              ns: Optional[FdLike] = None) -> int:
        """Checks the whole tree against the kernel's rules in the caller's real context,
        creating nothing: shape, duplicates, groups and sessions, then every node's PIDs.
        Returns 0, or the positive number of levels left to the kernel. Raises
        :class:`PidtupleError` naming the node (``node``), the level and the rule. The
        options are those of :meth:`restore`."""
        diag = _lib.Diag()
        o = _tree_opts(None, exit_signal, cgroup_fd, lock, shell_job, ns)
        r = _c.pidtuple_tree_check(self._handle(), ctypes.byref(o), ctypes.byref(diag))
        if r < 0:
            raise error(r, diag)
        return int(r)

    def restore(self, *, exit_signal: Optional[int] = None,
                cgroup_fd: Optional[FdLike] = None, lock: bool = False,
                shell_job: bool = False, ns: Optional[FdLike] = None,
                share_vm: bool = False) -> Restore:
        """Creates every process of the tree with its exact PIDs (all or nothing: on failure
        nothing is left) and returns the :class:`Restore` handle; the processes wait at a
        barrier until :meth:`Restore.release`. *exit_signal* is the root's, *cgroup_fd* a
        cgroup2 directory to start the tree in, *lock* holds the ns_last_pid lock around
        the forks. The root is the caller's child.

        *shell_job* (PIDTUPLE_FORK_SHELL_JOB, ``pidtuple restore --shell-job``): the root's
        session and process group, where no node leads them (a job started from a shell,
        whose leader is the shell), become the caller's own, as CRIU's --shell-job does; the
        processes keep their PIDs but show the caller's session and group numbers. Without
        it such a tree is refused while the shell lives (its PID is taken), and the error
        says what :func:`capture` saw (:attr:`Node.session_outside`) and suggests it.

        *ns* (PIDTUPLE_FORK_JOIN_NS, ``pidtuple restore --ns``): create the tree in another
        PID namespace at or below the caller's, a running container's (a namespace file, a
        pidfd, or a :class:`Process` living there); the tuples pin levels from there
        outward, and the caller takes no PID inside.

        *share_vm* (PIDTUPLE_FORK_SHARE_VM, ``pidtuple restore --share-vm``): a HOLD node
        without children or a session or group to lead, whose creator holds too, shares its
        creator's memory (CLONE_VM) instead of a copy, which makes a large tree several times
        faster to create. It holds and takes a program like any other; leave it out when a
        tool will write each process's own memory (or oom_score_adj, or anything else Linux
        keeps per address space) into the held processes."""
        return Restore(self, exit_signal=exit_signal, cgroup_fd=cgroup_fd, lock=lock,
                       shell_job=shell_job, ns=ns, share_vm=share_vm)

    @classmethod
    def capture(cls, pid: int) -> Tree:
        """The description of the live tree under process *pid*: see :func:`capture`."""
        _lib.need("pidtuple_tree_capture")
        ptr = ctypes.c_void_p()
        r = _c.pidtuple_tree_capture(int(pid), ctypes.byref(ptr))
        if r < 0:
            raise error(r, what=f"capture({pid})")
        return cls._adopt(ptr.value)

    def to_json(self, *, pretty: bool = False) -> str:
        """The JSON form (docs/tree-json.md), canonical: the same tree always gives the
        same text. *pretty* indents it. Needs libpidtuple-json (else
        :class:`JsonUnavailableError`)."""
        jl = _json.lib()
        out = ctypes.c_void_p()
        r = jl.pidtuple_tree_to_json(self._handle(), _json.PRETTY if pretty else 0,
                                     ctypes.byref(out))
        if r < 0:
            raise error(r, what="to_json")
        text = out.value
        assert text is not None
        try:
            return ctypes.string_at(text).decode()
        finally:
            _json.free(text)

    @classmethod
    def from_json(cls, text: Union[str, bytes, bytearray]) -> Tree:
        """Reads the JSON form, strictly (docs/tree-json.md). Raises
        :class:`PidtupleError` (a ValueError) naming the place in the document. Needs
        libpidtuple-json (else :class:`JsonUnavailableError`)."""
        jl = _json.lib()
        raw = text.encode() if isinstance(text, str) else bytes(text)
        if b"\0" in raw:
            raise PidtupleError(_errno.EINVAL, "JSON text contains a NUL byte",
                                rule=Rule.SYNTAX, text_pos=raw.index(b"\0"))
        ptr = ctypes.c_void_p()
        diag = _lib.Diag()
        r = jl.pidtuple_tree_from_json(raw, ctypes.byref(ptr), ctypes.byref(diag))
        if r < 0:
            raise error(r, diag, what="from_json")
        return cls._adopt(ptr.value)


def _rebuild(nodes: List[List[Any]]) -> Tree:
    """Unpickles a Tree from its nodes' fields (all but the index; the threads, the name and
    the outside marks last, absent from the pickles of a binding without them)."""
    t = Tree()
    for fields in nodes:
        tup, parent, newpid, kind, pgid, sid, path, argv, env = fields[:9]
        marks = fields[11:13] if len(fields) > 12 else [False, False]
        nd = _lib.Node()
        alive = _set_threads(nd, fields[9] if len(fields) > 9 else [])  # until the add
        name = fields[10] if len(fields) > 10 else None
        nd.name = os.fsencode(name) if name is not None else None
        nd.parent = -1 if parent is None else parent
        nd.kind = kind
        nd.flags = _node_flags(newpid, marks[0], marks[1])
        nd.tuple = tup._handle()
        nd.pgid = pgid._handle() if pgid is not None else None
        nd.sid = sid._handle() if sid is not None else None
        keep = [os.fsencode(path) if path is not None else None,
                cstrings([os.fsencode(a) for a in argv]) if argv is not None else None,
                cstrings([os.fsencode(e) for e in env]) if env is not None else None]
        nd.path, nd.argv, nd.envp = keep
        r = _c.pidtuple_tree_add(t._handle(), ctypes.byref(nd))
        del alive
        if r < 0:
            raise error(r, what="unpickling a tree")
    return t


# ------------------------------------------------------------------------------------------
# The restore handle

class Restore:
    """A restored tree: every process exists with its PIDs and waits at a barrier.

    ``pid(node)`` and ``pidfd(node)`` give a node's PID in the caller's namespace and a
    pidfd owned by the handle; :meth:`release` lets the processes go (EXEC nodes execute
    their programs, HOLD nodes keep holding); :meth:`hand_over` then makes a HOLD node
    execute a program in place; :meth:`kill` kills and reaps the whole tree; :meth:`close`
    frees the handle and its pidfds.

    As a context manager, leaving the block kills and reaps the whole tree when the block
    raised, or when it ends without :meth:`release` (a hand-over needs a release first), and
    then closes the handle. A released tree is left running: its root is the caller's child
    to reap (:meth:`process` gives it as a :class:`Process`). A handle collected without
    close() warns (ResourceWarning), like an unclosed file.
    """

    _ptr: Optional[int]

    def __init__(self, tree: Tree, *, exit_signal: Optional[int] = None,
                 cgroup_fd: Optional[FdLike] = None, lock: bool = False,
                 shell_job: bool = False, ns: Optional[FdLike] = None,
                 share_vm: bool = False) -> None:
        self._ptr = None
        self.released = False
        self.killed = False
        _lib.need("pidtuple_tree_restore")
        diag = _lib.Diag()
        o = _tree_opts(diag, exit_signal, cgroup_fd, lock, shell_job, ns, share_vm)
        ptr = ctypes.c_void_p()
        r = _c.pidtuple_tree_restore(tree._handle(), ctypes.byref(o), ctypes.byref(ptr))
        if r < 0:
            raise error(r, diag)
        self._ptr = ptr.value
        self._size = len(tree)
        #: The description that was restored.
        self.tree = tree

    def _handle(self) -> int:
        if self._ptr is None:
            raise ValueError("operation on a closed pidtuple.Restore")
        return self._ptr

    def __len__(self) -> int:
        return self._size

    def pid(self, node: NodeRef) -> int:
        """The node's PID in the caller's namespace."""
        r = _c.pidtuple_restore_pid(self._handle(), _index(node, self._size))
        if r < 0:
            raise error(r, what="Restore.pid")
        return int(r)

    def pids(self) -> List[int]:
        """Every node's PID in the caller's namespace, in node order."""
        return [self.pid(i) for i in range(self._size)]

    def pidfd(self, node: NodeRef) -> int:
        """A pidfd for the node, owned by the handle: valid until :meth:`close`."""
        r = _c.pidtuple_restore_pidfd(self._handle(), _index(node, self._size))
        if r < 0:
            raise error(r, what="Restore.pidfd")
        return int(r)

    def process(self, node: NodeRef = 0) -> Process:
        """A :class:`Process` for the node, with a pidfd of its own (a copy of the
        handle's), that outlives the handle: wait() on it works for the root, the caller's
        child; for any node it can signal and read the tuple."""
        i = _index(node, self._size)
        fd = fcntl.fcntl(self.pidfd(i), fcntl.F_DUPFD_CLOEXEC, 0)
        return Process(self.pid(i), fd, child=i == 0)

    def release(self) -> None:
        """Lifts the barrier: every process starts its work at once (HOLD nodes keep
        holding). Returns once every node has left the barrier."""
        r = _c.pidtuple_restore_release(self._handle())
        if r < 0:
            raise error(r, what="Restore.release")
        self.released = True

    def hand_over(self, node: NodeRef, path: Optional[StrOrBytesPath],
                  argv: Sequence[StrOrBytesPath], env: Optional[Env] = None) -> None:
        """Makes a HOLD node execute a program in place, after :meth:`release`: its PIDs are
        never free. *path* is the program (None: ``argv[0]``; searched in PATH, the PATH of
        *env*, when it has no slash), *env* a mapping (None: the node's environment).
        Returns once the node executes the program; raises with the execve() errno (the
        node keeps holding), ESRCH (ProcessLookupError) when the node is gone."""
        i = _index(node, self._size)
        args = args_of(argv, "hand_over")
        exe = resolve(path if path is not None else args[0], env, "hand_over")
        envp = envp_of(env)
        r = _c.pidtuple_restore_hand_over(self._handle(), i, exe, cstrings(args), envp)
        if r < 0:
            raise error(r, what=f"hand_over of node {i}")

    def kill(self) -> None:
        """Kills every process of the tree and reaps those that are the caller's to reap."""
        r = _c.pidtuple_restore_kill(self._handle())
        if r < 0:
            raise error(r, what="Restore.kill")
        self.killed = True

    def close(self, _free: Optional[Callable[[int], None]] =
              getattr(_c, "pidtuple_restore_free", None)) -> None:
        """Frees the handle and closes its pidfds. A released tree is not touched (its root
        stays the caller's child to reap); a tree never released exits."""
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr is not None and _free is not None:
            _free(ptr)

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self) -> Restore:
        return self

    def __exit__(self, exc_type: Optional[type], exc: Optional[BaseException],
                 tb: Any) -> None:
        try:
            if self._ptr is not None and not self.killed and (
                    exc_type is not None or not self.released):
                self.kill()
        finally:
            self.close()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if getattr(self, "_ptr", None) is not None:
            _warn(f"pidtuple.Restore of {self._size} nodes dropped without close()",
                  ResourceWarning, source=self)
            self.close()

    def __repr__(self) -> str:
        state = ("closed" if self._ptr is None else "killed" if self.killed
                 else "released" if self.released else "held")
        return f"<pidtuple.Restore nodes={self._size} {state}>"


# ------------------------------------------------------------------------------------------
# Functions

def capture(pid: int) -> Tree:
    """Describes the live process tree under *pid* (a PID in the caller's namespace): every
    descendant with its tuple, parent, group, session, namespace boundaries and the TID
    tuples of its other threads (:attr:`Node.threads`, by TID), relative to the caller's
    namespace; every node is a HOLD node. Capture, kill, restore and capture again gives an
    equal tree, threads included. Raises ProcessLookupError (a PidtupleError) when there is
    no such process."""
    return Tree.capture(pid)


def restore(tree: Tree, *, exit_signal: Optional[int] = None,
            cgroup_fd: Optional[FdLike] = None, lock: bool = False,
            shell_job: bool = False, ns: Optional[FdLike] = None,
            share_vm: bool = False) -> Restore:
    """:meth:`Tree.restore`: creates the tree and returns its :class:`Restore` handle."""
    return tree.restore(exit_signal=exit_signal, cgroup_fd=cgroup_fd, lock=lock,
                        shell_job=shell_job, ns=ns, share_vm=share_vm)


def json_available() -> bool:
    """True when libpidtuple-json can be loaded (trees to and from JSON)."""
    return _json.available()


def loads(text: Union[str, bytes, bytearray]) -> Tree:
    """A tree from its JSON text (:meth:`Tree.from_json`)."""
    return Tree.from_json(text)


def dumps(tree: Tree, *, pretty: bool = False) -> str:
    """A tree's JSON text (:meth:`Tree.to_json`)."""
    return tree.to_json(pretty=pretty)


def load(fp: Union[IO[str], IO[bytes]]) -> Tree:
    """A tree from a file of JSON text."""
    return Tree.from_json(fp.read())


def dump(tree: Tree, fp: IO[str], *, pretty: bool = False) -> None:
    """Writes a tree's JSON text to a text file (with a final newline)."""
    fp.write(tree.to_json(pretty=pretty) + "\n")

