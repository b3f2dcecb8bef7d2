# SPDX-License-Identifier: LGPL-2.1-or-later
"""Trees: building and reading descriptions, their JSON form, and for real (each such test as
PID 1 of a private PID namespace, see _nshelp.in_pidns) check, restore, capture, release,
hand-over and the handle's context manager."""

import dataclasses
import errno
import gc
import io
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest

import pidtuple
from pidtuple import NodeKind, PidtupleError, Rule, Tree, Tuple
from _nshelp import count_children, in_pidns, no_leaks

needs_json = pytest.mark.skipif(not pidtuple.json_available(),
                                reason="libpidtuple-json is not available")


def small_tree(base=300):
    """A session leader with two groups, and a nested PID namespace with a group of its own:

        300 (leads session and group 300)
        +- 301 (leads group 301)
        +- 302 (in group 301)
        +- 303/1 (init of a new namespace, in group 300)
           +- 304/2 (leads group 304/2)
           +- 305/3 (in group 304/2)

    Nodes in the order capture() gives them: breadth first, siblings by tuple."""
    t = Tree()
    root = t.add(f"{base}", pgid=f"{base}", sid=f"{base}")
    t.add(f"{base + 1}", parent=root, pgid=f"{base + 1}")
    t.add(f"{base + 2}", parent=root, pgid=f"{base + 1}")
    init = t.add(f"{base + 3}/1", parent=root, newpid=True)
    t.add(f"{base + 4}/2", parent=init, pgid=f"{base + 4}/2")
    t.add(f"{base + 5}/3", parent=init, pgid=f"{base + 4}/2")
    return t


def resolved(tree):
    """(tuple, parent, newpid, pgid, sid) of every node with "the parent's" group and session
    spelt out, and a group or session not visible in a new namespace padded with 0."""
    out = []
    for n in tree:
        ids = []
        for name in ("pgid", "sid"):
            t = getattr(n, name)
            if t is None:
                up = out[n.parent][3 if name == "pgid" else 4]
                t = Tuple.from_ids(up.outer() + [0]) if n.newpid else up
            ids.append(t)
        out.append((n.tuple, n.parent, n.newpid, ids[0], ids[1]))
    return out


def kill_and_reap_all():
    """Kills every process of the test's namespace but its init (this test), and reaps them:
    those of a released tree outlive their parents and come to the init."""
    os.kill(-1, signal.SIGKILL)
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def proc_pid(pidfd):
    """The process's number in /proc's namespace (the test's /proc is the host's)."""
    with open(f"/proc/self/fdinfo/{pidfd}") as f:
        for line in f:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    raise AssertionError("no Pid: line in the pidfd's fdinfo")


# ------------------------------------------------------------------------------------------
# Descriptions (nothing forks)

def test_build_and_read_a_tree():
    t = small_tree()
    assert len(t) == 6 and len(list(t)) == 6
    root = t.root
    assert root.index == 0 and root.is_root and root.parent is None
    assert root.tuple == Tuple("300") and root.kind is NodeKind.HOLD
    assert (root.pgid, root.sid) == (Tuple("300"), Tuple("300"))
    n = t[3]
    assert (n.tuple, n.parent, n.newpid, n.pgid, n.sid) == (Tuple("303/1"), 0, True, None, None)
    assert [c.index for c in t.children(3)] == [4, 5]
    assert [c.index for c in t.children(root)] == [1, 2, 3]
    assert t[-1].tuple == Tuple("305/3")
    assert "303/1" in repr(n) and "newpid=True" in repr(n)
    assert repr(t) == "<pidtuple.Tree nodes=6>"
    with pytest.raises(IndexError):
        t[6]
    assert t == small_tree() and t != small_tree(400)
    assert pickle.loads(pickle.dumps(t)) == t


