# SPDX-License-Identifier: LGPL-2.1-or-later
"""spawn(), fork(), check() and reading tuples back, for real: each test runs as PID 1 of a
private PID namespace (see _nshelp.in_pidns), pins only PIDs there and below, and leaves no
fd or child behind. Needs root; skipped otherwise (failed under CI=true)."""

import errno
import gc
import os
import signal
import socket
import threading
import warnings

import pytest

import pidtuple
from pidtuple import PidTupleError, Rule, Tuple
from _nshelp import in_pidns, no_leaks, setns, unshare

SH = "/bin/sh"


@in_pidns
def test_spawn_gets_the_pid():
    assert os.getpid() == 1
    with no_leaks():
        p = pidtuple.spawn(Tuple("5"), [SH, "-c", "exec sleep 10"])
        assert p.pid == 5
        assert p.read_tuple() == Tuple("5")
        assert pidtuple.of_pid(5) == Tuple("5")
        assert p.poll() is None
        p.kill()
        assert p.wait() == -signal.SIGKILL
        assert p.returncode == -signal.SIGKILL
        # The pidfd outlives the reaped child, and says so.
        with pytest.raises(PidTupleError) as ei:
            p.read_tuple()
        assert ei.value.errno == errno.ESRCH
        with pytest.raises(PidTupleError) as ei:
            pidtuple.of_pid(5)
        assert ei.value.errno == errno.ESRCH
        p.close()
        assert p.pidfd is None


@in_pidns
def test_spawn_child_sees_its_pid_and_env():
    with no_leaks():
        # The text form works as the tuple; the child checks its own PID and environment.
        with pidtuple.spawn("6", [SH, "-c", 'test "$$" = 6 && test "$FOO" = bar && exit 7'],
                            env={"FOO": "bar", "PATH": "/usr/bin:/bin"}) as p:
            assert p.pid == 6
        assert p.returncode == 7 and p.pidfd is None
        # argv[0] without a slash is searched in PATH.
        with pidtuple.spawn("8", ["true"]) as p:
            pass
        assert p.returncode == 0


@in_pidns
def test_spawn_new_pid_namespace():
    with no_leaks():
        p = pidtuple.spawn("7/1", [SH, "-c", 'test "$$" = 1 && exec sleep 10'], newpid=True)
        assert p.pid == 7
        assert p.read_tuple() == Tuple("7/1")
        assert p.read_tuple().outer() == [7, 1]
        p.terminate()  # PID 1 of its namespace ignores SIGTERM without a handler
        p.kill()
        assert p.wait() == -signal.SIGKILL
        p.close()


@in_pidns
def test_spawn_errors():
    with no_leaks():
        with pytest.raises(PidTupleError) as ei:
            pidtuple.spawn("1", [SH, "-c", "exit 0"])  # PID 1 is this test
        e = ei.value
        assert (e.errno, e.rule_id, e.rule) == (errno.EEXIST, Rule.PID_TAKEN, "pid-taken")
        assert (e.inner_index, e.nspid_pos, e.pid) == (0, 0, 1)
        assert e.kernel_errno == errno.EEXIST
        assert "already in use" in e.strerror

        with pytest.raises(PidTupleError) as ei:
            pidtuple.spawn("9", ["/nonexistent/program"])
        assert (ei.value.errno, ei.value.rule) == (errno.ENOENT, "exec")
        with pytest.raises(PidTupleError) as ei:
            pidtuple.spawn("9", ["no-such-program-anywhere"])
        assert (ei.value.errno, ei.value.rule) == (errno.ENOENT, "exec")
        with pytest.raises(PidTupleError) as ei:
            pidtuple.spawn("2", [SH], newpid=True)
        assert ei.value.rule_id == Rule.NEWPID_ONE
        with pytest.raises(TypeError):
            pidtuple.spawn("9", [])
        # PID 9 is still free: nothing was created by the failures.
        with pidtuple.spawn("9", ["/bin/true"], exit_signal=0) as p:
            assert p.pid == 9
        assert p.returncode == 0


