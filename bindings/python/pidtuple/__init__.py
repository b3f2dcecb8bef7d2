# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python binding of libpidtuple: create processes with exactly the PIDs you ask for, at every
level of nested PID namespaces.

Pure ctypes; it needs libpidtuple.so.1 (or the path in $PIDTUPLE_LIBRARY) and no compiler.

Orders, as in the C library: in text a tuple is written outermost first, as /proc/PID/status
prints ``NSpid`` (``"4242/17/1"``); indexing counts from the innermost level, as the kernel's
``set_tid`` array does (``t[0]`` is the PID the process sees from inside, here 1).

    >>> t = pidtuple.Tuple("4242/17/1")
    >>> t[0], t[-1], t.outer()
    (1, 4242, [4242, 17, 1])
    >>> p = pidtuple.spawn("17/1", ["/bin/true"], newpid=True)  # needs privilege
    >>> p.pid, p.read_tuple(), p.wait()
    (17, pidtuple.Tuple('17/1'), 0)

Errors raise :class:`PidTupleError`, an OSError that also names the broken rule and level.
"""

import ctypes
import dataclasses
import enum
import errno as _errno
import operator
import os

from . import _lib
from ._lib import lib as _c

__all__ = [
    "Feature", "Features", "LevelFlag", "LevelInfo", "MAX_LEVELS", "NamespaceContext",
    "PidTupleError", "Process", "Rule", "Tuple", "check", "feature_error", "feature_name",
    "feature_reason", "features", "fork", "get_next_pid", "of_pid", "of_pidfd",
    "read", "read_pidfd", "Scan", "ScanEntry", "scan", "set_next_pid", "spawn", "strerror",
    "version",
]

MAX_LEVELS = _lib.MAX_LEVELS
#: Where the C library was loaded from.
LIBRARY_PATH = _lib.PATH

CLONE_NEWTIME = _lib.CLONE_NEWTIME
CLONE_NEWNS = _lib.CLONE_NEWNS
CLONE_NEWCGROUP = _lib.CLONE_NEWCGROUP
CLONE_NEWUTS = _lib.CLONE_NEWUTS
CLONE_NEWIPC = _lib.CLONE_NEWIPC
CLONE_NEWUSER = _lib.CLONE_NEWUSER
CLONE_NEWPID = _lib.CLONE_NEWPID
CLONE_NEWNET = _lib.CLONE_NEWNET

Rule = enum.IntEnum("Rule", [(n, i) for i, n in enumerate(_lib.RULES)], module=__name__)
Rule.__doc__ = "enum pidtuple_rule: which rule a tuple or a call broke (stable values)."

Feature = enum.IntFlag(
    "Feature", [(n, 1 << i) for i, n in enumerate(_lib.FEATURES)], module=__name__)
Feature.__doc__ = "PIDTUPLE_FEATURE_* bits of pidtuple_features()."

LevelFlag = enum.IntFlag(
    "LevelFlag", [(n, 1 << i) for i, n in enumerate(_lib.LEVEL_FLAGS)], module=__name__)
LevelFlag.__doc__ = "PIDTUPLE_LEVEL_* bits of a namespace level."


def version():
    """The running C library's version, "MAJOR.MINOR.PATCH"."""
    return _c.pidtuple_version_string().decode()


def strerror(err):
    """The library's text for an errno value (either sign)."""
    return _c.pidtuple_strerror(int(err)).decode()


def _rule_name(rule):
    return _c.pidtuple_rule_name(rule).decode()


# ------------------------------------------------------------------------------------------
# Errors

