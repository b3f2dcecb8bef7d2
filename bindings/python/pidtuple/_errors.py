# SPDX-License-Identifier: LGPL-2.1-or-later
"""The binding's exceptions: PidtupleError, an OSError that keeps the C library's diagnosis,
raised as a subclass that is also the standard library's class for its errno
(FileExistsError for EEXIST, ProcessLookupError for ESRCH, PermissionError for EPERM and
EACCES, ..., and ValueError for EINVAL).

Internal module; everything public is re-exported by the package.
"""

from __future__ import annotations

import enum
import errno as _errno
from typing import Any, Dict, Optional, Tuple, Type, Union

from . import _lib
from ._lib import lib as _c

__all__ = ["PidtupleError", "PidTupleError", "Rule", "error_class"]


class Rule(enum.IntEnum):
    """enum pidtuple_rule: which rule a tuple or a call broke (stable values; str() of an
    error gives the library's kebab-case name, see :attr:`PidtupleError.rule`)."""

    NONE = 0
    SYNTAX = 1
    LEVEL_COUNT = 2
    TOO_DEEP = 3
    PID_RANGE = 4
    NEWPID_ONE = 5
    NO_INIT = 6
    INIT_DEAD = 7
    PRIVILEGE = 8
    PID_TAKEN = 9
    FLAGS = 10
    NS_PRIVILEGE = 11
    NEWPID_UNSHARED = 12
    EXIT_SIGNAL = 13
    CGROUP = 14
    OPTIONS = 15
    UNSUPPORTED = 16
    UNVERIFIED = 17
    KERNEL = 18
    NS_DEPTH = 19
    EXEC = 20
    PID_MISMATCH = 21
    FALLBACK = 22
    TREE_SHAPE = 23
    TREE_DUPLICATE = 24
    TREE_GROUP = 25
    TREE_NODE = 26
    JOIN_NS = 27


def strerror(err: int) -> str:
    """The library's text for an errno value (either sign)."""
    return str(_c.pidtuple_strerror(int(err)).decode())


def rule_name(rule: int) -> str:
    """The library's kebab-case name of a rule number, e.g. "pid-taken"."""
    return str(_c.pidtuple_rule_name(int(rule)).decode())


class PidtupleError(OSError):
    """A libpidtuple call failed.

    An OSError: ``errno`` is the positive errno and ``strerror`` the library's message.
    Constructed with an errno that the standard library maps to a subclass of OSError, it
    is an instance of that class too, as ``OSError(errno, message)`` is: EEXIST gives a
    :class:`FileExistsError`, ESRCH a :class:`ProcessLookupError`, EPERM and EACCES a
    :class:`PermissionError`, ENOENT a :class:`FileNotFoundError`, and so on; EINVAL (a
    tuple, tree or option the library refuses) also gives a :class:`ValueError`. The class
    of each errno is created once (see :func:`error_class`).

    ``rule`` names the broken rule ("pid-taken", "syntax", ...; "none" when the call gives
    no diagnosis) and ``rule_id`` is its number as a :class:`Rule`. ``level`` (the same as
    ``inner_index``: 0 = innermost) and ``nspid_pos`` (position in the text / NSpid order)
    locate the failing level, ``node`` the failing node of a tree and ``thread`` the failing
    thread of that node (its index in :attr:`Node.threads`), ``pid`` is the PID (or TID) at
    the level, ``levels`` the tuple's level count, ``text_pos`` the byte offset of a parse
    error, ``kernel_errno`` the positive errno clone3() returned; each is None when it does
    not apply.
    """

    rule_id: Union[Rule, int]
    rule: str
    inner_index: Optional[int]
    nspid_pos: Optional[int]
    pid: Optional[int]
    levels: Optional[int]
    kernel_errno: Optional[int]
    text_pos: Optional[int]
    notices: int
    node: Optional[int]
    thread: Optional[int]

    def __new__(cls, err: int, message: str, **details: Any) -> PidtupleError:
        if cls is PidtupleError:
            cls = error_class(err)
        # OSError.__new__ takes (errno, strerror) only; the details go to __init__.
        return super().__new__(cls, err, message)  # type: ignore[call-arg]

    def __init__(self, err: int, message: str, *, rule: int = 0,
                 inner_index: Optional[int] = None, nspid_pos: Optional[int] = None,
                 pid: Optional[int] = None, levels: Optional[int] = None,
                 kernel_errno: Optional[int] = None, text_pos: Optional[int] = None,
                 notices: int = 0, node: Optional[int] = None,
                 thread: Optional[int] = None) -> None:
        super().__init__(err, message)
        self.rule_id = Rule(rule) if 0 <= rule < len(Rule) else rule
        self.rule = rule_name(rule)
        self.inner_index = inner_index
        self.nspid_pos = nspid_pos
        self.pid = pid
        self.levels = levels
        self.kernel_errno = kernel_errno
        self.text_pos = text_pos
        self.notices = notices
        self.node = node
        self.thread = thread

    @property
    def level(self) -> Optional[int]:
        """The failing level as an inner index (0 = innermost), as ``inner_index``."""
        return self.inner_index

    def _attrs(self) -> Dict[str, Any]:
        return {k: getattr(self, k) for k in ("inner_index", "nspid_pos", "pid", "levels",
                                              "kernel_errno", "text_pos", "notices", "node",
                                              "thread")}

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_unpickle_error, (self.errno, self.strerror, int(self.rule_id), self._attrs()))

    def __str__(self) -> str:
        where = f", node {self.node}" if self.node is not None else ""
        if self.node is not None and self.thread is not None:
            where += f" thread {self.thread}"
        return f"[Errno {self.errno}] {self.strerror} (rule {self.rule}{where})"


