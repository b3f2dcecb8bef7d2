# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python binding of libpidtuple: create processes with exactly the PIDs you ask for, at every
level of nested PID namespaces; capture, check and restore whole process trees.

Pure ctypes; it needs libpidtuple.so.1 (or the path in $PIDTUPLE_LIBRARY) and no compiler;
the JSON form of trees also needs libpidtuple-json.so.1.

Orders, as in the C library: in text a tuple is written outermost first, as /proc/PID/status
prints ``NSpid`` (``"4242/17/1"``); indexing counts from the innermost level, as the kernel's
``set_tid`` array does (``t[0]`` is the PID the process sees from inside, here 1).

    >>> t = pidtuple.Tuple("4242/17/1")
    >>> t[0], t[-1], t.outer()
    (1, 4242, [4242, 17, 1])
    >>> p = pidtuple.spawn("17/1", ["/bin/true"], newpid=True)  # needs privilege
    >>> p.pid, p.read_tuple(), p.wait()
    (17, pidtuple.Tuple('17/1'), 0)

Errors raise :class:`PidtupleError`, an OSError that also names the broken rule and level,
and is the standard library's class for its errno too (FileExistsError for a taken PID).
"""

from __future__ import annotations

import ctypes
import dataclasses
import enum
import errno as _errno
import mmap
import operator
import os
import signal
from typing import Any, Callable, Iterator, List, Optional, Sequence, Union

from . import _lib
from ._errors import PidtupleError, PidTupleError, Rule, error_class
from ._errors import _unpickle_error  # noqa: F401  # what pickles of errors name
from ._errors import error as _error
from ._errors import rule_name as _rule_name
from ._errors import strerror
from ._lib import lib as _c
from ._process import Process
from ._trees import (JsonUnavailableError, Node, NodeKind, NodeRef, Restore, Tree, capture,
                     dump, dumps, json_available, load, loads, restore)
from ._tuple import MAX_LEVELS, Tuple, TupleLike
from ._tuple import as_tuple as _as_tuple
from ._tuple import dup as _dup_tuple
from ._util import Env, FdLike, StrOrBytesPath
from ._util import args_of as _args_of
from ._util import cstrings as _cstrings
from ._util import envp_of as _envp_of
from ._util import fd_of as _fd_of
from ._util import fork_opts as _fork_opts
from ._util import resolve as _resolve

__all__ = [
    "CLONE_NEWCGROUP", "CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWNS", "CLONE_NEWPID",
    "CLONE_NEWTIME", "CLONE_NEWUSER", "CLONE_NEWUTS", "Env", "FdLike", "Feature", "Features",
    "JsonUnavailableError", "LIBRARY_PATH", "LevelFlag", "LevelInfo", "MAX_LEVELS",
    "NamespaceContext", "Node", "NodeKind", "NodeRef", "PidTupleError", "PidtupleError",
    "Process", "Restore", "Rule", "Scan", "ScanEntry", "StrOrBytesPath", "Tree", "Tuple",
    "TupleLike", "capture", "check", "dump", "dumps", "error_class", "feature_error",
    "feature_name", "feature_reason", "features", "fork", "get_next_pid", "json_available",
    "load", "loads", "of_pid", "of_pidfd", "read", "read_pidfd", "restore", "scan",
    "set_next_pid", "spawn", "strerror", "version", "hold_thread",
]

#: Where the C library was loaded from.
LIBRARY_PATH: str = _lib.PATH

CLONE_NEWTIME: int = _lib.CLONE_NEWTIME
CLONE_NEWNS: int = _lib.CLONE_NEWNS
CLONE_NEWCGROUP: int = _lib.CLONE_NEWCGROUP
CLONE_NEWUTS: int = _lib.CLONE_NEWUTS
CLONE_NEWIPC: int = _lib.CLONE_NEWIPC
CLONE_NEWUSER: int = _lib.CLONE_NEWUSER
CLONE_NEWPID: int = _lib.CLONE_NEWPID
CLONE_NEWNET: int = _lib.CLONE_NEWNET


class Feature(enum.IntFlag):
    """PIDTUPLE_FEATURE_* bits of pidtuple_features()."""

    CLONE3 = 1 << 0
    SET_TID = 1 << 1
    PIDFD = 1 << 2
    INTO_CGROUP = 1 << 3
    NS_PID_IOCTLS = 1 << 4
    PIDFD_GET_INFO = 1 << 5
    PER_NS_PID_MAX = 1 << 6
    CAP_CHECKPOINT_RESTORE = 1 << 7
    CAP_SYS_ADMIN = 1 << 8
    NS_LAST_PID = 1 << 9
    BPF_SCAN = 1 << 10


class LevelFlag(enum.IntFlag):
    """PIDTUPLE_LEVEL_* bits of a namespace level."""

    NEW = 1 << 0
    CALLER = 1 << 1
    HAS_INIT = 1 << 2
    INIT_DEAD = 1 << 3
    INIT_UNKNOWN = 1 << 4
    PID_MAX_EXACT = 1 << 5
    CAN_PIN = 1 << 6
    CAP_CHECKPOINT_RESTORE = 1 << 7
    CAP_SYS_ADMIN = 1 << 8


def version() -> str:
    """The running C library's version, "MAJOR.MINOR.PATCH"."""
    return str(_c.pidtuple_version_string().decode())


