# SPDX-License-Identifier: LGPL-2.1-or-later
"""Small helpers the binding's modules share: descriptors, C string arrays, PATH search.

Internal module.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
from typing import Any, Mapping, Optional, Protocol, Sequence, Union

from . import _lib
from ._errors import PidtupleError, Rule

#: A path or argument: text, bytes or a path object.
StrOrBytesPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: An environment: a mapping of names to values (text or bytes).
Env = Mapping[Union[str, bytes], Union[str, bytes]]


class HasFileno(Protocol):
    def fileno(self) -> int: ...


#: A file descriptor: an int, or an object with fileno().
FdLike = Union[int, HasFileno]


def fd_of(obj: FdLike) -> int:
    """The descriptor number of an int or of an object with fileno()."""
    if isinstance(obj, int):
        return obj
    return int(obj.fileno())


def cstrings(items: Sequence[bytes]) -> Any:
    """A NULL-terminated char *[] for ctypes."""
    return (ctypes.c_char_p * (len(items) + 1))(*items, None)


def args_of(argv: Sequence[StrOrBytesPath], what: str) -> list[bytes]:
    """argv as bytes; a non-empty sequence, not a string."""
    if isinstance(argv, (str, bytes)) or not argv:
        raise TypeError(f"{what}: argv must be a non-empty sequence of arguments")
    return [os.fsencode(a) for a in argv]


def envp_of(env: Optional[Env]) -> Any:
    """env as a NULL-terminated "NAME=value" array, or None for the caller's environment."""
    if env is None:
        return None
    return cstrings([os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()])


def resolve(executable: StrOrBytesPath, env: Optional[Env], what: str) -> bytes:
    """The program to execute: @executable when it has a slash, else searched in the PATH
    of @env (the caller's when None)."""
    exe = os.fsencode(executable)
    if b"/" in exe:
        return exe
    path_env: Optional[Mapping[Any, Any]] = env
    for d in os.get_exec_path(path_env):
        cand = os.path.join(os.fsencode(d), exe)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise PidtupleError(_errno.ENOENT, f"{what}: {os.fsdecode(exe)} not found in PATH",
                        rule=Rule.EXEC)


def fork_opts(diag: Optional[Any], *, newpid: bool = False, newuser: bool = False,
              clone_flags: int = 0, exit_signal: Optional[int] = None,
              cgroup_fd: Optional[FdLike] = None, precheck: bool = False,
              fallback: bool = True, lock: bool = False,
              fallback_retries: int = 0, ns: Optional[FdLike] = None) -> _lib.ForkOpts:
    """struct pidtuple_fork_opts from the keyword options documented in spawn()."""
    o = _lib.ForkOpts()
    o.clone_flags = (int(clone_flags) | (_lib.CLONE_NEWPID if newpid else 0)
                     | (_lib.CLONE_NEWUSER if newuser else 0))
    if exit_signal is not None:
        o.flags |= _lib.FORK_EXIT_SIGNAL
        o.exit_signal = int(exit_signal)
    if cgroup_fd is not None:
        o.flags |= _lib.FORK_INTO_CGROUP
        o.cgroup_fd = fd_of(cgroup_fd)
    if precheck:
        o.flags |= _lib.FORK_CHECK
    if not fallback:
        o.flags |= _lib.FORK_NO_FALLBACK
    if lock:
        o.flags |= _lib.FORK_LOCK
    o.fallback_retries = int(fallback_retries)
    if ns is not None:
        o.flags |= _lib.FORK_JOIN_NS
        o.ns_fd = fd_of(ns)
    if diag is not None:
        o.diag = ctypes.pointer(diag)
    return o
