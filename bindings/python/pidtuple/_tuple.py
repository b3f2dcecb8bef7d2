# SPDX-License-Identifier: LGPL-2.1-or-later
"""The tuple: one PID (or group or session id) per namespace level.

Internal module; everything public is re-exported by the package.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import operator
import re
from typing import Any, Callable, Iterable, Iterator, List, Optional, SupportsIndex, Tuple as _T
from typing import Union, overload

from . import _lib
from ._errors import PidtupleError, Rule, error
from ._lib import lib as _c

MAX_LEVELS = _lib.MAX_LEVELS

#: What the functions that take a tuple accept: a :class:`Tuple` or its text form.
TupleLike = Union["Tuple", str, bytes, bytearray]

_IDS_TEXT = re.compile(rb"\d+(/\d+)*")


class Tuple:
    """An immutable PID tuple: one PID per namespace level.

    ``Tuple("4242/17/1")`` parses the text form (outermost first; an ``NSpid:`` line is
    accepted too). ``t[i]`` is the PID at inner index *i*: ``t[0]`` is the innermost level,
    ``t[-1]`` the outermost, as in the kernel's ``set_tid`` array; iteration follows the same
    order. ``str(t)`` gives the text form back. Tuples compare and hash by value.

    A process group or session tuple (:meth:`from_ids`, a tree node's ``pgid`` and ``sid``)
    may end in zeros: the inner levels where the group or session is not visible.
    """

    __slots__ = ("_ptr",)
    _ptr: Optional[int]

    def __init__(self, text: Union[str, bytes, bytearray]) -> None:
        ptr = ctypes.c_void_p()
        diag = _lib.Diag()
        if isinstance(text, str):
            text = text.encode()
        elif not isinstance(text, (bytes, bytearray)):
            raise TypeError(
                f"Tuple() takes the text form, not {type(text).__name__}; "
                "use Tuple.from_inner() or Tuple.from_outer() for a sequence")
        if b"\0" in text:
            raise PidtupleError(_errno.EINVAL, "tuple text contains a NUL byte", rule=1,
                                text_pos=text.index(b"\0"))
        r = _c.pidtuple_parse(bytes(text), ctypes.byref(ptr), ctypes.byref(diag))
        if r < 0:
            raise error(r, diag)
        object.__setattr__(self, "_ptr", ptr.value)

    @classmethod
    def parse(cls, text: Union[str, bytes, bytearray]) -> Tuple:
        """Parses the text form, outermost first: ``Tuple.parse("4242/17/1")``."""
        return cls(text)

    @classmethod
    def _adopt(cls, ptr: Optional[int]) -> Tuple:
        self = cls.__new__(cls)
        object.__setattr__(self, "_ptr", ptr)
        return self

    @classmethod
    def _from(cls, pids: Iterable[SupportsIndex], fn: Callable[..., int], what: str,
              low: int = 1) -> Tuple:
        values = [operator.index(p) for p in pids]
        # ctypes would wrap values beyond a C int silently: refuse them here.
        if not 1 <= len(values) <= MAX_LEVELS:
            raise PidtupleError(_errno.EINVAL, f"{what}: a tuple has 1..{MAX_LEVELS} levels, "
                                f"not {len(values)}", rule=Rule.LEVEL_COUNT)
        for i, p in enumerate(values):
            if not low <= p <= 0x7FFFFFFF:
                raise PidtupleError(_errno.EINVAL, f"{what}: {p} at position {i} is not "
                                    f"in {low}..2147483647", rule=Rule.PID_RANGE, pid=p)
        arr = (_lib.pid_t * len(values))(*values)
        ptr = ctypes.c_void_p()
        r = fn(arr, len(values), ctypes.byref(ptr))
        if r < 0:
            raise error(r, what=what)
        return cls._adopt(ptr.value)

    @classmethod
    def from_inner(cls, pids: Iterable[SupportsIndex]) -> Tuple:
        """Builds a tuple from PIDs innermost first (``set_tid`` order)."""
        return cls._from(pids, _c.pidtuple_from_inner, "from_inner")

    @classmethod
    def from_outer(cls, pids: Iterable[SupportsIndex]) -> Tuple:
        """Builds a tuple from PIDs outermost first (``NSpid`` and text order)."""
        return cls._from(pids, _c.pidtuple_from_outer, "from_outer")

    @classmethod
    def from_ids(cls, ids: Iterable[SupportsIndex]) -> Tuple:
        """Builds a process group or session tuple, outermost first, as ``NSpgid`` and
        ``NSsid`` give it: it may end in zeros, the inner levels where the group or session
        is not visible (``Tuple.from_ids([4242, 0])``). It describes a tree node's group;
        it cannot be forked."""
        _lib.need("pidtuple_from_ids")
        return cls._from(ids, _c.pidtuple_from_ids, "from_ids", low=0)

    def _handle(self) -> int:
        if self._ptr is None:
            raise ValueError("operation on a closed pidtuple.Tuple")
        return self._ptr

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("pidtuple.Tuple is immutable")

    def close(self, _free: Callable[[int], None] = _c.pidtuple_free) -> None:
        """Frees the C object now rather than when the tuple is collected."""
        ptr = getattr(self, "_ptr", None)
        if ptr is not None:
            object.__setattr__(self, "_ptr", None)
            _free(ptr)

    __del__ = close

    def __len__(self) -> int:
        return int(_c.pidtuple_levels(self._handle()))

    def _copy_out(self, fn: Callable[..., int]) -> List[int]:
        arr = (_lib.pid_t * MAX_LEVELS)()
        n = fn(self._handle(), arr, MAX_LEVELS)
        if n < 0:
            raise error(n)
        return list(arr[:n])

    def inner(self) -> List[int]:
        """The PIDs innermost first, as a list (``set_tid`` order)."""
        return self._copy_out(_c.pidtuple_to_inner)

    def outer(self) -> List[int]:
        """The PIDs outermost first, as a list (``NSpid`` and text order)."""
        return self._copy_out(_c.pidtuple_to_outer)

    @overload
    def __getitem__(self, index: SupportsIndex) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> List[int]: ...

    def __getitem__(self, index: Union[SupportsIndex, slice]) -> Union[int, List[int]]:
        if isinstance(index, slice):
            return self.inner()[index]
        n = len(self)
        i = operator.index(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"inner index {operator.index(index)} out of range for {n} levels")
        return int(_c.pidtuple_get(self._handle(), i))

    def __iter__(self) -> Iterator[int]:
        return iter(self.inner())

    def __str__(self) -> str:
        h = self._handle()
        n = _c.pidtuple_format(h, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        _c.pidtuple_format(h, buf, n + 1)
        return buf.value.decode()

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<pidtuple.Tuple (closed)>"
        return f"pidtuple.Tuple({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tuple):
            return NotImplemented
        return bool(_c.pidtuple_equal(self._handle(), other._handle()) == 1)

    def __hash__(self) -> int:
        return hash(("pidtuple.Tuple", *self.inner()))

    def __reduce__(self) -> _T[Any, ...]:
        outer = self.outer()
        if 0 in outer:
            return (Tuple.from_ids, (outer,))
        return (Tuple, (str(self),))

    def __copy__(self) -> Tuple:
        return self

    def __deepcopy__(self, memo: Any) -> Tuple:
        return self


def as_tuple(t: TupleLike) -> Tuple:
    """A :class:`Tuple` from a tuple or its text form."""
    if isinstance(t, Tuple):
        return t
    if isinstance(t, (str, bytes, bytearray)):
        return Tuple(t)
    raise TypeError(f"expected a pidtuple.Tuple or its text form, not {type(t).__name__} "
                    "(for a sequence, say which order: Tuple.from_inner/from_outer)")


def as_ids(t: TupleLike) -> Tuple:
    """As as_tuple(), for a group or session tuple whose text may hold zeros ("4242/0")."""
    if isinstance(t, (str, bytes, bytearray)):
        raw = t.encode() if isinstance(t, str) else bytes(t)
        if _IDS_TEXT.fullmatch(raw):
            ids = [int(x) for x in raw.split(b"/")]
            if 0 in ids:
                return Tuple.from_ids(ids)
    return as_tuple(t)


def dup(ptr: Optional[int], what: str) -> Optional[Tuple]:
    """A Tuple of its own from a C tuple someone else owns (None for NULL)."""
    if not ptr:
        return None
    out = ctypes.c_void_p()
    r = _c.pidtuple_dup(ptr, ctypes.byref(out))
    if r < 0:
        raise error(r, what=what)
    return Tuple._adopt(out.value)