# ------------------------------------------------------------------------------------------
# Reading

def _read(fn: Callable[[int, Any], int], arg: int, what: str) -> Tuple:
    ptr = ctypes.c_void_p()
    r = fn(arg, ctypes.byref(ptr))
    if r < 0:
        raise _error(r, what=what)
    return Tuple._adopt(ptr.value)


def of_pid(pid: int) -> Tuple:
    """The tuple of process *pid*, from the caller's PID namespace down to the process's own."""
    return _read(_c.pidtuple_of_pid, int(pid), f"of_pid({pid})")


def of_pidfd(pidfd: FdLike) -> Tuple:
    """The tuple of the process a pidfd (an int or an object with fileno()) refers to."""
    fd = _fd_of(pidfd)
    return _read(_c.pidtuple_of_pidfd, fd, f"of_pidfd({fd})")


def _read_opts(source: str, ns_fd: Optional[FdLike]) -> _lib.ReadOpts:
    o = _lib.ReadOpts()
    try:
        o.source = _lib.SOURCES.index(source)
    except ValueError:
        raise ValueError(f"source must be one of {_lib.SOURCES}, not {source!r}") from None
    if ns_fd is not None:
        o.flags |= _lib.READ_NS_FD
        o.ns_fd = _fd_of(ns_fd)
    return o


def _kind(kind: str) -> int:
    try:
        return _lib.KINDS.index(kind)
    except ValueError:
        raise ValueError(f"kind must be one of {_lib.KINDS}, not {kind!r}") from None


def read(id: int, kind: str = "tgid", *, source: str = "auto",
         ns_fd: Optional[FdLike] = None) -> Tuple:
    """One of a thread's or process's ids at every level, as a :class:`Tuple`.

    *kind* is "tid", "tgid" (the default), "pgid" or "sid"; a "pgid"/"sid" tuple has 0 at the
    inner levels where the group or session is not visible. *source* picks how it is read
    ("auto", "status", "fdinfo", "nsfs"); *ns_fd* (a PID namespace fd, the caller's or below)
    makes the tuple start at that level instead of the caller's.
    """
    _lib.need("pidtuple_read")
    o = _read_opts(source, ns_fd)
    k = _kind(kind)
    return _read(lambda i, p: int(_c.pidtuple_read(i, k, ctypes.byref(o), p)), int(id),
                 f"read({id}, {kind!r})")


def read_pidfd(pidfd: FdLike, kind: str = "tgid", *, source: str = "auto",
               ns_fd: Optional[FdLike] = None) -> Tuple:
    """As :func:`read`, for the process or thread a pidfd refers to."""
    _lib.need("pidtuple_read_pidfd")
    o = _read_opts(source, ns_fd)
    k = _kind(kind)
    fd = _fd_of(pidfd)
    return _read(lambda f, p: int(_c.pidtuple_read_pidfd(f, k, ctypes.byref(o), p)), fd,
                 f"read_pidfd({fd}, {kind!r})")


