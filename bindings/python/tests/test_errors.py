# SPDX-License-Identifier: LGPL-2.1-or-later
"""PidtupleError and its classes by errno, as the standard library maps OSError; the real
failures that raise them (the privileged ones as PID 1 of a private PID namespace)."""

import errno
import os
import pickle

import pytest

import pidtuple
from pidtuple import PidtupleError, Rule
from _nshelp import in_pidns, no_leaks, unshare

# errno -> the builtin class a PidtupleError of that errno must also be.
MAPPED = {
    errno.EEXIST: FileExistsError,
    errno.ESRCH: ProcessLookupError,
    errno.EPERM: PermissionError,
    errno.EACCES: PermissionError,
    errno.ENOENT: FileNotFoundError,
    errno.ENOTDIR: NotADirectoryError,
    errno.EISDIR: IsADirectoryError,
    errno.ECHILD: ChildProcessError,
    errno.EINTR: InterruptedError,
    errno.EAGAIN: BlockingIOError,
    errno.EALREADY: BlockingIOError,
    errno.EINPROGRESS: BlockingIOError,
    errno.EPIPE: BrokenPipeError,
    errno.ECONNREFUSED: ConnectionRefusedError,
    errno.ECONNRESET: ConnectionResetError,
    errno.ECONNABORTED: ConnectionAbortedError,
    errno.ETIMEDOUT: TimeoutError,
    errno.EINVAL: ValueError,
}


@pytest.mark.parametrize("err", sorted(MAPPED), ids=errno.errorcode.get)
def test_every_errno_gets_its_builtin_class(err):
    e = PidtupleError(err, "message", rule=Rule.PID_TAKEN, nspid_pos=1, inner_index=0, node=3)
    assert isinstance(e, PidtupleError) and isinstance(e, OSError)
    assert isinstance(e, MAPPED[err])
    if err != errno.EINVAL:
        assert type(OSError(err, "x")) is MAPPED[err]  # as the standard library does
    assert (e.errno, e.strerror, e.args) == (err, "message", (err, "message"))
    assert (e.rule, e.rule_id, e.nspid_pos, e.level, e.inner_index, e.node) == (
        "pid-taken", Rule.PID_TAKEN, 1, 0, 0, 3)
    # One class per builtin, created once.
    assert type(e) is pidtuple.error_class(err) is type(PidtupleError(err, "again"))
    assert type(e).__name__ == "Pidtuple" + MAPPED[err].__name__
    # Pickling keeps the class and the details.
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is type(e) and back._attrs() == e._attrs() and back.rule == e.rule
    # The builtin catches it.
    with pytest.raises(MAPPED[err]):
        raise e


def test_one_class_for_eperm_and_eacces():
    assert pidtuple.error_class(errno.EPERM) is pidtuple.error_class(errno.EACCES)


@pytest.mark.parametrize("err", [errno.ENOMEM, errno.ENOSPC, errno.E2BIG, errno.EOPNOTSUPP,
                                 errno.EBUSY, errno.EROFS, errno.ERANGE])
def test_errnos_without_a_builtin_class_stay_pidtuple_errors(err):
    e = PidtupleError(err, "message")
    assert type(e) is PidtupleError is pidtuple.error_class(err)
    assert not isinstance(e, ValueError)
    assert e.rule == "none" and e.node is None and e.level is None


def test_old_name_and_str():
    assert pidtuple.PidTupleError is PidtupleError
    e = PidtupleError(errno.EEXIST, "taken", rule=Rule.TREE_DUPLICATE, node=2)
    assert str(e) == "[Errno 17] taken (rule tree-duplicate, node 2)"
    assert str(PidtupleError(errno.EINVAL, "bad")) == "[Errno 22] bad (rule none)"


def test_real_einval_is_a_value_error():
    with pytest.raises(ValueError) as ei:
        pidtuple.Tuple("4242/x/1")
    e = ei.value
    assert isinstance(e, PidtupleError)
    assert (e.errno, e.rule, e.nspid_pos, e.level, e.text_pos) == (errno.EINVAL, "syntax", 1,
                                                                    None, 5)


def test_real_esrch_is_a_process_lookup_error():
    with pytest.raises(ProcessLookupError) as ei:
        pidtuple.of_pid(0x3FFFFFFF)
    assert isinstance(ei.value, PidtupleError) and ei.value.errno == errno.ESRCH


def test_real_enoent_is_a_file_not_found_error():
    with pytest.raises(FileNotFoundError) as ei:
        pidtuple.spawn("9", ["no-such-program-anywhere"])
    assert ei.value.rule == "exec"


@in_pidns
def test_taken_pids_are_file_exists_errors():
    with no_leaks():
        # PID 1 of this namespace is the test itself.
        with pytest.raises(FileExistsError) as ei:
            pidtuple.spawn("1", ["/bin/true"])
        e = ei.value
        assert isinstance(e, PidtupleError)
        assert (e.errno, e.rule, e.rule_id) == (errno.EEXIST, "pid-taken", Rule.PID_TAKEN)
        assert (e.nspid_pos, e.level, e.pid, e.node) == (0, 0, 1, None)
        # Two levels, the outer one (text position 0) taken.
        with pytest.raises(FileExistsError) as ei:
            pidtuple.check("1/1", newpid=True)
        assert (ei.value.rule, ei.value.nspid_pos, ei.value.level) == ("pid-taken", 0, 1)


@in_pidns
def test_no_privilege_is_a_permission_error():
    # In a new user namespace the child has no capability over this PID namespace's owner.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        msg = b"no error"
        try:
            unshare(pidtuple.CLONE_NEWUSER)
            pidtuple.check("50")
        except PermissionError as e:
            msg = f"{type(e).__name__} {isinstance(e, PidtupleError)} {e.rule}".encode()
        except BaseException as e:
            msg = repr(e).encode()
        finally:
            os.write(w, msg)
            os._exit(0)
    os.close(w)
    msg = os.read(r, 1000)
    os.close(r)
    os.waitpid(pid, 0)
    assert msg == b"PidtuplePermissionError True privilege"