def test_exec_nodes_and_group_tuples_with_zeros():
    t = Tree()
    t.add("10")
    n = t.add("11/1", parent=0, newpid=True, argv=["true", "x"],
              env={"PATH": "/usr/bin:/bin", "A": "b"}, sid="10/0", pgid=Tuple.from_ids([10, 0]))
    assert n.kind is NodeKind.EXEC and str(n.kind) == "exec"
    assert n.path in ("/usr/bin/true", "/bin/true")  # searched in the PATH of env
    assert n.argv == ("true", "x") and n.env == ("PATH=/usr/bin:/bin", "A=b")
    assert n.sid == n.pgid == Tuple.from_ids([10, 0]) and str(n.sid) == "10/0"
    m = t.add("12", parent=0, kind="exec", path="/bin/sh", argv=["sh", "-c", "exit 0"])
    assert (m.path, m.argv, m.env) == ("/bin/sh", ("sh", "-c", "exit 0"), None)
    assert pickle.loads(pickle.dumps(t)) == t


def test_add_refuses_what_a_node_cannot_say():
    t = Tree()
    with pytest.raises(ValueError):  # not a tuple
        t.add("x")
    t.add("20")
    with pytest.raises(PidtupleError) as ei:
        t.add("21")  # a second root
    assert isinstance(ei.value, ValueError) and ei.value.rule == "tree-shape"
    with pytest.raises(IndexError):
        t.add("21", parent=5)  # no such parent
    with pytest.raises(TypeError):
        t.add("21", parent=0, kind="hold", argv=["true"])
    with pytest.raises(ValueError):
        t.add("21", parent=0, kind="callback")
    with pytest.raises(ValueError):
        t.add("21", parent=0, kind="sleep")
    with pytest.raises(FileNotFoundError):
        t.add("21", parent=0, argv=["no-such-program-anywhere"])
    assert len(t) == 1  # nothing was added by the failures
    t.close()
    with pytest.raises(ValueError, match="closed"):
        len(t)


def test_check_of_a_description_names_the_node():
    # Two nodes with one PID: refused before the machine is looked at.
    t = Tree()
    t.add("40")
    t.add("41", parent=0)
    t.add("41", parent=0)
    with pytest.raises(FileExistsError) as ei:
        pidtuple.check(t)
    e = ei.value
    assert isinstance(e, PidtupleError)
    assert (e.errno, e.rule, e.rule_id, e.node) == (errno.EEXIST, "tree-duplicate",
                                                    Rule.TREE_DUPLICATE, 2)
    assert "node 2" in str(e)
    # Namespaces are per node: namespace flags are refused for a tree.
    with pytest.raises(ValueError):
        pidtuple.check(small_tree(), newpid=True)


def threaded_tree(base=300):
    """A root with two more threads, and the init of a new namespace with one, TID 2 there."""
    t = Tree()
    root = t.add(f"{base}", pgid=f"{base}", sid=f"{base}",
                 threads=[f"{base + 10}", Tuple(f"{base + 11}")])
    t.add(f"{base + 1}/1", parent=root, newpid=True, threads=(f"{base + 12}/2",))
    t.add(f"{base + 2}", parent=root)
    return t


def test_threads_of_a_node():
    t = threaded_tree()
    root, init, plain = t
    assert root.threads == (Tuple("310"), Tuple("311"))
    assert init.threads == (Tuple("312/2"),) and plain.threads == ()
    assert "threads=['310', '311']" in repr(root) and "threads" not in repr(plain)
    assert t == threaded_tree() and t != small_tree()
    other = Tree()
    other.add("300", pgid="300", sid="300", threads=["311", "310"])  # the order counts
    assert other[0] != root
    assert pickle.loads(pickle.dumps(t)) == t
    # A pickle of a binding without threads: nine fields a node.
    old = pidtuple._trees._rebuild([[Tuple("5"), None, False, 0, None, None, None, None, None]])
    assert old[0].threads == () and old[0].tuple == Tuple("5")
    with pytest.raises(TypeError, match="not one tuple"):
        t.add("303", parent=0, threads="304")
    with pytest.raises(TypeError, match="hold node"):
        t.add("303", parent=0, argv=["true"], threads=["304"])
    with pytest.raises(ValueError):
        t.add("303", parent=0, threads=["x"])
    assert len(t) == 3