@dataclasses.dataclass(frozen=True)
class ScanEntry:
    """One process (or thread) of a :class:`Scan`; ids as the scanned namespace numbers them
    (0 where the parent, group or session is outside it)."""

    pid: int
    tid: int
    ppid: int
    pgid: int
    sid: int
    flags: int  #: PIDTUPLE_ENTRY_* bits
    ns_id: int  #: nsfs inode number of the process's own PID namespace
    tuple: Tuple  #: the TID tuple (the TGID tuple for a leader)
    pgid_tuple: Optional[Tuple]
    sid_tuple: Optional[Tuple]
    #: the command name as /proc/PID/comm gives it (without its newline; undecodable bytes as
    #: surrogates, os.fsdecode()), or None where the scan's source does not give it
    comm: Optional[str] = None

    @property
    def is_ns_init(self) -> bool:
        return bool(self.flags & _lib.ENTRY_NS_INIT)

    @property
    def is_thread(self) -> bool:
        return bool(self.flags & _lib.ENTRY_THREAD)

    @property
    def is_kthread(self) -> Optional[bool]:
        """Whether it is a kernel thread; None when the scan's source does not tell."""
        if not self.flags & _lib.ENTRY_KTHREAD_KNOWN:
            return None
        return bool(self.flags & _lib.ENTRY_KTHREAD)


class Scan:
    """Every process (with ``threads=True`` every thread) of a PID namespace and those below
    it, read lazily: iterate for :class:`ScanEntry` objects. The caller's namespace unless
    *ns_fd* names one below it (tuples then start at that level); ``uring`` batches the reads
    with io_uring where the library has it. Close it, or use it as a context manager."""

    _ptr: Optional[int]

    def __init__(self, *, threads: bool = False, ns_fd: Optional[FdLike] = None,
                 uring: bool = False) -> None:
        _lib.need("pidtuple_scan_new")
        self._ptr = None
        o = _lib.ScanOpts()
        if threads:
            o.flags |= _lib.SCAN_THREADS
        if uring:
            o.flags |= _lib.SCAN_URING
        if ns_fd is not None:
            o.flags |= _lib.SCAN_NS_FD
            o.ns_fd = _fd_of(ns_fd)
        ptr = ctypes.c_void_p()
        r = _c.pidtuple_scan_new(ctypes.byref(o), ctypes.byref(ptr))
        if r < 0:
            raise _error(r, what="scan")
        self._ptr = ptr.value

    def close(self, _free: Optional[Callable[[int], None]] =
              getattr(_c, "pidtuple_scan_free", None)) -> None:
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr is not None and _free is not None:
            _free(ptr)

    __del__ = close

    def __enter__(self) -> Scan:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __iter__(self) -> Iterator[ScanEntry]:
        return self

    def __next__(self) -> ScanEntry:
        if self._ptr is None:
            raise StopIteration
        e = _lib.ScanEntry()
        r = _c.pidtuple_scan_next(self._ptr, ctypes.byref(e))
        if r < 0:
            raise _error(r, what="scan")
        if r == 0:
            self.close()
            raise StopIteration
        # The entry's tuples belong to the scan until the next call: copy them.
        t = _dup_tuple(e.tuple, "scan")
        assert t is not None
        return ScanEntry(pid=e.pid, tid=e.tid, ppid=e.ppid, pgid=e.pgid, sid=e.sid,
                         flags=e.flags, ns_id=e.ns_id, tuple=t,
                         pgid_tuple=_dup_tuple(e.pgid_tuple, "scan"),
                         sid_tuple=_dup_tuple(e.sid_tuple, "scan"),
                         comm=None if e.comm is None else os.fsdecode(e.comm))


def scan(*, threads: bool = False, ns_fd: Optional[FdLike] = None,
         uring: bool = False) -> Scan:
    """A :class:`Scan` (keyword options as there)."""
    return Scan(threads=threads, ns_fd=ns_fd, uring=uring)


