# SPDX-License-Identifier: LGPL-2.1-or-later
"""Test helpers: run a test body as PID 1 of a private PID namespace, count resources.

Every test that forks runs inside a namespace of its own (the project's rule), so it never
touches host PIDs and everything it leaves behind dies with it.
"""

import ctypes
import functools
import os
import signal
import traceback

import pytest

import pidtuple

_libc = ctypes.CDLL(None, use_errno=True)
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]
PR_SET_PDEATHSIG = 1


def privileged():
    """Root with CAP_SYS_ADMIN and clone3 set_tid: what the forking tests need."""
    f = pidtuple.features()
    return os.geteuid() == 0 and "cap_sys_admin" in f and "set_tid" in f


def require_privilege():
    """Skips the test when unprivileged, except under CI=true, where it fails instead."""
    if privileged():
        return
    why = "needs root with CAP_SYS_ADMIN and clone3 set_tid"
    if os.environ.get("CI") == "true":
        pytest.fail(f"privileged test cannot run under CI: {why}")
    pytest.skip(why)


def count_fds():
    return len(os.listdir("/proc/self/fd")) - 1  # the listing's own fd


def count_children():
    n = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                n += len(f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended after the listing (join() returns before it is gone)
    return n


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def _read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def run_in_pidns(fn, *args, **kwargs):
    """Runs fn(*args, **kwargs) as PID 1 of a new PID namespace, in a grandchild; fails the
    calling test with the grandchild's traceback when fn raised. The intermediate process
    unshares, so the namespace (and all left in it) dies when fn returns."""
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        status = 125
        try:
            os.close(r)
            unshare(pidtuple.CLONE_NEWPID)
            gpid = os.fork()
            if gpid == 0:
                msg = b"ok"
                try:
                    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                    fn(*args, **kwargs)
                except BaseException:
                    msg = traceback.format_exc().encode(errors="replace")
                finally:
                    try:
                        _write_all(w, msg)
                    finally:
                        os._exit(0)
            os.close(w)
            _, st = os.waitpid(gpid, 0)
            status = os.waitstatus_to_exitcode(st)
            status = status if status >= 0 else 128 - status
        except BaseException:
            _write_all(w, traceback.format_exc().encode(errors="replace"))
        finally:
            os._exit(status)
    os.close(w)
    try:
        out = _read_all(r)
    finally:
        os.close(r)
        _, st = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(st)
    if out != b"ok":
        text = out.decode(errors="replace") or f"no report; the helper exited with {code}"
        pytest.fail("in the private PID namespace:\n" + text, pytrace=False)
    assert code == 0, f"namespace helper exited with {code}"


def in_pidns(test):
    """Decorator: the test body runs as PID 1 of its own PID namespace (privileged tests)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        require_privilege()
        run_in_pidns(test, *args, **kwargs)

    return wrapper


class no_leaks:
    """Context manager: the block leaves no open fd and no child (live or zombie) behind."""

    def __enter__(self):
        self.fds, self.children = count_fds(), count_children()
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            assert count_children() == self.children, "a child was left behind"
            assert count_fds() == self.fds, "a file descriptor was left open"


def setns(fd, nstype):
    if _libc.setns(fd, nstype) < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


def unshare(flags):
    if _libc.unshare(flags) < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"unshare: {os.strerror(e)}")