def test_outside_marks_of_a_node():
    t = Tree()
    root = t.add("50", pgid="40", sid="40", group_outside=True, session_outside=True)
    child = t.add("51", parent=root, session_outside=True)
    plain = t.add("52", parent=root)
    assert (root.group_outside, root.session_outside) == (True, True)
    assert (child.group_outside, child.session_outside) == (False, True)
    assert not plain.group_outside and not plain.session_outside
    assert "group_outside=True, session_outside=True" in repr(root)
    assert "session_outside=True" in repr(child) and "outside" not in repr(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        root.group_outside = False  # type: ignore[misc]
    other = Tree()
    other.add("50", pgid="40", sid="40", group_outside=True)
    assert other[0] != root  # the marks count
    assert pickle.loads(pickle.dumps(t)) == t
    # A pickle of a binding without the marks: eleven fields a node.
    old = pidtuple._trees._rebuild([[Tuple("5"), None, False, 0, None, None, None, None, None,
                                     [], None]])
    assert not old[0].group_outside and not old[0].session_outside
    if pidtuple.json_available():
        text = t.to_json(pretty=True)
        assert '"outside": ["group", "session"]' in text and '"version": 2' in text
        assert '"outside": ["session"]' in text and text.count('"outside"') == 2
        assert pidtuple.loads(text) == t


def test_check_names_the_thread():
    t = Tree()
    t.add("40", threads=["42"])
    t.add("41", parent=0, threads=["43", "42"])
    with pytest.raises(FileExistsError) as ei:
        pidtuple.check(t)
    e = ei.value
    assert (e.rule, e.node, e.thread) == ("tree-duplicate", 1, 1)
    assert "node 1 thread 1" in str(e) and "TID 42" in e.strerror
    assert pickle.loads(pickle.dumps(e)).thread == 1
    # A thread lives in its process's namespaces: its tuple has the node's levels.
    t = Tree()
    t.add("40", threads=["41/2"])
    with pytest.raises(ValueError) as ei:
        pidtuple.check(t)
    assert (ei.value.rule, ei.value.node, ei.value.thread) == ("tree-shape", 0, 0)
    # The node's own failure names no thread.
    t = Tree()
    t.add("40", threads=["41"])
    t.add("40", parent=0)
    with pytest.raises(FileExistsError) as ei:
        pidtuple.check(t)
    assert (ei.value.node, ei.value.thread) == (1, None)


# ------------------------------------------------------------------------------------------
# JSON

@needs_json
def test_json_round_trip():
    t = small_tree()
    t.add("306", parent=0, argv=["/bin/sleep", "60"], env={"A": "b"})
    text = pidtuple.dumps(t)
    assert text.startswith('{"format":"libpidtuple-tree","version":1,"nodes":[')
    back = pidtuple.loads(text)
    assert back == t
    assert pidtuple.dumps(back) == text  # canonical
    pretty = t.to_json(pretty=True)
    assert "\n" in pretty and Tree.from_json(pretty) == t
    assert pidtuple.loads(text.encode()) == t
    f = io.StringIO()
    pidtuple.dump(t, f)
    f.seek(0)
    assert pidtuple.load(f) == t


@needs_json
def test_json_errors():
    with pytest.raises(PidtupleError) as ei:
        pidtuple.loads('{"format": "libpidtuple-tree", "version": 3, "nodes": []}')
    assert isinstance(ei.value, ValueError) and ei.value.rule == "syntax"
    assert "version" in ei.value.strerror
    doc = ('{"format": "libpidtuple-tree", "version": 1, "nodes": ['
           '{"tuple": "5", "parent": -1, "kind": "hold"}, '
           '{"tuple": "6/7", "parent": 0, "kind": "hold"}]}')
    with pytest.raises(ValueError) as ei:
        pidtuple.loads(doc)
    assert ei.value.node == 1 and "nodes[1]" in ei.value.strerror
    with pytest.raises(ValueError) as ei:
        pidtuple.loads('{"format": ')
    assert ei.value.text_pos is not None
    with pytest.raises(ValueError):
        pidtuple.loads('{}\0')


@needs_json
def test_json_threads():
    t = threaded_tree()
    text = pidtuple.dumps(t)
    assert text.startswith('{"format":"libpidtuple-tree","version":2,"nodes":[')
    assert '"threads":["310","311"],"kind":"hold"' in text
    back = pidtuple.loads(text)
    assert back == t and back[1].threads == (Tuple("312/2"),)
    assert pidtuple.dumps(back) == text
    assert pidtuple.loads(t.to_json(pretty=True)) == t
    # Without threads, version 1 as before.
    assert pidtuple.dumps(small_tree()).startswith('{"format":"libpidtuple-tree","version":1,')
    with pytest.raises(ValueError) as ei:
        pidtuple.loads(text.replace('"version":2', '"version":1'))
    assert (ei.value.rule, ei.value.node, ei.value.thread) == ("syntax", 0, None)
    assert "new in format version 2" in ei.value.strerror
    with pytest.raises(ValueError) as ei:
        pidtuple.loads(text.replace('"312/2"', '"312"'))
    assert (ei.value.rule, ei.value.node, ei.value.thread) == ("tree-shape", 1, 0)
    assert "nodes[1].threads[0]" in ei.value.strerror


def test_json_library_missing():
    """Without libpidtuple-json the binding imports and says so when JSON is asked for."""
    code = """if True:
        import pidtuple
        assert not pidtuple.json_available()
        t = pidtuple.Tree()
        t.add("5")
        try:
            pidtuple.dumps(t)
        except pidtuple.JsonUnavailableError as e:
            assert isinstance(e, NotImplementedError) and "libpidtuple-json" in str(e), e
            print("refused")
        """
    env = dict(os.environ, PIDTUPLE_JSON_LIBRARY="/nonexistent/libpidtuple-json.so.1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "refused\n"


# ------------------------------------------------------------------------------------------
# Restore and capture, for real

@in_pidns
def test_restore_capture_round_trip():
    with no_leaks():
        t = small_tree()
        assert pidtuple.check(t) == 0
        with pidtuple.restore(t) as r:
            assert len(r) == 6 and not r.released
            assert r.pids() == [300, 301, 302, 303, 304, 305]
            assert pidtuple.of_pid(r.pid(4)) == Tuple("304/2")
            assert pidtuple.of_pidfd(r.pidfd(t[5])) == Tuple("305/3")
            assert pidtuple.read(305, "pgid") == Tuple("304/2")
            assert pidtuple.read(304, "sid") == Tuple.from_ids([300, 0])
            held = pidtuple.capture(300)
            r.release()
            assert r.released and "released" in repr(r)
            cap = pidtuple.capture(r.pid(0))
            assert cap == held
            assert all(n.kind is NodeKind.HOLD for n in cap)
            assert resolved(cap) == resolved(t)
            r.kill()
        assert r.closed
        # The captured description restores to the same tree.
        with pidtuple.restore(cap) as r:
            assert pidtuple.capture(r.pid(0)) == cap
        if pidtuple.json_available():
            assert pidtuple.loads(pidtuple.dumps(cap)) == cap


@in_pidns
def test_restore_into_a_running_namespace():
    """ns=: a tree restored into a container (init PID 5 here, 1 inside): exact PIDs at both
    levels, the same tree then refused there (its inner PIDs taken)."""
    with no_leaks():
        box = pidtuple.spawn("5/1", ["/bin/sh", "-c", "exec sleep 100"], newpid=True)
        try:
            t = Tree()
            root = t.add("50/5", pgid="50/5", sid="50/5")
            t.add("51/6", parent=root)
            assert t.check(ns=box) == 0
            with pidtuple.restore(t, ns=box) as r:
                assert r.pids() == [50, 51]
                assert pidtuple.of_pid(51) == Tuple("51/6")
                with pytest.raises(PidtupleError) as ei:
                    pidtuple.check(t, ns=box)
                assert (ei.value.rule, ei.value.node, ei.value.inner_index) == (
                    "pid-taken", 0, 0)
                r.kill()
        finally:
            box.kill()
            box.wait()
            box.close()


def capture_job(job):
    """The capture of the job, once it has its two sleeps."""
    for _ in range(400):
        cap = pidtuple.capture(job)
        if len(cap) == 3:
            return cap
        time.sleep(0.01)
    raise AssertionError(f"the job {job} did not start its two sleeps")


@in_pidns
def test_shell_job_marks_and_restore():
    """A job of a shell (sh and two sleeps in the shell's session and group): capture marks
    the session and group led outside the tree; restored beside the live shell it is refused,
    saying so; with shell_job=True it is restored into this process's session and group."""
    with no_leaks():
        with subprocess.Popen(["sh", "-c", "sh -c 'sleep 60 & sleep 60 & wait' & echo $!; "
                               "exec >&-; wait"], stdout=subprocess.PIPE,
                              start_new_session=True) as shell:
            assert shell.stdout is not None
            job = int(shell.stdout.readline())
            cap = capture_job(job)
            assert all(n.group_outside and n.session_outside for n in cap)
            pids = [n.tuple[0] for n in cap]
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            # The sleeps come to this process, the namespace's init; the shell reaps the job.
            for _ in range(400):
                left = 0
                for pid in pids:
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass
                    try:
                        os.kill(pid, 0)
                        left += 1
                    except ProcessLookupError:
                        pass
                if not left:
                    break
                time.sleep(0.01)
            with pytest.raises(FileExistsError) as ei:
                pidtuple.restore(cap)
            e = ei.value
            assert e.rule == "pid-taken" and e.node == 0 and e.pid == shell.pid
            assert (f"capture saw the leader of the root's session and process group "
                    f"{shell.pid} outside the tree" in str(e)), str(e)
            assert "--shell-job" in str(e)
            assert pidtuple.check(cap, shell_job=True) == 0
            with pidtuple.restore(cap, shell_job=True) as r:
                assert r.pids() == [n.tuple[0] for n in cap]
                for pid in r.pids():
                    assert (os.getpgid(pid), os.getsid(pid)) == (os.getpgid(0), os.getsid(0))
                again = pidtuple.capture(r.pid(0))
                assert [(n.group_outside, n.session_outside) for n in again] == [(True, True)] * 3
            shell.kill()


@in_pidns
def test_threads_restored_and_captured():
    with no_leaks():
        t = threaded_tree()
        assert pidtuple.check(t) == 0
        with pidtuple.restore(t) as r:
            assert r.pids() == [300, 301, 302]
            # Threads of their processes, with exactly their TIDs.
            assert pidtuple.read(310, "tgid") == pidtuple.read(311, "tgid") == Tuple("300")
            assert pidtuple.read(312, "tid") == Tuple("312/2")
            assert pidtuple.read(312, "tgid") == Tuple("301/1")
            cap = pidtuple.capture(300)
            assert [n.threads for n in cap] == [n.threads for n in t]
            assert resolved(cap) == resolved(t)
            # Taken now: the first claim the check meets is the root's PID, not a thread.
            with pytest.raises(FileExistsError) as ei:
                pidtuple.check(t)
            assert (ei.value.node, ei.value.thread) == (0, None)
            r.kill()
        with pytest.raises(ProcessLookupError):
            pidtuple.read(310, "tid")
        # A thread's TID taken here (1 is this test) is named with its node and thread.
        t = Tree()
        t.add("320", threads=["321", "1"])
        with pytest.raises(FileExistsError) as ei:
            pidtuple.check(t)
        e = ei.value
        assert (e.rule, e.node, e.thread, e.nspid_pos, e.pid) == ("pid-taken", 0, 1, 0, 1)


@in_pidns
def test_capture_of_a_threaded_process():
    with no_leaks():
        code = ("import threading, time\n"
                "for _ in range(2):\n"
                "    threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
                "print('up', flush=True)\n"
                "time.sleep(60)\n")
        with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as p:
            assert p.stdout is not None and p.stdout.readline() == b"up\n"
            cap = pidtuple.capture(p.pid)
            p.kill()
        threads = cap[0].threads
        assert len(threads) == 2 and all(len(x) == 1 for x in threads)
        assert [x[0] for x in threads] == sorted(x[0] for x in threads)
        # The process is gone: its PID and TIDs come back, its threads with them.
        with pidtuple.restore(cap) as r:
            assert pidtuple.capture(r.pid(0)) == cap
            assert pidtuple.read(threads[1][0], "tgid") == Tuple(str(p.pid))


@in_pidns
def test_context_manager_kills_on_error():
    with no_leaks():
        t = small_tree(500)
        with pytest.raises(RuntimeError, match="boom"):
            with t.restore() as r:
                r.release()  # even released: an error takes the tree down
                pids = r.pids()
                raise RuntimeError("boom")
        assert r.killed and r.closed
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert count_children() == 0


@in_pidns
def test_context_manager_kills_what_was_not_released():
    with no_leaks():
        with small_tree(600).restore() as r:
            pids = r.pids()
        assert r.killed
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        # A released tree is left running; its root is the caller's child.
        with small_tree(700).restore() as r:
            r.release()
            root = r.process(0)
            inner = r.process(4)
        assert not r.killed and r.closed
        assert root.read_tuple() == Tuple("700") and inner.read_tuple() == Tuple("704/2")
        inner.close()
        root.kill()
        assert root.wait() == -signal.SIGKILL
        root.close()
        kill_and_reap_all()


@in_pidns
def test_hand_over():
    with no_leaks():
        t = small_tree(800)
        with t.restore() as r:
            with pytest.raises(ValueError):  # not released yet
                r.hand_over(1, None, ["sleep", "60"])
            r.release()
            r.hand_over(t[4], None, ["sleep", "60"], env={"PATH": "/usr/bin:/bin"})
            with open(f"/proc/{proc_pid(r.pidfd(4))}/cmdline", "rb") as f:
                assert f.read() == b"sleep\x0060\x00"
            assert pidtuple.of_pid(r.pid(4)) == Tuple("804/2")
            with pytest.raises(FileNotFoundError):
                r.hand_over(5, "/nonexistent/program", ["x"])
            with pytest.raises(IndexError):
                r.pid(6)
            r.kill()


@in_pidns
def test_share_vm():
    """share_vm=True: the leaves share their parent's memory; the tree is the same, and a
    leaf takes a program as any HOLD node does."""
    with no_leaks():
        t = Tree()
        root = t.add("900")
        mid = t.add("901", parent=root)
        for pid in (902, 903, 904):
            t.add(str(pid), parent=mid)
        with t.restore(share_vm=True) as r:
            assert r.pids() == [900, 901, 902, 903, 904]
            r.release()
            cap = pidtuple.capture(900)
            assert [(n.tuple, n.parent) for n in cap] == [(n.tuple, n.parent) for n in t]
            r.hand_over(3, None, ["sleep", "60"], env={"PATH": "/usr/bin:/bin"})
            with open(f"/proc/{proc_pid(r.pidfd(3))}/cmdline", "rb") as f:
                assert f.read() == b"sleep\x0060\x00"
            with pytest.raises(FileNotFoundError):
                r.hand_over(4, "/nonexistent/program", ["x"])
            assert pidtuple.of_pid(r.pid(4)) == Tuple("904")
            r.kill()


@in_pidns
def test_restore_failure_leaves_nothing():
    with no_leaks():
        # PID 1 is this test: the root cannot have it.
        t = Tree()
        t.add("900")
        t.add("1", parent=0)
        with pytest.raises(FileExistsError) as ei:
            pidtuple.restore(t)
        e = ei.value
        assert (e.rule, e.node, e.nspid_pos, e.level) == ("pid-taken", 1, 0, 0)
        assert count_children() == 0
        with pytest.raises(ProcessLookupError):
            pidtuple.capture(900)


@in_pidns
def test_restore_dropped_without_close_warns():
    with no_leaks():
        r = small_tree(1000).restore()
        with pytest.warns(ResourceWarning, match="without close"):
            del r
            gc.collect()
        # A tree never released exits when its handle goes; its root is ours to reap.
        kill_and_reap_all()


@in_pidns
def test_names():
    with no_leaks():
        t = Tree()
        t.add("330", name="holder-330")
        assert t[0].name == "holder-330" and "name='holder-330'" in repr(t[0])
        assert pickle.loads(pickle.dumps(t)) == t
        with pytest.raises(TypeError, match="hold node"):
            t.add("331", parent=0, argv=["true"], name="x")
        with pytest.raises(ValueError):
            t.add("331", parent=0, name="sixteen-bytes-xx")
        with pidtuple.restore(t) as r:
            # Capture reads /proc/PID/comm of the restored process.
            assert pidtuple.capture(r.pid(0))[0].name == "holder-330"


@in_pidns
def test_hold_thread():
    # The thread holds TID 340 in this process until it ends (the in_pidns child).
    assert pidtuple.hold_thread("340", precheck=True) == 340
    assert pidtuple.read(340, "tgid") == pidtuple.read(os.getpid(), "tid")
    with pytest.raises(FileExistsError) as ei:
        pidtuple.hold_thread("340")
    assert ei.value.rule == "pid-taken"
    # The caller's signal mask is back as it was.
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == set()
