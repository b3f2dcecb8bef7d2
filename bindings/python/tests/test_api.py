# SPDX-License-Identifier: LGPL-2.1-or-later
"""Version, features, errors and the namespace context: nothing here forks. Runs anywhere."""

import errno
import os
import re

import pytest

import pidtuple
from pidtuple import PidTupleError, Rule


def test_version():
    v = pidtuple.version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", v)
    assert v.split(".")[0] == "1"


def test_strerror():
    assert "taken" in pidtuple.strerror(errno.EEXIST)
    assert pidtuple.strerror(-errno.EEXIST) == pidtuple.strerror(errno.EEXIST)


def test_features_are_names_with_a_mask():
    f = pidtuple.features()
    assert isinstance(f, frozenset)
    assert all(isinstance(n, str) and n == n.lower() for n in f)
    names = {pidtuple.feature_name(1 << b) for b in range(64) if f.mask >> b & 1}
    assert set(f) == names
    for flag in pidtuple.Feature:
        present = bool(f.mask & flag)
        assert (flag in f.flags) == present
        assert (flag.name.lower() in f) == present
        assert (pidtuple.feature_reason(flag) == "present") == present
        assert (pidtuple.feature_error(flag) == 0) == present
        assert pidtuple.feature_error(flag.name.lower()) == pidtuple.feature_error(flag)
    with pytest.raises(ValueError):
        pidtuple.feature_reason("no-such-feature")
    with pytest.raises(ValueError):
        pidtuple.feature_error(3)  # not exactly one bit


def test_of_pid_self():
    t = pidtuple.of_pid(os.getpid())
    assert t[0] == os.getpid()  # the outermost level is the caller's namespace
    assert 1 <= len(t) <= pidtuple.MAX_LEVELS


def test_of_pid_and_pidfd_errors():
    with pytest.raises(PidTupleError) as ei:
        pidtuple.of_pid(0)
    assert ei.value.errno == errno.EINVAL and ei.value.rule == "none"
    with open("/dev/null") as f:  # an open fd that is no pidfd
        with pytest.raises(PidTupleError) as ei:
            pidtuple.of_pidfd(f)
    assert ei.value.errno == errno.EBADF


@pytest.mark.parametrize(
    "options, err, rule",
    [
        (dict(newpid=True), errno.EINVAL, Rule.NEWPID_ONE),
        (dict(clone_flags=0x100), errno.EINVAL, Rule.FLAGS),  # CLONE_VM is no namespace flag
        (dict(exit_signal=65), errno.EINVAL, Rule.EXIT_SIGNAL),
        (dict(cgroup_fd=-1), errno.EBADF, Rule.CGROUP),
    ],
)
def test_check_static_rules(options, err, rule):
    # These rules need no context, so checking them touches nothing of the host.
    with pytest.raises(PidTupleError) as ei:
        pidtuple.check(pidtuple.Tuple("5"), **options)
    e = ei.value
    assert (e.errno, e.rule_id, e.rule) == (err, rule, pidtuple._rule_name(rule))
    assert e.kernel_errno is None
    if rule == Rule.NEWPID_ONE:
        assert (e.inner_index, e.nspid_pos, e.pid, e.levels) == (0, 0, 5, 1)


def test_check_rejects_unknown_options():
    with pytest.raises(TypeError):
        pidtuple.check("1", no_such_option=True)


def test_namespace_context():
    with pidtuple.NamespaceContext() as ctx:
        n = len(ctx)
        assert n == ctx.levels >= 1
        levels = list(ctx)
        assert [lv.inner_index for lv in levels] == list(range(n))
        caller = ctx[-1]
        assert caller.is_caller and caller.has_init and not caller.is_new
        assert caller.pid_max > 1 and caller.ns_id != 0
        with pytest.raises(IndexError):
            ctx[n]
        assert "levels=" in repr(ctx)
    with pytest.raises(ValueError):
        len(ctx)
    with pidtuple.NamespaceContext(newpid=True) as new:
        assert len(new) == n + 1
        assert new[0].is_new and new[0].ns_id == 0 and not new[0].has_init
        with pytest.raises(PidTupleError) as ei:
            new.check("7")
        assert ei.value.rule_id == Rule.NEWPID_ONE


needs_read = pytest.mark.skipif("pidtuple_read" in pidtuple._lib.missing,
                                reason="the library has no pidtuple_read()")


@needs_read
def test_read_self():
    me = os.getpid()
    assert pidtuple.read(me) == pidtuple.of_pid(me)
    assert pidtuple.read(me, "tid") == pidtuple.of_pid(me)
    assert pidtuple.read(me, "pgid")[0] == os.getpgid(0)
    assert pidtuple.read(me, "sid")[0] == os.getsid(0)
    for source in ("status", "fdinfo", "nsfs"):
        try:
            t = pidtuple.read(me, source=source)
        except PidTupleError as e:
            assert e.errno == errno.EOPNOTSUPP  # this kernel lacks that source
        else:
            assert t == pidtuple.of_pid(me)
    with pytest.raises(ValueError):
        pidtuple.read(me, "pid")
    with pytest.raises(ValueError):
        pidtuple.read(me, source="fast")
    with pytest.raises(PidTupleError) as ei:
        pidtuple.read(0)
    assert ei.value.errno == errno.EINVAL
