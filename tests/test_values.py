"""Exact typed values: 64-bit integers, sizes with units, cpusets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domlint.values import LLONG_MAX, is_contiguous, parse_cpuset, parse_int, parse_size


def test_llong_max_boundary_is_exact() -> None:
    # As doubles these two are equal; as integers they must not be.
    assert float(parse_int("9223372036854775808")) == float(LLONG_MAX)
    assert parse_int("9223372036854775808") > LLONG_MAX
    assert parse_int("9223372036854775807") == LLONG_MAX


def test_int_syntax() -> None:
    assert parse_int(" 12") == 12
    assert parse_int("12 ") is None
    assert parse_int("0x10") is None
    assert parse_int("0x10", 0) == 16
    assert parse_int("010", 0) == 8
    assert parse_int("4000", 16) == 0x4000
    assert parse_int("1.5") is None
    assert parse_int("-1") == -1


def test_sizes() -> None:
    assert parse_size("2", "GiB") == 2 * 1024**3
    assert parse_size("2", "GB") == 2 * 1000**3
    assert parse_size("2048") == 2048 * 1024
    assert parse_size("1", "b") == 1
    assert parse_size("1", "parsecs") is None


def test_cpusets() -> None:
    assert parse_cpuset("0-3,^2,8") == {0, 1, 3, 8}
    assert parse_cpuset("0,^0") == set()
    assert parse_cpuset("3-1") is None
    assert parse_cpuset("1024") is None
    assert parse_cpuset("^1-2") is None
    assert parse_cpuset("") is None
    assert is_contiguous({0, 1, 2, 3}) and not is_contiguous({0, 1, 3})


@given(st.sets(st.integers(min_value=0, max_value=1023), min_size=1))
def test_cpuset_roundtrip(cpus: set[int]) -> None:
    text = ",".join(str(c) for c in sorted(cpus))
    assert parse_cpuset(text) == cpus
    assert is_contiguous(cpus) == (max(cpus) - min(cpus) + 1 == len(cpus))


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_int_roundtrip(n: int) -> None:
    assert parse_int(str(n)) == n
    assert parse_int(hex(n) if n >= 0 else "-" + hex(-n), 0) == n


def test_lazy_pattern_compiles_on_first_use_and_answers_as_re() -> None:
    import re

    from domlint.values import LazyPattern

    lazy = LazyPattern(r"\s*([0-9]+)\Z", re.ASCII)
    assert lazy._compiled is None
    for text in (" 12", "x", "", "7 "):
        want = re.compile(r"\s*([0-9]+)\Z", re.ASCII).match(text)
        got = lazy.match(text)
        assert (got and got.groups()) == (want and want.groups()), text
    assert lazy._compiled is not None and lazy.pattern == r"\s*([0-9]+)\Z" and lazy.flags & re.ASCII
    # Kept on the instance after the first call: later calls skip __getattr__.
    assert "match" in vars(lazy) and lazy.match == lazy._compiled.match