class PidTupleError(OSError):
    """A libpidtuple call failed.

    ``errno`` is the positive errno; ``rule`` names the broken rule ("pid-taken", "syntax",
    ...; "none" when the call gives no diagnosis) and ``rule_id`` is its :class:`Rule`.
    ``inner_index`` (0 = innermost) and ``nspid_pos`` (position in the text / NSpid order)
    locate the failing level, ``pid`` is the PID there, ``text_pos`` the byte offset of a
    parse error, ``kernel_errno`` the positive errno clone3() returned; each is None when it
    does not apply.
    """

    def __init__(self, err, message, *, rule=0, inner_index=None, nspid_pos=None, pid=None,
                 levels=None, kernel_errno=None, text_pos=None, notices=0):
        super().__init__(err, message)
        self.rule_id = Rule(rule) if rule < len(Rule) else rule
        self.rule = _rule_name(rule)
        self.inner_index = inner_index
        self.nspid_pos = nspid_pos
        self.pid = pid
        self.levels = levels
        self.kernel_errno = kernel_errno
        self.text_pos = text_pos
        self.notices = notices

    def _attrs(self):
        return {k: getattr(self, k) for k in ("inner_index", "nspid_pos", "pid", "levels",
                                              "kernel_errno", "text_pos", "notices")}

    def __reduce__(self):
        return (_unpickle_error, (self.errno, self.strerror, int(self.rule_id), self._attrs()))

    def __str__(self):
        return f"[Errno {self.errno}] {self.strerror} (rule {self.rule})"


def _unpickle_error(err, message, rule, attrs):
    return PidTupleError(err, message, rule=rule, **attrs)


def _none_if(value, absent):
    return None if value == absent else value


def _error(ret, diag=None, what=None):
    """The exception for a negative return @ret, with @diag's details when given."""
    err = -ret
    if diag is None or diag.err == 0:
        text = strerror(err)
        return PidTupleError(err, f"{what}: {text}" if what else text)
    message = diag.message.decode(errors="replace") or strerror(err)
    return PidTupleError(
        err, message, rule=diag.rule,
        inner_index=_none_if(diag.inner_index, -1),
        nspid_pos=_none_if(diag.nspid_pos, -1),
        pid=_none_if(diag.pid, 0),
        levels=_none_if(diag.levels, 0),
        kernel_errno=_none_if(-diag.kernel_err, 0),
        text_pos=_none_if(diag.text_pos, -1),
        notices=diag.notices)


# ------------------------------------------------------------------------------------------
# The tuple