# ------------------------------------------------------------------------------------------
# Checking and the namespace context

def check(tuple: Union[TupleLike, Tree], *, newpid: bool = False, newuser: bool = False,
          clone_flags: int = 0, exit_signal: Optional[int] = None,
          cgroup_fd: Optional[FdLike] = None, precheck: bool = False, fallback: bool = True,
          lock: bool = False, fallback_retries: int = 0, shell_job: bool = False,
          ns: Optional[FdLike] = None) -> int:
    """Checks *tuple*, or a whole :class:`Tree`, against every kernel rule in the caller's
    real context, creating nothing.

    The keyword options are those the fork would get (see :func:`spawn`; a tree takes
    *exit_signal*, *cgroup_fd*, *lock* and *shell_job* (:meth:`Tree.restore`; a single
    tuple ignores it), and refuses namespace flags: its namespaces are per node). Returns 0
    when every level was checked, or the positive number of outer levels the caller cannot
    see (left to the kernel). Raises :class:`PidtupleError` naming
    the rule and the level (and for a tree the node) otherwise.
    """
    diag = _lib.Diag()
    o = _fork_opts(None, newpid=newpid, newuser=newuser, clone_flags=clone_flags,
                   exit_signal=exit_signal, cgroup_fd=cgroup_fd, precheck=precheck,
                   fallback=fallback, lock=lock, fallback_retries=fallback_retries,
                   ns=ns)
    if shell_job:
        o.flags |= _lib.FORK_SHELL_JOB
    if isinstance(tuple, Tree):
        r = _c.pidtuple_tree_check(tuple._handle(), ctypes.byref(o), ctypes.byref(diag))
    else:
        t = _as_tuple(tuple)
        r = _c.pidtuple_check(t._handle(), ctypes.byref(o), ctypes.byref(diag))
    if r < 0:
        raise _error(r, diag)
    return int(r)


#: The stacks of held threads: in use while the process lives, never freed.
_held_stacks: List[Any] = []


def hold_thread(tid: TupleLike, *, precheck: bool = False) -> int:
    """Creates a thread of this process with exactly the TIDs *tid* (innermost in this
    process's namespace, as :func:`spawn` takes a tuple) that runs no code of anyone's: it
    sleeps (``pidtuple_thread_park()``) holding its TIDs until the process executes a program
    or ends; nothing can end it alone. A restore tool reserves a thread's numbers with it.

    Python code cannot run on a thread ``pidtuple_thread_create()`` makes (README:
    "Threads"), so this is the binding's form of it. The thread is born with every signal
    blocked, so no handler ever runs on its small stack. *precheck* runs the validator first.
    Returns the TID in this namespace; raises :class:`PidtupleError` naming the rule and the
    level (a taken TID: FileExistsError).
    """
    t = _as_tuple(tid)
    park = ctypes.cast(_c.pidtuple_thread_park, ctypes.c_void_p).value
    stack = mmap.mmap(-1, _lib.THREAD_STACK_MIN)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(stack))
    diag = _lib.Diag()
    o = _lib.ThreadOpts()
    o.flags = _lib.THREAD_CHECK if precheck else 0
    o.diag = ctypes.pointer(diag)
    out = _lib.pid_t(0)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        r = _c.pidtuple_thread_create(t._handle(), park, None, addr, _lib.THREAD_STACK_MIN,
                                      ctypes.byref(o), ctypes.byref(out))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    if r < 0:
        raise _error(r, diag)
    _held_stacks.append(stack)
    return int(out.value)


@dataclasses.dataclass(frozen=True)
class LevelInfo:
    """One level of a :class:`NamespaceContext`, as the library sees it."""

    inner_index: int  #: 0 is the namespace the child is born in
    flags: LevelFlag
    pid_max: int  #: PIDs at this level must be below this
    abs_level: Optional[int]  #: depth below the host namespace; None when unknown
    ns_id: int  #: nsfs inode number; 0 for a namespace the fork creates

    @property
    def is_new(self) -> bool:
        return LevelFlag.NEW in self.flags

    @property
    def is_caller(self) -> bool:
        return LevelFlag.CALLER in self.flags

    @property
    def has_init(self) -> bool:
        return LevelFlag.HAS_INIT in self.flags

    @property
    def init_dead(self) -> bool:
        return LevelFlag.INIT_DEAD in self.flags

    @property
    def can_pin(self) -> bool:
        return LevelFlag.CAN_PIN in self.flags