@in_pidns
def test_fork_returns_twice():
    at_fork = []
    os.register_at_fork(after_in_child=lambda: at_fork.append("child"))
    with no_leaks():
        r, w = os.pipe()
        p = pidtuple.fork("12")
        if p is None:
            # The child: Python's own after-fork hooks ran; end with os._exit.
            try:
                os.write(w, f"{os.getpid()} {at_fork}".encode())
            finally:
                os._exit(3)
        os.close(w)
        assert os.read(r, 100) == b"12 ['child']"
        os.close(r)
        assert p.pid == 12
        assert p.wait() == 3
        p.close()


@in_pidns
def test_fork_new_pid_namespace_and_errors():
    with no_leaks():
        r, w = os.pipe()
        p = pidtuple.fork(Tuple.from_inner([1, 13]), newpid=True)
        if p is None:
            try:
                os.write(w, str(os.getpid()).encode())
            finally:
                os._exit(0)
        os.close(w)
        assert os.read(r, 100) == b"1"
        os.close(r)
        assert p.pid == 13
        assert p.read_tuple() == Tuple("13/1")
        assert p.wait() == 0
        p.close()

        with pytest.raises(PidTupleError) as ei:
            pidtuple.fork("1")
        assert (ei.value.errno, ei.value.rule) == (errno.EEXIST, "pid-taken")
        with pytest.raises(PidTupleError) as ei:
            pidtuple.fork("14", precheck=True, exit_signal=99)
        assert ei.value.rule_id == Rule.EXIT_SIGNAL


@in_pidns
def test_fork_refuses_threads():
    with no_leaks():
        stop = threading.Event()
        t = threading.Thread(target=stop.wait)
        t.start()
        try:
            with pytest.raises(RuntimeError, match="multithreaded"):
                pidtuple.fork("15")
        finally:
            stop.set()
            t.join()


@in_pidns
def test_check():
    with no_leaks():
        assert pidtuple.check("2") == 0
        with pytest.raises(PidTupleError) as ei:
            pidtuple.check("1")
        e = ei.value
        assert (e.errno, e.rule, e.inner_index, e.pid) == (errno.EEXIST, "pid-taken", 0, 1)
        assert e.kernel_errno is None  # the kernel was not asked

        pid_max = pidtuple.NamespaceContext()[0].pid_max
        with pytest.raises(PidTupleError) as ei:
            pidtuple.check(str(pid_max))
        assert (ei.value.errno, ei.value.rule_id) == (errno.EINVAL, Rule.PID_RANGE)

        # This namespace's parent: checked where the mounted /proc is that level's (its
        # NSpid shows it), else left to the kernel. PID 2 there is kthreadd on a host.
        with open("/proc/self/status") as f:
            nspid = [ln.split()[1:] for ln in f if ln.startswith("NSpid:")][0]
        if len(nspid) == 2:
            with pytest.raises(PidTupleError) as ei:
                pidtuple.check("2/2")
            assert (ei.value.rule, ei.value.inner_index) == ("pid-taken", 1)
        elif len(nspid) == 1:
            assert pidtuple.check("3/2") == 1
        with pytest.raises(PidTupleError) as ei:
            pidtuple.check(Tuple.from_inner(range(2, 34)))
        assert ei.value.rule_id == Rule.TOO_DEEP and ei.value.inner_index == 31

        with pidtuple.NamespaceContext() as ctx:
            assert len(ctx) == 1 and ctx[0].is_caller and ctx[0].can_pin
            assert ctx.check("2") == 0
            with pytest.raises(PidTupleError) as ei:
                ctx.check("1")
            assert ei.value.rule_id == Rule.PID_TAKEN


@in_pidns
def test_check_without_privilege():
    # A child in a new user namespace has no capability over this PID namespace's owner.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        msg = b"no error"
        try:
            unshare(pidtuple.CLONE_NEWUSER)
            pidtuple.check("50")
        except PidTupleError as e:
            msg = f"{e.errno} {e.rule} {e.inner_index}".encode()
        except BaseException as e:
            msg = repr(e).encode()
        finally:
            os.write(w, msg)
            os._exit(0)
    os.close(w)
    msg = os.read(r, 200)
    os.close(r)
    os.waitpid(pid, 0)
    assert msg == f"{errno.EPERM} privilege 0".encode()


