"""The on-disk cache: used when nothing changed, rebuilt when anything it was built from did."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, USER_RULE

from domlint import cache, engine, rulepack
from domlint.errors import InputError
from domlint.host import load as load_host
from domlint.rulepack import RuleErrors

SMALL = REPO / "examples" / "guest-good.xml"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("DOMLINT_CACHE_DIR", str(d))
    return d


def _settled(path: Path, text: str, age_s: int = 60) -> None:
    """Write path as an edit made age_s seconds ago (the cache keeps nothing built from a file changed just now)."""
    path.write_text(text)
    past = time.time_ns() - age_s * 1_000_000_000
    os.utime(path, ns=(past, past))


def test_a_warm_run_imports_no_yaml_jsonschema_emitter_or_process_pool(tmp_path: Path) -> None:
    # Under 9.0: a 1.2.8 check replays the emitter's address assignment, a rule input (rules/assignment.yaml).
    code = ("import sys\nfrom domlint.cli import main\nmain(['check', '--libvirt', '9.0', '-q', sys.argv[1]])\n"
            "print(sorted(m for m in ('yaml', 'jsonschema', 'domlint.cmdline', 'domlint.attach', 'multiprocessing', "
            "'concurrent.futures') if m in sys.modules))")
    env = {**os.environ, "DOMLINT_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    runs = [subprocess.run([sys.executable, "-c", code, str(SMALL)], capture_output=True, text=True, env=env,
                           cwd=tmp_path, check=False) for _ in range(2)]
    assert "'jsonschema'" in runs[0].stdout, runs[0].stderr  # the cold run validated rules and host
    assert runs[1].stdout.strip().splitlines()[-1] == "[]", runs[1].stderr


def test_a_cached_pack_is_not_validated_again(cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settled(tmp_path / "mine.yaml", USER_RULE)
    first = engine.load_engine([tmp_path], builtin=False)
    calls = []
    monkeypatch.setattr(rulepack, "load_raw", lambda *a, **k: calls.append(a) or [])
    second = engine.load_engine([tmp_path], builtin=False)
    assert calls == []
    assert [r.id for r in second.rules] == [r.id for r in first.rules]


def test_an_edited_rule_file_rebuilds_the_pack(cache_dir: Path, tmp_path: Path) -> None:
    rule_file = tmp_path / "mine.yaml"
    _settled(rule_file, USER_RULE, age_s=120)
    (rule,) = engine.load_engine([tmp_path], builtin=False).rules
    _settled(rule_file, USER_RULE.replace(rule.summary, "an edited summary"))
    (edited,) = engine.load_engine([tmp_path], builtin=False).rules
    assert edited.summary == "an edited summary"
    # Broken after being cached: refused on every run, never served from the cache.
    _settled(rule_file, USER_RULE.replace("severity:", "severity: ["), age_s=30)
    for _ in range(2):
        with pytest.raises(RuleErrors):
            engine.load_engine([tmp_path], builtin=False)


def test_an_edited_host_profile_is_read_again(cache_dir: Path, tmp_path: Path) -> None:
    profile = tmp_path / "host.yaml"
    _settled(profile, "name: first\narch: x86_64\n", age_s=120)
    assert load_host(profile).name == "first"
    _settled(profile, "name: second\narch: x86_64\n", age_s=90)
    assert load_host(profile).name == "second"
    _settled(profile, "name: third\narch: 12\n", age_s=60)
    for _ in range(2):
        with pytest.raises(InputError, match="host profile"):
            load_host(profile)


def test_nothing_built_from_a_file_changed_just_now_is_kept(cache_dir: Path, tmp_path: Path) -> None:
    # Another edit in the same clock tick could keep size and time: the entry would go stale.
    source = tmp_path / "s"
    source.write_text("x")
    built = []
    for _ in range(2):
        cache.load("test", [source], lambda: built.append(1) or {"n": len(built)})
    assert len(built) == 2
    _settled(source, "x")
    for _ in range(2):
        cache.load("test", [source], lambda: built.append(1) or {"n": len(built)})
    assert len(built) == 3


def test_an_entry_for_another_key_is_a_miss(cache_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "s"
    _settled(source, "x")
    key = cache.key("test", [source])
    cache.write("test", key, {"built": 1})
    assert cache.read("test", key) == {"built": 1}
    assert cache.read("test", key + "-other") is None
    # A damaged file is a miss too: the value is built again.
    for f in cache_dir.iterdir():
        f.write_bytes(b"\x00garbage")
    assert cache.load("test", [source], lambda: {"built": 2}) == {"built": 2}


def test_caching_off_builds_every_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOMLINT_CACHE_DIR", "")
    source = tmp_path / "s"
    _settled(source, "x")
    built = []
    for _ in range(2):
        cache.load("test", [source], lambda: built.append(1) or {"n": len(built)})
    assert len(built) == 2


@pytest.mark.parametrize("pread", [True, False], ids=["pread", "seek"])
def test_a_split_entry_reads_back_its_value_and_each_string_on_demand(cache_dir: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      pread: bool) -> None:
    if not pread:  # as on a system without os.pread
        monkeypatch.setattr(cache, "_PREAD", None)
    source = tmp_path / "s"
    _settled(source, "x")
    lists: list[list[bytes | None]] = [[b"one", None, b"", b"three"], [b"x" * 5000]]
    built = []

    def build() -> tuple[object, list[list[bytes | None]]]:
        built.append(1)
        return {"head": 1}, lists

    assert cache.load_split("test", [source], build) == ({"head": 1}, lists)  # built, then stored
    value, found = cache.load_split("test", [source], build)
    assert built == [1] and value == {"head": 1}
    assert [list(f) for f in found] == lists
    assert found[0][-1] == b"three" and found[0][1:3] == [None, b""]
    with pytest.raises(IndexError):
        found[0][4]


def test_a_split_entry_replaced_or_damaged_is_read_safely(cache_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "s"
    _settled(source, "x")
    key = cache.key("test", [source])
    cache.write_split("test", key, "old", [[b"a" * 10, b"b" * 10]])
    read = cache.read_split("test", key)
    assert read is not None
    _, (held,) = read
    # Another run stores a new entry under the same key: this run keeps reading the file it opened.
    cache.write_split("test", key, "new", [[b"c" * 3]])
    assert held[1] == b"b" * 10
    (entry,) = cache_dir.iterdir()
    entry.write_bytes(entry.read_bytes()[:-1])  # cut short: a miss, never a wrong string
    assert cache.read_split("test", key) is None
    entry.write_bytes(b"\x00garbage")
    assert cache.read_split("test", key) is None
    assert cache.load_split("test", [source], lambda: ("built", [[b"z"]])) == ("built", [[b"z"]])


def test_a_value_marshal_refuses_leaves_no_file_behind(cache_dir: Path) -> None:
    import datetime

    cache.write("x", "k", {"a": datetime.date(2024, 1, 1)})
    cache.write("x", "k2", {"a": 1})
    assert [f.name for f in cache_dir.iterdir()] == [cache._file("x", "k2")]