class NamespaceContext:
    """The levels the next fork from this thread can pin (pidtuple_nsctx_*).

    ``len(ctx)`` levels, ``ctx[i]`` describes inner index *i* (0 = the child's namespace, the
    last one the caller's), ``ctx.check(t)`` validates many tuples cheaply. The keyword
    options are the fork's (see :func:`spawn`; ``newpid`` adds the namespace the fork would
    create).
    """

    _ptr: Optional[int]

    def __init__(self, *, newpid: bool = False, newuser: bool = False, clone_flags: int = 0,
                 exit_signal: Optional[int] = None, cgroup_fd: Optional[FdLike] = None,
                 precheck: bool = False, fallback: bool = True, lock: bool = False,
                 fallback_retries: int = 0, ns: Optional[FdLike] = None) -> None:
        self._ptr = None
        o = _fork_opts(None, newpid=newpid, newuser=newuser, clone_flags=clone_flags,
                       exit_signal=exit_signal, cgroup_fd=cgroup_fd, precheck=precheck,
                       fallback=fallback, lock=lock, fallback_retries=fallback_retries,
                       ns=ns)
        ptr = ctypes.c_void_p()
        r = _c.pidtuple_nsctx_new(ctypes.byref(o), ctypes.byref(ptr))
        if r < 0:
            raise _error(r, what="namespace context")
        self._ptr = ptr.value

    def _handle(self) -> int:
        if self._ptr is None:
            raise ValueError("operation on a closed pidtuple.NamespaceContext")
        return self._ptr

    def close(self, _free: Callable[[int], None] = _c.pidtuple_nsctx_free) -> None:
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr is not None:
            _free(ptr)

    __del__ = close

    def __enter__(self) -> NamespaceContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __len__(self) -> int:
        return int(_c.pidtuple_nsctx_levels(self._handle()))

    @property
    def levels(self) -> int:
        """How many levels the caller can see and pin."""
        return len(self)

    def __getitem__(self, index: int) -> LevelInfo:
        n = len(self)
        i = operator.index(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"inner index {index} out of range for {n} levels")
        info = _lib.LevelInfo()
        r = _c.pidtuple_nsctx_level(self._handle(), i, ctypes.byref(info))
        if r < 0:
            raise _error(r, what="namespace level")
        return LevelInfo(inner_index=i, flags=LevelFlag(info.flags), pid_max=info.pid_max,
                         abs_level=None if info.abs_level == -1 else info.abs_level,
                         ns_id=info.ns_id)

    def __iter__(self) -> Iterator[LevelInfo]:
        return (self[i] for i in range(len(self)))

    def check(self, tuple: TupleLike) -> int:
        """As :func:`check`, with this context's options and captured levels."""
        t = _as_tuple(tuple)
        diag = _lib.Diag()
        r = _c.pidtuple_check_in(self._handle(), t._handle(), ctypes.byref(diag))
        if r < 0:
            raise _error(r, diag)
        return int(r)

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<pidtuple.NamespaceContext (closed)>"
        return f"<pidtuple.NamespaceContext levels={len(self)}>"


# ------------------------------------------------------------------------------------------
# Features

FeatureLike = Union[Feature, int, str]


def _feature_bit(feature: FeatureLike) -> int:
    if isinstance(feature, str):
        for bit in range(64):
            if _c.pidtuple_feature_name(1 << bit).decode() == feature.lower():
                return 1 << bit
        raise ValueError(f"unknown feature {feature!r}")
    return int(feature)


def feature_name(feature: FeatureLike) -> str:
    """The library's name of a feature bit, e.g. "set_tid" ("unknown" if it has none)."""
    return str(_c.pidtuple_feature_name(_feature_bit(feature)).decode())


