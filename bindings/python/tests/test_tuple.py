# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Tuple type: parsing, text, indexing order, equality. Runs anywhere."""

import copy
import errno
import pickle

import pytest

import pidtuple
from pidtuple import PidTupleError, Rule, Tuple


def test_parse_and_str_round_trip():
    t = Tuple("4242/17/1")
    assert str(t) == "4242/17/1"
    assert Tuple.parse("4242/17/1") == t
    assert repr(t) == "pidtuple.Tuple('4242/17/1')"
    assert len(t) == 3


def test_index_is_inner_order():
    t = Tuple("4242/17/1")
    # Index 0 is the innermost level, as in set_tid; the text is outermost first.
    assert (t[0], t[1], t[2]) == (1, 17, 4242)
    assert (t[-1], t[-3]) == (4242, 1)
    assert list(t) == [1, 17, 4242]
    assert t.inner() == [1, 17, 4242]
    assert t.outer() == [4242, 17, 1]
    assert t[:2] == [1, 17]
    for bad in (3, -4):
        with pytest.raises(IndexError):
            t[bad]
    with pytest.raises(TypeError):
        t["0"]


def test_from_inner_and_from_outer():
    a = Tuple.from_inner([1, 17, 4242])
    b = Tuple.from_outer((4242, 17, 1))
    assert a == b == Tuple("4242/17/1")
    assert str(a) == "4242/17/1"
    assert Tuple.from_inner(range(1, 33)).outer() == list(range(32, 0, -1))


def test_nspid_line_forms():
    assert Tuple("NSpid:\t4242\t17\t1\n") == Tuple("4242/17/1")
    assert Tuple("4242 17 1") == Tuple("4242/17/1")
    assert Tuple(b"7/1") == Tuple("7/1")
    assert Tuple("2147483647")[0] == 2147483647


def test_equality_and_hash():
    a, b, c = Tuple("5/1"), Tuple("5/1"), Tuple("1/5")
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a != "5/1"  # no implicit parsing in comparisons
    assert len({a, b, c}) == 2
    assert {a: "x"}[b] == "x"


def test_immutable_and_copyable():
    t = Tuple("3/2/1")
    with pytest.raises(AttributeError):
        t.foo = 1
    with pytest.raises(AttributeError):
        t._ptr = 0
    assert copy.copy(t) is t and copy.deepcopy(t) is t
    assert pickle.loads(pickle.dumps(t)) == t


def test_close_makes_it_unusable():
    t = Tuple("3/2/1")
    t.close()
    t.close()  # twice is harmless
    with pytest.raises(ValueError):
        len(t)
    assert "closed" in repr(t)


@pytest.mark.parametrize(
    "text, rule, pos, field",
    [
        ("", Rule.SYNTAX, 0, 0),
        ("1/x", Rule.SYNTAX, 2, 1),
        ("0", Rule.SYNTAX, 0, 0),
        ("-1", Rule.SYNTAX, 0, 0),
        ("1//2", Rule.SYNTAX, 2, 1),
        ("01", Rule.SYNTAX, 0, 0),
        ("1/2 3", Rule.SYNTAX, 3, 1),
        ("1/2x", Rule.SYNTAX, 3, 1),
        ("2147483648", Rule.SYNTAX, 0, 0),
        ("/".join(["1"] * 33), Rule.LEVEL_COUNT, 64, 32),
    ],
)
def test_parse_errors_carry_rule_and_position(text, rule, pos, field):
    with pytest.raises(PidTupleError) as ei:
        Tuple(text)
    e = ei.value
    assert isinstance(e, OSError)
    assert e.errno == errno.EINVAL
    assert e.rule_id == rule
    assert e.rule == {Rule.SYNTAX: "syntax", Rule.LEVEL_COUNT: "level-count"}[rule]
    assert e.text_pos == pos
    assert e.nspid_pos == field
    assert e.strerror  # the library's one-line message
    assert f"rule {e.rule}" in str(e)


def test_parse_rejects_nul_and_non_text():
    with pytest.raises(PidTupleError) as ei:
        Tuple("1\0/2")
    assert ei.value.errno == errno.EINVAL and ei.value.text_pos == 1
    with pytest.raises(TypeError):
        Tuple([1, 2])
    with pytest.raises(TypeError):
        Tuple(5)


@pytest.mark.parametrize(
    "pids, rule",
    [([], Rule.LEVEL_COUNT), ([1] * 33, Rule.LEVEL_COUNT), ([0], Rule.PID_RANGE),
     ([1, -3], Rule.PID_RANGE), ([2**31], Rule.PID_RANGE)],
)
def test_from_sequence_errors(pids, rule):
    for make in (Tuple.from_inner, Tuple.from_outer):
        with pytest.raises(PidTupleError) as ei:
            make(pids)
        assert ei.value.errno == errno.EINVAL and ei.value.rule_id == rule


def test_error_pickles_with_its_details():
    with pytest.raises(PidTupleError) as ei:
        Tuple("1/x")
    e = pickle.loads(pickle.dumps(ei.value))
    assert (e.errno, e.rule, e.text_pos, e.nspid_pos) == (errno.EINVAL, "syntax", 2, 1)


def test_as_tuple_argument_forms():
    # Functions taking a tuple accept its text; a bare sequence is ambiguous and refused.
    with pytest.raises(PidTupleError) as ei:
        pidtuple.check("5", newpid=True)
    assert ei.value.rule == "newpid-needs-1"
    with pytest.raises(TypeError, match="from_inner"):
        pidtuple.check([5, 1])