#: The old spelling of the class name, kept for existing code.
PidTupleError = PidtupleError

# errno -> the builtin class that PidtupleError adds, beyond what OSError(errno, ...) picks.
_EXTRA_BASES: Dict[int, Type[Exception]] = {_errno.EINVAL: ValueError}
_by_base: Dict[Type[Exception], Type[PidtupleError]] = {}
_by_errno: Dict[int, Type[PidtupleError]] = {}


def error_class(err: int) -> Type[PidtupleError]:
    """The class of a :class:`PidtupleError` for a positive errno: PidtupleError itself
    when the standard library has no subclass of OSError for it, else a subclass of both
    (cached: one class per builtin, the same for EPERM and EACCES)."""
    err = abs(int(err))
    cls = _by_errno.get(err)
    if cls is not None:
        return cls
    # The standard library's own mapping, as OSError(errno, message) applies it.
    base: Type[Exception] = type(OSError(err, ""))
    if base is OSError:
        base = _EXTRA_BASES.get(err, OSError)
    if base is OSError:
        cls = PidtupleError
    else:
        cls = _by_base.get(base)
        if cls is None:
            name = "Pidtuple" + base.__name__
            cls = type(name, (PidtupleError, base),
                       {"__module__": "pidtuple", "__qualname__": name,
                        "__doc__": f"A PidtupleError that is also a {base.__name__}."})
            _by_base[base] = cls
    _by_errno[err] = cls
    return cls


def _unpickle_error(err: int, message: str, rule: int,
                    attrs: Dict[str, Any]) -> PidtupleError:
    return PidtupleError(err, message, rule=rule, **attrs)


def _none_if(value: int, absent: int) -> Optional[int]:
    return None if value == absent else int(value)


def error(ret: int, diag: Optional[_lib.Diag] = None, what: Optional[str] = None) -> PidtupleError:
    """The exception for a negative return @ret, with @diag's details when it has them."""
    err = -int(ret)
    if diag is None or diag.err == 0:
        text = strerror(err)
        return PidtupleError(err, f"{what}: {text}" if what else text)
    message = diag.message.decode(errors="replace") or strerror(err)
    return PidtupleError(
        err, message, rule=diag.rule,
        inner_index=_none_if(diag.inner_index, -1),
        nspid_pos=_none_if(diag.nspid_pos, -1),
        pid=_none_if(diag.pid, 0),
        levels=_none_if(diag.levels, 0),
        kernel_errno=_none_if(-diag.kernel_err, 0),
        text_pos=_none_if(diag.text_pos, -1),
        notices=int(diag.notices),
        node=_none_if(diag.node, -1),
        thread=_none_if(diag.thread, -1) if diag.node >= 0 else None)