def feature_reason(feature: FeatureLike) -> str:
    """One line on why a feature (a :class:`Feature` or its name) is absent; "present"
    when it is there."""
    return str(_c.pidtuple_feature_reason(_feature_bit(feature)).decode())


def feature_error(feature: FeatureLike) -> int:
    """The positive errno the probe of a feature (a :class:`Feature` or its name) met; 0 when
    the feature is present."""
    r = int(_c.pidtuple_feature_error(_feature_bit(feature)))
    if r == -_errno.EINVAL and feature_name(feature) == "unknown":
        raise ValueError(f"unknown feature {feature!r}")
    return -r


class Features(frozenset):  # type: ignore[type-arg]  # frozenset[str] is not subclassable on 3.8
    """The names of the kernel features available, as the library names them (e.g.
    ``"set_tid"``); ``mask`` is the raw PIDTUPLE_FEATURE_* mask and ``flags`` the bits this
    binding knows as a :class:`Feature`."""

    mask: int

    def __new__(cls, mask: int) -> Features:
        names = (_c.pidtuple_feature_name(1 << b).decode() for b in range(64) if mask >> b & 1)
        self = super().__new__(cls, names)
        self.mask = mask
        return self

    @property
    def flags(self) -> Feature:
        known = 0
        for f in Feature:
            known |= f
        return Feature(self.mask & known)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Features, (self.mask,))

    def __repr__(self) -> str:
        return f"pidtuple.Features({sorted(self)}, mask={self.mask:#x})"


def features() -> Features:
    """What this kernel and sandbox allow (pidtuple_features())."""
    return Features(int(_c.pidtuple_features()))


def get_next_pid() -> int:
    """Where the caller's PID namespace looks for its next automatic PID (ns_last_pid + 1)."""
    r = int(_c.pidtuple_get_next_pid())
    if r < 0:
        raise _error(r, what="get_next_pid")
    return r


def set_next_pid(next_pid: int) -> int:
    """Moves the caller's namespace's allocator so the next automatic PID is the first free
    number from *next_pid* on, under the ns_last_pid lock; returns the value read back.
    Only forks without set_tid are affected. Needs privilege over the namespace."""
    diag = _lib.Diag()
    o = _fork_opts(diag)
    r = int(_c.pidtuple_set_next_pid(int(next_pid), ctypes.byref(o)))
    if r < 0:
        raise _error(r, diag, what="set_next_pid")
    return r


# ------------------------------------------------------------------------------------------
# Processes

def spawn(tuple: TupleLike, argv: Sequence[StrOrBytesPath], env: Optional[Env] = None, *,
          executable: Optional[StrOrBytesPath] = None, newpid: bool = False,
          newuser: bool = False, clone_flags: int = 0, exit_signal: Optional[int] = None,
          cgroup_fd: Optional[FdLike] = None, precheck: bool = False, fallback: bool = True,
          lock: bool = False, fallback_retries: int = 0,
          ns: Optional[FdLike] = None) -> Process:
    """Creates a child with exactly the PIDs of *tuple* and executes *argv* in it.

    *tuple* is a :class:`Tuple` or its text form. The program is *executable*, else
    ``argv[0]``, searched in PATH (the PATH of *env* when given) when it has no slash. *env*
    is a mapping, or None for the caller's environment. Keyword options:

    ``newpid``: create a new PID namespace (CLONE_NEWPID); the innermost PID must be 1.
    ``newuser``: create a new user namespace (CLONE_NEWUSER).
    ``clone_flags``: other CLONE_NEW* flags (``pidtuple.CLONE_NEWNS``, ...), or-ed in.
    ``exit_signal``: the signal the parent gets when the child ends (default SIGCHLD).
    ``cgroup_fd``: a cgroup2 directory (fd or file object) to start the child in.
    ``precheck``: run the whole validator before forking (slower, exact reason).
    ``fallback``: False forbids the ns_last_pid fallback where set_tid is missing.
    ``lock``: hold the ns_last_pid lock around the set_tid fork too.
    ``fallback_retries``: how often the fallback may replace a child that got another PID.
    ``ns``: create the child in another PID namespace, one at or below the caller's (a
    running container's): a namespace file (``open("/proc/PID/ns/pid")``), a pidfd, or a
    :class:`Process` living there. The caller enters it for this one fork and comes back,
    taking no PID inside; *tuple* then pins levels from that namespace outward.

    Returns a :class:`Process`. Raises :class:`PidtupleError` with the rule
    that failed, and rule "exec" with the execve() errno when the program could not run
    (the child is reaped then).
    """
    t = _as_tuple(tuple)
    args = _args_of(argv, "spawn")
    envp = _envp_of(env)
    path = _resolve(executable if executable is not None else args[0], env, "spawn")
    diag = _lib.Diag()
    o = _fork_opts(diag, newpid=newpid, newuser=newuser, clone_flags=clone_flags,
                   exit_signal=exit_signal, cgroup_fd=cgroup_fd, precheck=precheck,
                   fallback=fallback, lock=lock, fallback_retries=fallback_retries,
                   ns=ns)
    pid = _lib.pid_t(0)
    pidfd = ctypes.c_int(-1)
    r = _c.pidtuple_spawn(t._handle(), path, _cstrings(args), envp, ctypes.byref(o),
                          ctypes.byref(pid), ctypes.byref(pidfd))
    if r < 0:
        raise _error(r, diag)
    return Process(pid.value, pidfd.value if pidfd.value >= 0 else None)


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading
        return threading.active_count()


