# SPDX-License-Identifier: LGPL-2.1-or-later
"""The child process of spawn(), fork() and Restore.process().

Internal module; everything public is re-exported by the package.
"""

from __future__ import annotations

import ctypes
import os
import signal
import warnings
from typing import Any, Callable, Optional

from ._errors import error
from ._lib import lib as _c
from ._tuple import Tuple

_WALL = 0x40000000  # __WALL: also children with an exit signal other than SIGCHLD


class Process:
    """A child created by :func:`spawn` or :func:`fork`.

    ``pid`` is its PID in the caller's namespace, ``pidfd`` an O_CLOEXEC pidfd for it (None
    once closed). ``wait()`` reaps it through the pidfd and returns the exit code, or minus
    the signal number that killed it (as subprocess does). As a context manager it waits
    for the child on exit, then closes the pidfd.

    Like :class:`subprocess.Popen`, a Process collected while its child still runs (never
    waited for) emits a ResourceWarning; the child stays the caller's to reap.
    """

    pid: int
    pidfd: Optional[int]
    returncode: Optional[int]

    def __init__(self, pid: int, pidfd: Optional[int], *, child: bool = True) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.returncode = None
        self._child = child  # the caller's to reap (else wait() fails with ECHILD)

    def fileno(self) -> int:
        """The pidfd, so that the object can be passed to select() or poll()."""
        if self.pidfd is None:
            raise ValueError("the pidfd is closed")
        return self.pidfd

    def read_tuple(self) -> Tuple:
        """The child's tuple as it is now, read through the pidfd."""
        fd = self.fileno()
        ptr = ctypes.c_void_p()
        r = _c.pidtuple_of_pidfd(fd, ctypes.byref(ptr))
        if r < 0:
            raise error(r, what=f"of_pidfd({fd})")
        return Tuple._adopt(ptr.value)

    def _waitid(self, options: int) -> Optional[int]:
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

    def wait(self) -> int:
        """Waits for the child to end and reaps it; returns its exit code or -signal."""
        code = self._waitid(0)
        assert code is not None
        return code

    def poll(self) -> Optional[int]:
        """Like wait() without blocking: None while the child runs."""
        return self._waitid(os.WNOHANG)

    def send_signal(self, sig: int) -> None:
        """Sends *sig* through the pidfd (no PID-reuse race); nothing once reaped."""
        if self.returncode is not None:
            return
        if self.pidfd is not None:
            signal.pidfd_send_signal(self.pidfd, sig)
        else:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        """Sends SIGKILL."""
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        """Sends SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def close(self) -> None:
        """Closes the pidfd. The child, if not waited for, stays the caller's to reap."""
        fd, self.pidfd = getattr(self, "pidfd", None), None
        if fd is not None:
            os.close(fd)

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if not hasattr(self, "_child"):
            return  # __init__ did not run
        try:
            if self._child and self.returncode is None:
                # As subprocess.Popen does: a child that already ended is reaped quietly.
                if self.poll() is None:
                    _warn(f"pidtuple child {self.pid} is still running (never waited for)",
                          ResourceWarning, source=self)
        except OSError:
            pass  # reaped by someone else
        finally:
            self.close()

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.wait()
        finally:
            self.close()

    def __repr__(self) -> str:
        return (f"<pidtuple.Process pid={self.pid} pidfd={self.pidfd} "
                f"returncode={self.returncode}>")
