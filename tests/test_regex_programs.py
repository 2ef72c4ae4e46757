"""Compiled regular-expression programs kept with the rule pack: rebuilt exactly, found by re.compile, never wrong."""

from __future__ import annotations

import marshal
import os
import re
import time
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from re import _compiler  # type: ignore[attr-defined]
from typing import Any

import pytest
from lxml import etree

from domlint import engine, regex_programs
from domlint.predicates import compile_xpath
from domlint.values import LazyPattern

UNICODE, IGNORECASE = int(re.UNICODE), int(re.IGNORECASE)
# Patterns no other code compiles (each test starts from an empty re cache), over what a rule pattern can hold.
PATTERNS = [
    (r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?$", UNICODE),
    (r"^virtio(-transitional|-non-transitional)?$", UNICODE | IGNORECASE),
    (r"\bfoo\b|(?P<w>\w+)\s+(?P=w)", 0),
    (r"^[ \t\n\v\f\r]*[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)$", UNICODE),
    (r"[^A-Za-z0-9 ._+-]", UNICODE),
    (r"(a|b)*?c{2,5}\Z", int(re.S)),
    (r"""  ^ (\d+)   # digits
           \. (\d+) $""", int(re.X)),
    (r"^ÄÖ[à-ÿ]+$", UNICODE | IGNORECASE),
]
SUBJECTS = ["2024-05", "2024-05-17", "2024-5-17", "VIRTIO-Transitional", "virtio", "virtio-net", "foo bar",
            "bar bar baz", "  0x1F", "-42", "4 2", "abc_def", "a+b c", "ababcc", "bccccc", "12.5", "äöé", "ÄÖÉ",
            "", "\n7"]


@pytest.fixture(autouse=True)
def _empty_re_cache() -> Iterator[None]:
    re.purge()
    yield
    re.purge()


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every pattern re compiles (rather than finds in its cache) from now on."""
    seen: list[tuple[str, int]] = []
    real = _compiler.compile

    def spy(p: Any, flags: int = 0) -> Any:
        seen.append((p, flags))
        return real(p, flags)

    monkeypatch.setattr(_compiler, "compile", spy)
    return seen


def _behaviour(pattern: re.Pattern[str]) -> list[Any]:
    out: list[Any] = [pattern.pattern, pattern.flags, pattern.groups, dict(pattern.groupindex)]
    for s in SUBJECTS:
        for m in (pattern.match(s), pattern.search(s), pattern.fullmatch(s)):
            out.append(None if m is None else (m.span(), m.groups(), m.groupdict(), m.lastindex, m.lastgroup))
        out.append(pattern.findall(s))
        out.append(pattern.sub("<\\g<0>>", s))
    return out


def _seeded(patterns: list[tuple[str, int]]) -> dict[tuple[str, int], re.Pattern[str]]:
    stored = regex_programs.stored(patterns)
    assert stored is not None
    assert regex_programs.seed([stored]) == len(patterns)
    return {(p, f): re._cache[(str, p, f)] for p, f in patterns}  # type: ignore[attr-defined]


def test_a_rebuilt_pattern_behaves_as_the_one_re_compiles() -> None:
    seeded = _seeded(PATTERNS)
    for (p, f), made in seeded.items():
        fresh = _compiler.compile(p, f)
        assert made is not fresh
        assert made == fresh  # same pattern text, flags and code
        assert _behaviour(made) == _behaviour(fresh), p
    named = seeded[PATTERNS[0]].fullmatch("2024-05-17")
    assert named is not None and named.group("day") == "17" and named.lastgroup == "day"
    assert seeded[PATTERNS[1]].flags & re.IGNORECASE and seeded[PATTERNS[1]].search("VirtIO")


def test_re_compile_finds_a_seeded_pattern_without_compiling(compiles: list[tuple[str, int]]) -> None:
    seeded = _seeded(PATTERNS)
    compiles.clear()
    for (p, f), made in seeded.items():
        assert re.compile(p, f) is made
    # As lxml asks (a RegexFlag), and as LazyPattern and the module functions do.
    assert re.compile(PATTERNS[1][0], re.UNICODE | re.IGNORECASE) is seeded[PATTERNS[1]]
    assert LazyPattern(*PATTERNS[2]).search("bar bar") is not None
    assert re.fullmatch(PATTERNS[0][0], "2024-05", PATTERNS[0][1]) is not None
    assert compiles == []
    # Another flag is another pattern: compiled as usual.
    assert re.compile(PATTERNS[2][0], re.I).search("FOO")
    assert compiles == [(PATTERNS[2][0], int(re.I))]


def test_a_pattern_already_in_the_cache_is_kept() -> None:
    p, f = PATTERNS[0]
    first = re.compile(p, f)
    stored = regex_programs.stored([(p, f), PATTERNS[1]])
    assert regex_programs.seed([stored]) == 1
    assert re.compile(p, f) is first


def test_seeding_stops_at_res_own_cache_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = regex_programs.stored(PATTERNS)
    monkeypatch.setattr(re, "_MAXCACHE", len(re._cache) + 3)  # type: ignore[attr-defined]
    assert regex_programs.seed([stored]) == 3
    assert len(re._cache) == re._MAXCACHE  # type: ignore[attr-defined]


def _entry(key: Any, programs: list[Any]) -> bytes:
    body = marshal.dumps(programs)
    return marshal.dumps((key, zlib.adler32(body), body))


def _programs(stored: bytes) -> tuple[Any, list[Any]]:
    key, _check, body = marshal.loads(stored)
    return key, marshal.loads(body)


def _falls_back(entry: list[Any], compiles: list[tuple[str, int]]) -> None:
    assert regex_programs.seed(entry) == 0
    for p, f in PATTERNS:
        assert _behaviour(re.compile(p, f)) == _behaviour(_compiler.compile(p, f))
    assert set(PATTERNS) <= set(compiles)  # each compiled by re, as without a seed


def test_another_interpreters_programs_are_not_used(compiles: list[tuple[str, int]]) -> None:
    stored = regex_programs.stored(PATTERNS)
    assert stored is not None
    key, programs = _programs(stored)
    assert key == regex_programs.interpreter()
    other = (key[0].replace(".", "!", 1), *key[1:])
    _falls_back([_entry(other, programs)], compiles)


@pytest.mark.parametrize("damage", ["flipped", "cut", "garbage", "none", "empty", "invalid code", "wrong shape"])
def test_a_damaged_entry_falls_back_to_compiling(damage: str, compiles: list[tuple[str, int]]) -> None:
    stored = regex_programs.stored(PATTERNS)
    assert stored is not None
    key, programs = _programs(stored)
    if damage == "flipped":  # a byte of the stored code changed: the checksum no longer holds
        at = stored.index(programs[0][3]) + 5
        entry: list[Any] = [stored[:at] + bytes([stored[at] ^ 0x10]) + stored[at + 1:]]
    elif damage == "cut":
        entry = [stored[: len(stored) // 2]]
    elif damage == "garbage":
        entry = [os.urandom(64)]
    elif damage == "none":
        entry = [None]
    elif damage == "empty":
        entry = []
    elif damage == "invalid code":  # checksum right, program wrong: _sre refuses it
        entry = [_entry(key, [(*prog[:3], bytes(len(prog[3])), *prog[4:]) for prog in programs])]
    else:
        entry = [_entry(key, [prog[:4] for prog in programs])]
    _falls_back(entry, compiles)


def test_a_pattern_re_cannot_compile_is_left_out() -> None:
    stored = regex_programs.stored([("(unclosed", UNICODE), PATTERNS[0]])
    assert stored is not None
    assert [prog[0] for prog in _programs(stored)[1]] == [PATTERNS[0][0]]


XPATHS = [
    "//v[re:test(., '^[A-Z]+-[0-9]+$')]",
    "//v[re:test(., '^abc$', 'i')]",
    "//v[re:test(., '(?P<w>[a-z]+) (?P=w)')]",
    "//v[not(re:test(., '^[ -~]*$'))]",
    "re:replace(string(//v[1]), '[0-9]', 'g', '#')",
    "//v[re:test(@n, '^\\s*[+-]?[0-9]+$')]/@n",
]
DOC = "<d><v n=' -4'>ABC-12</v><v n='x'>aBc</v><v>go go</v><v>é</v><v n='+7'>abc</v></d>"


def _evaluate() -> list[Any]:
    root = etree.fromstring(DOC)
    out = []
    for expr in XPATHS:
        found = compile_xpath(expr)(root)  # as rules' XPath are compiled
        out.append([etree.tostring(x) if isinstance(x, etree._Element) else str(x) for x in found]
                   if isinstance(found, list) else found)
    return out


def test_lxmls_exslt_regexps_use_the_seeded_patterns(compiles: list[tuple[str, int]]) -> None:
    plain = _evaluate()
    patterns = regex_programs.rule_patterns([{"select": x} for x in XPATHS])
    assert len(patterns) == len(XPATHS)
    assert len(compiles) == len(XPATHS)
    re.purge()
    _seeded(patterns)
    compiles.clear()
    assert _evaluate() == plain
    assert compiles == []
    assert plain[1] == [b"<v n=\"x\">aBc</v>", b"<v n=\"+7\">abc</v>"]


@pytest.mark.parametrize(("xpath", "found"), [
    ("not(re:test(@port, '^\\s*[+-]?[0-9]+$'))", [("^\\s*[+-]?[0-9]+$", UNICODE)]),
    ("re:test(concat(@a, ',', 'b)'), 'x,(y)', 'i')", [("x,(y)", UNICODE | IGNORECASE)]),
    ("re:test(@a, \"a'b\", \"\") or re:test(@b, 'c')", [("a'b", UNICODE), ("c", UNICODE)]),
    ("re:replace(@a, '[a-z]', 'gi', '')", [("[a-z]", UNICODE | IGNORECASE)]),
    ("re:match(@a, '(x)(y)')[2]", [("(x)(y)", UNICODE)]),
    ("re:test(@a, $pattern)", []),
    ("re:test(@a, 'p', @flags)", [("p", UNICODE), ("p", UNICODE | IGNORECASE)]),
    ("re:test(substring(@a, 1, 3), 'q'", [("q", UNICODE)]),
    ("@re:test", []),
])
def test_the_patterns_of_an_xpath_are_its_literal_ones(xpath: str, found: list[tuple[str, int]]) -> None:
    assert list(regex_programs.exslt_patterns(xpath)) == found


def test_rule_patterns_read_every_text_of_a_body_but_its_examples() -> None:
    body = {"select": "/domain[re:test(@a, 's')]", "when": "re:test(@b, 'w')", "message": "{re:replace(@c, 'm', '', '')}",
            "test": [{"xpath": "re:test(@d, 't')"}], "examples": {"invalid": ["<x y=\"re:test(@e, 'no')\"/>"]}}
    assert regex_programs.rule_patterns([body, body]) == [(p, UNICODE) for p in ("s", "w", "m", "t")]


def test_domlints_own_patterns_are_lazy_and_listed() -> None:
    from domlint import domain, machine, numbers, predicates

    for lazy in (machine._I440FX, domain._DISK_NAME, numbers._DIRECT, numbers._LAST_TEST, predicates._SIMPLE_VALUE):
        assert isinstance(lazy, LazyPattern)
        assert (lazy._args[0], 0) in regex_programs.own_patterns()


@pytest.mark.parametrize("target", ["1.2.8", "9.0"])
def test_every_pattern_of_the_built_in_pack_is_kept(target: str) -> None:
    rules = engine.load_engine(target=target).rules  # (from the session's rule cache, once another test built it)
    patterns = [*regex_programs.rule_patterns(r.body for r in rules), *regex_programs.own_patterns()]
    stored = regex_programs.stored(patterns)
    assert stored is not None
    assert [tuple(prog[:2]) for prog in _programs(stored)[1]] == list(dict.fromkeys(patterns))
    assert len([p for p in patterns if p[1] == UNICODE]) > 20


REGEX_RULE = """\
rules:
  - id: serial-odd-characters
    summary: a disk serial holds only plain characters
    severity: warning
    stage: parse
    select: /domain/devices/disk/serial[re:test(., '[^A-Za-z0-9_]{2}Q?$')]
    message: "serial {.} has odd characters"
    hint: use letters and digits
    examples:
      invalid: [<disk type='file'><target dev='vda'/><serial>a%%</serial></disk>]
      valid: [<disk type='file'><target dev='vda'/><serial>a1</serial></disk>]
"""


def test_a_pack_read_from_the_cache_seeds_its_patterns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      compiles: list[tuple[str, int]]) -> None:
    monkeypatch.setenv("DOMLINT_CACHE_DIR", str(tmp_path / "cache"))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "site.yaml").write_text(REGEX_RULE)
    past = time.time_ns() - 60 * 1_000_000_000
    os.utime(rules / "site.yaml", ns=(past, past))
    engine.load_engine([rules], builtin=False)  # built, and stored with its programs
    key = (str, "[^A-Za-z0-9_]{2}Q?$", UNICODE)
    re.purge()  # a new process
    seeds: list[int] = []
    real_seed = regex_programs.seed
    monkeypatch.setattr(regex_programs, "seed", lambda entry: seeds.append(real_seed(entry)) or seeds[-1])
    compiles.clear()
    pack = engine.load_engine([rules], builtin=False)  # read back
    assert seeds and seeds[0] > 1
    assert key in re._cache  # type: ignore[attr-defined]
    doc = etree.fromstring("<domain><devices><disk><serial>x%%</serial></disk><disk><serial>ok</serial></disk>"
                           "</devices></domain>")
    assert [e.text for e in compile_xpath(pack.rules[0].select)(doc)] == ["x%%"]
    assert ("[^A-Za-z0-9_]{2}Q?$", UNICODE) not in compiles


def test_a_pattern_re_warns_about_is_left_to_re_so_each_run_warns_once(compiles: list[tuple[str, int]]) -> None:
    nested = "^[[:alpha:]]+$"  # a FutureWarning: "Possible nested set"
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        stored = regex_programs.stored([(nested, UNICODE), (PATTERNS[0][0], UNICODE)])
    assert not said, "building the pack warns nothing: the compile a run makes does, once"
    assert stored is not None and regex_programs.seed([stored]) == 1
    re.purge()
    assert regex_programs.seed([stored]) == 1
    with pytest.warns(FutureWarning, match="nested set"):
        re.compile(nested, UNICODE)
    assert (nested, UNICODE) in compiles