@in_pidns
def test_unshared_namespace_without_init():
    unshare(pidtuple.CLONE_NEWPID)  # children now go to a new namespace with no init yet
    with no_leaks():
        with pytest.raises(PidTupleError) as ei:
            pidtuple.check("5")
        assert ei.value.rule_id == Rule.NO_INIT
        with pytest.raises(PidTupleError) as ei:
            pidtuple.check("1", newpid=True)
        assert ei.value.rule == "newpid-after-unshare"
        assert pidtuple.check("1") == 0
        p = pidtuple.spawn("1", [SH, "-c", 'test "$$" = 1 && exec sleep 10'])
        assert p.read_tuple() == Tuple(f"{p.pid}/1")
        p.kill()
        assert p.wait() == -signal.SIGKILL
        p.close()


@in_pidns
def test_three_levels():
    """Holders make namespaces B (init PID 5 here) and C (init PID 4 in B); this process
    joins C for its children and pins a PID at all three levels."""
    with no_leaks():
        r, w = os.pipe()
        s_top, s_b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        holder = pidtuple.fork("5/1", newpid=True)
        if holder is None:  # init of B
            try:
                os.close(w)
                s_top.close()
                c = pidtuple.fork("4/1", newpid=True)
                if c is None:  # init of C
                    os.read(r, 1)
                    os._exit(0)
                socket.send_fds(s_b, [b"c"], [c.pidfd])
                os.read(r, 1)  # EOF: the test is done
                c.wait()
            finally:
                os._exit(0)
        s_b.close()
        os.close(r)
        _, fds, _, _ = socket.recv_fds(s_top, 16, 1)
        s_top.close()
        cfd = fds[0]
        try:
            c_init = pidtuple.of_pidfd(cfd)
            assert len(c_init) == 3 and c_init[:2] == [1, 4]
            setns(cfd, pidtuple.CLONE_NEWPID)
            with pidtuple.NamespaceContext() as ctx:
                assert len(ctx) == 3 and ctx[2].is_caller and not ctx[0].is_caller
            assert pidtuple.check("9/8/2") == 0

            p = pidtuple.spawn("9/8/2", [SH, "-c", 'test "$$" = 2 && exec sleep 10'])
            assert p.pid == 9
            assert p.read_tuple() == Tuple("9/8/2")
            with pytest.raises(PidTupleError) as ei:
                pidtuple.check("10/8/3")
            e = ei.value
            assert (e.rule, e.inner_index, e.nspid_pos, e.pid) == ("pid-taken", 1, 1, 8)
            with pytest.raises(PidTupleError) as ei:
                pidtuple.spawn("10/8/3", ["/bin/true"])
            assert (ei.value.rule, ei.value.inner_index) == ("pid-taken", 1)
            assert ei.value.kernel_errno == errno.EEXIST
            p.kill()
            assert p.wait() == -signal.SIGKILL
            p.close()
        finally:
            os.close(cfd)
            os.close(w)  # the holders end
        assert holder.wait() == 0
        holder.close()


@in_pidns
def test_ns_joins_a_running_namespace():
    """ns=: a container (init PID 5 here, 1 inside) receives children with exact PIDs at both
    levels, without this process entering it; checks see both levels."""
    with no_leaks():
        box = pidtuple.spawn("5/1", [SH, "-c", "exec sleep 100"], newpid=True)
        try:
            assert pidtuple.check("6/7", ns=box) == 0
            with pytest.raises(PidTupleError) as ei:
                pidtuple.check("6/1", ns=box)  # the container's init
            assert (ei.value.rule, ei.value.inner_index) == ("pid-taken", 0)
            with pytest.raises(PidTupleError) as ei:
                pidtuple.check("5/7", ns=box)  # taken here, one level up
            assert (ei.value.rule, ei.value.inner_index) == ("pid-taken", 1)
            with pidtuple.NamespaceContext(ns=box) as ctx:
                assert len(ctx) == 2 and ctx[1].is_caller and not ctx[0].is_caller
            p = pidtuple.spawn("6/7", [SH, "-c", 'test "$$" = 7 && exec sleep 10'], ns=box)
            assert p.read_tuple() == Tuple("6/7")
            # This process's own children are born here again.
            with pidtuple.spawn("8", ["true"]) as q:
                pass
            assert q.returncode == 0
            p.kill()
            assert p.wait() == -signal.SIGKILL
            p.close()
            with open("/proc/self/ns/net") as net:
                with pytest.raises(PidTupleError) as ei:
                    pidtuple.check("7", ns=net)
                assert (ei.value.errno, ei.value.rule) == (errno.EINVAL, "join-ns")
        finally:
            box.kill()
            box.wait()
            box.close()