class Tuple:
    """An immutable PID tuple: one PID per namespace level.

    ``Tuple("4242/17/1")`` parses the text form (outermost first; an ``NSpid:`` line is
    accepted too). ``t[i]`` is the PID at inner index *i*: ``t[0]`` is the innermost level,
    ``t[-1]`` the outermost, as in the kernel's ``set_tid`` array; iteration follows the same
    order. ``str(t)`` gives the text form back. Tuples compare and hash by value.
    """

    __slots__ = ("_ptr",)

    def __init__(self, text):
        ptr = ctypes.c_void_p()
        diag = _lib.Diag()
        if isinstance(text, str):
            text = text.encode()
        elif not isinstance(text, (bytes, bytearray)):
            raise TypeError(
                f"Tuple() takes the text form, not {type(text).__name__}; "
                "use Tuple.from_inner() or Tuple.from_outer() for a sequence")
        if b"\0" in text:
            raise PidTupleError(_errno.EINVAL, "tuple text contains a NUL byte", rule=1,
                                text_pos=text.index(b"\0"))
        r = _c.pidtuple_parse(bytes(text), ctypes.byref(ptr), ctypes.byref(diag))
        if r < 0:
            raise _error(r, diag)
        object.__setattr__(self, "_ptr", ptr.value)

    @classmethod
    def parse(cls, text):
        """Parses the text form, outermost first: ``Tuple.parse("4242/17/1")``."""
        return cls(text)

    @classmethod
    def _adopt(cls, ptr):
        self = cls.__new__(cls)
        object.__setattr__(self, "_ptr", ptr)
        return self

    @classmethod
    def _from(cls, pids, fn, what):
        pids = [p.__index__() for p in pids]
        # ctypes would wrap values beyond a C int silently: refuse them here.
        if not 1 <= len(pids) <= MAX_LEVELS:
            raise PidTupleError(_errno.EINVAL, f"{what}: a tuple has 1..{MAX_LEVELS} levels, "
                                f"not {len(pids)}", rule=Rule.LEVEL_COUNT)
        for i, p in enumerate(pids):
            if not 1 <= p <= 0x7FFFFFFF:
                raise PidTupleError(_errno.EINVAL, f"{what}: PID {p} at position {i} is not "
                                    "in 1..2147483647", rule=Rule.PID_RANGE, pid=p)
        arr = (_lib.pid_t * len(pids))(*pids)
        ptr = ctypes.c_void_p()
        r = fn(arr, len(pids), ctypes.byref(ptr))
        if r < 0:
            raise _error(r, what=what)
        return cls._adopt(ptr.value)

    @classmethod
    def from_inner(cls, pids):
        """Builds a tuple from PIDs innermost first (``set_tid`` order)."""
        return cls._from(pids, _c.pidtuple_from_inner, "from_inner")

    @classmethod
    def from_outer(cls, pids):
        """Builds a tuple from PIDs outermost first (``NSpid`` and text order)."""
        return cls._from(pids, _c.pidtuple_from_outer, "from_outer")

    def _handle(self):
        if self._ptr is None:
            raise ValueError("operation on a closed pidtuple.Tuple")
        return self._ptr

    def __setattr__(self, name, value):
        raise AttributeError("pidtuple.Tuple is immutable")

    def close(self, _free=_c.pidtuple_free):
        """Frees the C object now rather than when the tuple is collected."""
        ptr = getattr(self, "_ptr", None)
        if ptr is not None:
            object.__setattr__(self, "_ptr", None)
            _free(ptr)

    __del__ = close

    def __len__(self):
        return _c.pidtuple_levels(self._handle())

    def _copy_out(self, fn):
        arr = (_lib.pid_t * MAX_LEVELS)()
        n = fn(self._handle(), arr, MAX_LEVELS)
        if n < 0:
            raise _error(n)
        return list(arr[:n])

    def inner(self):
        """The PIDs innermost first, as a list (``set_tid`` order)."""
        return self._copy_out(_c.pidtuple_to_inner)

    def outer(self):
        """The PIDs outermost first, as a list (``NSpid`` and text order)."""
        return self._copy_out(_c.pidtuple_to_outer)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.inner()[index]
        n = len(self)
        i = operator.index(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"inner index {index} out of range for {n} levels")
        return _c.pidtuple_get(self._handle(), i)

    def __iter__(self):
        return iter(self.inner())

    def __str__(self):
        h = self._handle()
        n = _c.pidtuple_format(h, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        _c.pidtuple_format(h, buf, n + 1)
        return buf.value.decode()

    def __repr__(self):
        if self._ptr is None:
            return "<pidtuple.Tuple (closed)>"
        return f"pidtuple.Tuple({str(self)!r})"

    def __eq__(self, other):
        if not isinstance(other, Tuple):
            return NotImplemented
        return _c.pidtuple_equal(self._handle(), other._handle()) == 1

    def __hash__(self):
        return hash(("pidtuple.Tuple", *self.inner()))

    def __reduce__(self):
        return (Tuple, (str(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _as_tuple(t):
    if isinstance(t, Tuple):
        return t
    if isinstance(t, (str, bytes, bytearray)):
        return Tuple(t)
    raise TypeError(f"expected a pidtuple.Tuple or its text form, not {type(t).__name__} "
                    "(for a sequence, say which order: Tuple.from_inner/from_outer)")


def _read(fn, arg, what):
    ptr = ctypes.c_void_p()
    r = fn(arg, ctypes.byref(ptr))
    if r < 0:
        raise _error(r, what=what)
    return Tuple._adopt(ptr.value)


def of_pid(pid):
    """The tuple of process *pid*, from the caller's PID namespace down to the process's own."""
    return _read(_c.pidtuple_of_pid, int(pid), f"of_pid({pid})")


def of_pidfd(pidfd):
    """The tuple of the process a pidfd (an int or an object with fileno()) refers to."""
    fd = pidfd.fileno() if hasattr(pidfd, "fileno") else int(pidfd)
    return _read(_c.pidtuple_of_pidfd, fd, f"of_pidfd({fd})")


def _read_opts(source, ns_fd):
    o = _lib.ReadOpts()
    try:
        o.source = _lib.SOURCES.index(source)
    except ValueError:
        raise ValueError(f"source must be one of {_lib.SOURCES}, not {source!r}") from None
    if ns_fd is not None:
        o.flags |= _lib.READ_NS_FD
        o.ns_fd = ns_fd.fileno() if hasattr(ns_fd, "fileno") else int(ns_fd)
    return o


def _kind(kind):
    try:
        return _lib.KINDS.index(kind)
    except ValueError:
        raise ValueError(f"kind must be one of {_lib.KINDS}, not {kind!r}") from None


def read(id, kind="tgid", *, source="auto", ns_fd=None):
    """One of a thread's or process's ids at every level, as a :class:`Tuple`.

    *kind* is "tid", "tgid" (the default), "pgid" or "sid"; a "pgid"/"sid" tuple has 0 at the
    inner levels where the group or session is not visible. *source* picks how it is read
    ("auto", "status", "fdinfo", "nsfs"); *ns_fd* (a PID namespace fd, the caller's or below)
    makes the tuple start at that level instead of the caller's.
    """
    _lib.need("pidtuple_read")
    o = _read_opts(source, ns_fd)
    return _read(lambda i, p: _c.pidtuple_read(i, _kind(kind), ctypes.byref(o), p), int(id),
                 f"read({id}, {kind!r})")


def read_pidfd(pidfd, kind="tgid", *, source="auto", ns_fd=None):
    """As :func:`read`, for the process or thread a pidfd refers to."""
    _lib.need("pidtuple_read_pidfd")
    o = _read_opts(source, ns_fd)
    fd = pidfd.fileno() if hasattr(pidfd, "fileno") else int(pidfd)
    return _read(lambda f, p: _c.pidtuple_read_pidfd(f, _kind(kind), ctypes.byref(o), p), fd,
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
    pgid_tuple: "Tuple | None"
    sid_tuple: "Tuple | None"

    is_ns_init = property(lambda self: bool(self.flags & _lib.ENTRY_NS_INIT))
    is_thread = property(lambda self: bool(self.flags & _lib.ENTRY_THREAD))


def _dup(ptr):
    if not ptr:
        return None
    out = ctypes.c_void_p()
    r = _c.pidtuple_dup(ptr, ctypes.byref(out))
    if r < 0:
        raise _error(r, what="scan")
    return Tuple._adopt(out.value)


class Scan:
    """Every process (with ``threads=True`` every thread) of a PID namespace and those below
    it, read lazily: iterate for :class:`ScanEntry` objects. The caller's namespace unless
    *ns_fd* names one below it (tuples then start at that level); ``uring`` batches the reads
    with io_uring where the library has it. Close it, or use it as a context manager."""

    def __init__(self, *, threads=False, ns_fd=None, uring=False):
        _lib.need("pidtuple_scan_new")
        self._ptr = None
        o = _lib.ScanOpts()
        if threads:
            o.flags |= _lib.SCAN_THREADS
        if uring:
            o.flags |= _lib.SCAN_URING
        if ns_fd is not None:
            o.flags |= _lib.SCAN_NS_FD
            o.ns_fd = ns_fd.fileno() if hasattr(ns_fd, "fileno") else int(ns_fd)
        ptr = ctypes.c_void_p()
        r = _c.pidtuple_scan_new(ctypes.byref(o), ctypes.byref(ptr))
        if r < 0:
            raise _error(r, what="scan")
        self._ptr = ptr.value

    def close(self, _free=getattr(_c, "pidtuple_scan_free", None)):
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr is not None:
            _free(ptr)

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        return self

    def __next__(self):
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
        return ScanEntry(pid=e.pid, tid=e.tid, ppid=e.ppid, pgid=e.pgid, sid=e.sid,
                         flags=e.flags, ns_id=e.ns_id, tuple=_dup(e.tuple),
                         pgid_tuple=_dup(e.pgid_tuple), sid_tuple=_dup(e.sid_tuple))


def scan(**options):
    """A :class:`Scan` (keyword options as there)."""
    return Scan(**options)


# ------------------------------------------------------------------------------------------
# Options, checking and the namespace context

def _fork_opts(diag, *, newpid=False, newuser=False, clone_flags=0, exit_signal=None,
               cgroup_fd=None, precheck=False, fallback=True, lock=False, fallback_retries=0):
    """struct pidtuple_fork_opts from the keyword options documented in spawn()."""
    o = _lib.ForkOpts()
    o.clone_flags = (int(clone_flags) | (CLONE_NEWPID if newpid else 0)
                     | (CLONE_NEWUSER if newuser else 0))
    if exit_signal is not None:
        o.flags |= _lib.FORK_EXIT_SIGNAL
        o.exit_signal = int(exit_signal)
    if cgroup_fd is not None:
        o.flags |= _lib.FORK_INTO_CGROUP
        o.cgroup_fd = cgroup_fd.fileno() if hasattr(cgroup_fd, "fileno") else int(cgroup_fd)
    if precheck:
        o.flags |= _lib.FORK_CHECK
    if not fallback:
        o.flags |= _lib.FORK_NO_FALLBACK
    if lock:
        o.flags |= _lib.FORK_LOCK
    o.fallback_retries = int(fallback_retries)
    if diag is not None:
        o.diag = ctypes.pointer(diag)
    return o


def check(tuple, **options):
    """Checks *tuple* against every kernel rule in the caller's real context, creating nothing.

    The keyword options are those the fork would get (see :func:`spawn`). Returns 0 when
    every level was checked, or the positive number of outer levels the caller cannot see
    (left to the kernel). Raises :class:`PidTupleError` naming the rule and the level otherwise.
    """
    t = _as_tuple(tuple)
    diag = _lib.Diag()
    o = _fork_opts(None, **options)
    r = _c.pidtuple_check(t._handle(), ctypes.byref(o), ctypes.byref(diag))
    if r < 0:
        raise _error(r, diag)
    return r


@dataclasses.dataclass(frozen=True)
class LevelInfo:
    """One level of a :class:`NamespaceContext`, as the library sees it."""

    inner_index: int  #: 0 is the namespace the child is born in
    flags: LevelFlag
    pid_max: int  #: PIDs at this level must be below this
    abs_level: "int | None"  #: depth below the host namespace; None when unknown
    ns_id: int  #: nsfs inode number; 0 for a namespace the fork creates

    is_new = property(lambda self: LevelFlag.NEW in self.flags)
    is_caller = property(lambda self: LevelFlag.CALLER in self.flags)
    has_init = property(lambda self: LevelFlag.HAS_INIT in self.flags)
    init_dead = property(lambda self: LevelFlag.INIT_DEAD in self.flags)
    can_pin = property(lambda self: LevelFlag.CAN_PIN in self.flags)


class NamespaceContext:
    """The levels the next fork from this thread can pin (pidtuple_nsctx_*).

    ``len(ctx)`` levels, ``ctx[i]`` describes inner index *i* (0 = the child's namespace, the
    last one the caller's), ``ctx.check(t)`` validates many tuples cheaply. The keyword
    options are the fork's (see :func:`spawn`; ``newpid`` adds the namespace the fork would
    create).
    """

    def __init__(self, **options):
        self._ptr = None
        o = _fork_opts(None, **options)
        ptr = ctypes.c_void_p()
        r = _c.pidtuple_nsctx_new(ctypes.byref(o), ctypes.byref(ptr))
        if r < 0:
            raise _error(r, what="namespace context")
        self._ptr = ptr.value

    def _handle(self):
        if self._ptr is None:
            raise ValueError("operation on a closed pidtuple.NamespaceContext")
        return self._ptr

    def close(self, _free=_c.pidtuple_nsctx_free):
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr is not None:
            _free(ptr)

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __len__(self):
        return _c.pidtuple_nsctx_levels(self._handle())

    @property
    def levels(self):
        """How many levels the caller can see and pin."""
        return len(self)

    def __getitem__(self, index):
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
                         abs_level=_none_if(info.abs_level, -1), ns_id=info.ns_id)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def check(self, tuple):
        """As :func:`check`, with this context's options and captured levels."""
        t = _as_tuple(tuple)
        diag = _lib.Diag()
        r = _c.pidtuple_check_in(self._handle(), t._handle(), ctypes.byref(diag))
        if r < 0:
            raise _error(r, diag)
        return r

    def __repr__(self):
        if self._ptr is None:
            return "<pidtuple.NamespaceContext (closed)>"
        return f"<pidtuple.NamespaceContext levels={len(self)}>"


# ------------------------------------------------------------------------------------------
# Features

def _feature_bit(feature):
    if isinstance(feature, str):
        for bit in range(64):
            if _c.pidtuple_feature_name(1 << bit).decode() == feature.lower():
                return 1 << bit
        raise ValueError(f"unknown feature {feature!r}")
    return int(feature)


def feature_name(feature):
    """The library's name of a feature bit, e.g. "set_tid" ("unknown" if it has none)."""
    return _c.pidtuple_feature_name(_feature_bit(feature)).decode()


def feature_reason(feature):
    """One line on why a feature (a :class:`Feature` or its name) is absent; "present"
    when it is there."""
    return _c.pidtuple_feature_reason(_feature_bit(feature)).decode()


def feature_error(feature):
    """The positive errno the probe of a feature (a :class:`Feature` or its name) met; 0 when
    the feature is present."""
    r = _c.pidtuple_feature_error(_feature_bit(feature))
    if r == -_errno.EINVAL and feature_name(feature) == "unknown":
        raise ValueError(f"unknown feature {feature!r}")
    return -r


class Features(frozenset):
    """The names of the kernel features available, as the library names them (e.g.
    ``"set_tid"``); ``mask`` is the raw PIDTUPLE_FEATURE_* mask and ``flags`` the bits this
    binding knows as a :class:`Feature`."""

    def __new__(cls, mask):
        names = (_c.pidtuple_feature_name(1 << b).decode() for b in range(64) if mask >> b & 1)
        self = super().__new__(cls, names)
        self.mask = mask
        return self

    @property
    def flags(self):
        return Feature(self.mask & sum(Feature))

    def __reduce__(self):
        return (Features, (self.mask,))

    def __repr__(self):
        return f"pidtuple.Features({sorted(self)}, mask={self.mask:#x})"


def features():
    """What this kernel and sandbox allow (pidtuple_features())."""
    return Features(_c.pidtuple_features())


def get_next_pid():
    """Where the caller's PID namespace looks for its next automatic PID (ns_last_pid + 1)."""
    r = _c.pidtuple_get_next_pid()
    if r < 0:
        raise _error(r, what="get_next_pid")
    return r


def set_next_pid(next_pid, **options):
    """Moves the caller's namespace's allocator so the next automatic PID is the first free
    number from *next_pid* on, under the ns_last_pid lock; returns the value read back.
    Only forks without set_tid are affected. Needs privilege over the namespace."""
    diag = _lib.Diag()
    o = _fork_opts(diag, **options)
    r = _c.pidtuple_set_next_pid(int(next_pid), ctypes.byref(o))
    if r < 0:
        raise _error(r, diag, what="set_next_pid")
    return r


# ------------------------------------------------------------------------------------------
# Processes

_WALL = 0x40000000  # __WALL: also children with an exit signal other than SIGCHLD


class Process:
    """A child created by :func:`spawn` or :func:`fork`.

    ``pid`` is its PID in the caller's namespace, ``pidfd`` an O_CLOEXEC pidfd for it (None
    once closed). ``wait()`` reaps it through the pidfd and returns the exit code, or minus
    the signal number that killed it (as subprocess does). As a context manager it waits
    for the child on exit, then closes the pidfd.
    """

    def __init__(self, pid, pidfd):
        self.pid = pid
        self.pidfd = pidfd
        self.returncode = None

    def fileno(self):
        """The pidfd, so that the object can be passed to select() or poll()."""
        if self.pidfd is None:
            raise ValueError("the pidfd is closed")
        return self.pidfd

    def read_tuple(self):
        """The child's tuple as it is now, read through the pidfd."""
        return of_pidfd(self.fileno())

    def _waitid(self, options):
        if self.returncode is not None:
            return self.returncode
        if self.pidfd is not None:
            info = os.waitid(os.P_PIDFD, self.pidfd, os.WEXITED | _WALL | options)
            if info is None:
                return None
            code = info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
        else:
            pid, status = os.waitpid(self.pid, _WALL | options)
            if pid == 0:
                return None
            code = os.waitstatus_to_exitcode(status)
        self.returncode = code
        return code

    def wait(self):
        """Waits for the child to end and reaps it; returns its exit code or -signal."""
        return self._waitid(0)

    def poll(self):
        """Like wait() without blocking: None while the child runs."""
        return self._waitid(os.WNOHANG)

    def send_signal(self, sig):
        """Sends *sig* through the pidfd (no PID-reuse race); nothing once reaped."""
        if self.returncode is not None:
            return
        import signal
        if self.pidfd is not None:
            signal.pidfd_send_signal(self.pidfd, sig)
        else:
            os.kill(self.pid, sig)

    def kill(self):
        import signal
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        import signal
        self.send_signal(signal.SIGTERM)

    def close(self):
        """Closes the pidfd. The child, if not waited for, stays the caller's to reap."""
        fd, self.pidfd = getattr(self, "pidfd", None), None
        if fd is not None:
            os.close(fd)

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.wait()
        finally:
            self.close()

    def __repr__(self):
        return (f"<pidtuple.Process pid={self.pid} pidfd={self.pidfd} "
                f"returncode={self.returncode}>")


def _resolve(executable, env):
    exe = os.fsencode(executable)
    if b"/" in exe:
        return exe
    for d in os.get_exec_path(env):
        cand = os.path.join(os.fsencode(d), exe)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise PidTupleError(_errno.ENOENT, f"spawn: {os.fsdecode(exe)} not found in PATH",
                        rule=Rule.EXEC)


def _cstrings(items):
    return (ctypes.c_char_p * (len(items) + 1))(*items, None)


def spawn(tuple, argv, env=None, *, executable=None, **options):
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

    Returns a :class:`Process`. Raises :class:`PidTupleError` with the rule
    that failed, and rule "exec" with the execve() errno when the program could not run
    (the child is reaped then).
    """
    t = _as_tuple(tuple)
    if isinstance(argv, (str, bytes)) or not argv:
        raise TypeError("argv must be a non-empty sequence of arguments")
    args = [os.fsencode(a) for a in argv]
    envp = None
    if env is not None:
        envp = _cstrings([os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()])
    path = _resolve(executable if executable is not None else argv[0], env)
    diag = _lib.Diag()
    o = _fork_opts(diag, **options)
    pid = _lib.pid_t(0)
    pidfd = ctypes.c_int(-1)
    r = _c.pidtuple_spawn(t._handle(), path, _cstrings(args), envp, ctypes.byref(o),
                          ctypes.byref(pid), ctypes.byref(pidfd))
    if r < 0:
        raise _error(r, diag)
    return Process(pid.value, pidfd.value if pidfd.value >= 0 else None)


def _threads():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading
        return threading.active_count()


def _pyapi():
    api = ctypes.pythonapi  # a PyDLL: calls keep the GIL
    for name in ("PyOS_BeforeFork", "PyOS_AfterFork_Parent", "PyOS_AfterFork_Child"):
        fn = getattr(api, name)
        fn.restype, fn.argtypes = None, []
    return api


def fork(tuple, **options):
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
    o = _fork_opts(diag, **options)
    pidfd = ctypes.c_int(-1)
    args = (t._handle(), ctypes.byref(o), ctypes.byref(pidfd))
    call = _lib.lib_gil.pidtuple_fork  # keeps the GIL: the child returns holding it
    api.PyOS_BeforeFork()
    pid = call(*args)
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return None
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise _error(pid, diag)
    return Process(pid, pidfd.value if pidfd.value >= 0 else None)