def _pyapi() -> Any:
    api = ctypes.pythonapi  # a PyDLL: calls keep the GIL
    for name in ("PyOS_BeforeFork", "PyOS_AfterFork_Parent", "PyOS_AfterFork_Child"):
        fn = getattr(api, name)
        fn.restype, fn.argtypes = None, []
    return api


def fork(tuple: TupleLike, *, newpid: bool = False, newuser: bool = False,
         clone_flags: int = 0, exit_signal: Optional[int] = None,
         cgroup_fd: Optional[FdLike] = None, precheck: bool = False, fallback: bool = True,
         lock: bool = False, fallback_retries: int = 0,
          ns: Optional[FdLike] = None) -> Optional[Process]:
    """Forks a child with exactly the PIDs of *tuple*: returns a :class:`Process` in the
    parent and None in the child. Options as in :func:`spawn`.

    WARNING: the child comes from a raw clone3(). Python's own fork bookkeeping runs (the
    os.register_at_fork() hooks and the interpreter's locks, as with os.fork()), but the C
    library's fork handlers do not (pthread_atfork, the malloc lock reset). That is safe only
    in a single-threaded process, so fork() raises RuntimeError when the process has more
    than one thread. Prefer :func:`spawn`; in the child, end with os._exit() or os.exec*().
    """
    t = _as_tuple(tuple)
    if _threads() > 1:
        raise RuntimeError("pidtuple.fork() refuses to fork a multithreaded process "
                           "(the C library's fork handlers would not run); use spawn()")
    api = _pyapi()
    diag = _lib.Diag()
    o = _fork_opts(diag, newpid=newpid, newuser=newuser, clone_flags=clone_flags,
                   exit_signal=exit_signal, cgroup_fd=cgroup_fd, precheck=precheck,
                   fallback=fallback, lock=lock, fallback_retries=fallback_retries,
                   ns=ns)
    pidfd = ctypes.c_int(-1)
    args = (t._handle(), ctypes.byref(o), ctypes.byref(pidfd))
    call = _lib.lib_gil.pidtuple_fork  # keeps the GIL: the child returns holding it
    api.PyOS_BeforeFork()
    pid = int(call(*args))
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return None
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise _error(pid, diag)
    return Process(pid, pidfd.value if pidfd.value >= 0 else None)


# The public classes are pidtuple.X wherever they are defined (repr, pickles, docs).
for _cls in (PidtupleError, Rule, Tuple, Process, Tree, Node, NodeKind, Restore,
             JsonUnavailableError):
    _cls.__module__ = __name__
del _cls