@pytest.mark.skipif("pidtuple_scan_new" in pidtuple._lib.missing
                    or "pidtuple_read" in pidtuple._lib.missing,
                    reason="the library has no pidtuple_read() or pidtuple_scan_new()")
@in_pidns
def test_read_and_scan():
    with no_leaks():
        a = pidtuple.spawn("20", [SH, "-c", "exec sleep 10"])
        b = pidtuple.spawn("21/1", [SH, "-c", "exec sleep 10"], newpid=True)
        try:
            assert pidtuple.read(20) == Tuple("20")
            assert pidtuple.read_pidfd(a.pidfd, "tid") == Tuple("20")
            assert pidtuple.read(21) == Tuple("21/1")
            assert pidtuple.read_pidfd(b, "tgid") == Tuple("21/1")
            with pidtuple.scan() as s:
                entries = {e.pid: e for e in s}
            assert {1, 20, 21} <= set(entries)
            assert entries[20].tuple == Tuple("20") and entries[20].ppid == 1
            assert entries[21].tuple == Tuple("21/1") and entries[21].is_ns_init
            assert not entries[20].is_ns_init and not entries[20].is_thread
            assert entries[1].tuple == Tuple("1")
            # The name from the scan itself (the BPF iterator's or status), as /proc has it.
            me = entries[os.getpid()]
            with open("/proc/self/comm", "rb") as f:
                assert me.comm == os.fsdecode(f.read()[:-1])
            assert me.is_kthread in (None, False)
        finally:
            for p in (a, b):
                p.kill()
                p.wait()
                p.close()


@in_pidns
def test_next_pid():
    with no_leaks():
        assert pidtuple.set_next_pid(300) == 300
        assert pidtuple.get_next_pid() == 300
        pid = os.fork()  # an ordinary fork takes the next automatic PID
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        assert pid == 300
        with pytest.raises(PidTupleError) as ei:
            pidtuple.set_next_pid(0)
        assert ei.value.errno == errno.EINVAL


@in_pidns
def test_process_dropped_without_wait_warns():
    with no_leaks():
        p = pidtuple.spawn("30", [SH, "-c", "exec sleep 10"])
        with pytest.warns(ResourceWarning, match="30 is still running"):
            del p
            gc.collect()
        # The child stays the caller's to reap, as with subprocess.Popen.
        os.kill(30, signal.SIGKILL)
        os.waitpid(30, 0)

        # A child that already ended is reaped quietly, and so is one waited for.
        p = pidtuple.spawn("31", ["/bin/true"])
        os.waitid(os.P_PIDFD, p.pidfd, os.WEXITED | os.WNOWAIT)
        q = pidtuple.spawn("32", ["/bin/true"])
        q.wait()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del p, q
            gc.collect()
        assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


@in_pidns
def test_process_context_manager_waits_and_closes():
    with no_leaks():
        with pidtuple.spawn("33", [SH, "-c", "exit 4"]) as p:
            fd = p.pidfd
            assert fd is not None
        assert p.returncode == 4 and p.pidfd is None
        with pytest.raises(OSError):
            os.fstat(fd)
        # An exception in the block still reaps the child (after it ends).
        with pytest.raises(KeyError):
            with pidtuple.spawn("34", ["/bin/true"]) as p:
                raise KeyError
        assert p.returncode == 0 and p.pidfd is None
