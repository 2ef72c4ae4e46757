"""Damaged rule files always end in located errors and exit 2: never a traceback, never built-ins silently off."""

from __future__ import annotations

import hashlib
import json
import random
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import REPO, USER_RULE, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domlint import cache, rulepack
from domlint.engine import load_engine
from domlint.rulepack import MAX_YAML_DEPTH, RuleErrors

RULE_FILES = sorted((REPO / "rules").glob("*.yaml"))
SCHEMA = json.loads((REPO / "schema" / "rule.schema.json").read_text())
REQUIRED = SCHEMA["$defs"]["rule"]["required"]
STRING_FIELDS = ("id", "summary", "severity", "stage", "select", "hint")
GOOD = REPO / "examples" / "guest-good.xml"
BAD = REPO / "examples" / "guest-bad.xml"
# A marker a constructor tag would create if YAML tags could run code.
PWNED = Path(tempfile.gettempdir()) / "domlint-yaml-tag-ran"

XPATH_GARBAGE = ("/domain[", "//[", "foo(", "$undefined", "1 +", "@@x", "dl:nope()", "", "domain/[1]",
                 "re:test(", "/domain/devices/disk[@type='file'", "count()", ")")
BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))
BOMB = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + BOMB


# ---------------------------------------------------------------- mutations that must break a file

def _rules(doc: dict) -> list[dict]:
    return [r for r in doc["rules"] if isinstance(r, dict)]


def _drop_required(doc: dict, rng: random.Random) -> None:
    rule = rng.choice(_rules(doc))
    del rule[rng.choice([k for k in REQUIRED if k in rule])]


def _rename_key(doc: dict, rng: random.Random) -> None:
    rule = rng.choice(_rules(doc))
    key = rng.choice(sorted(rule))
    rule[rng.choice((key + "s", key.upper(), "x-" + key, key.replace("e", "3") + "_"))] = rule.pop(key)


def _retype(doc: dict, rng: random.Random) -> None:
    rule = rng.choice(_rules(doc))
    rule[rng.choice(STRING_FIELDS)] = rng.choice((7, 1.5, True, None, [], ["a"], {}, {"a": 1}))


def _xpath_garbage(doc: dict, rng: random.Random) -> None:
    rule = rng.choice(_rules(doc))
    field = rng.choice(("select", "when", "message"))
    garbage = rng.choice(XPATH_GARBAGE)
    if field == "message":
        garbage = "{" + (garbage or "@@") + "}"
    rule[field] = garbage


def _unknown_capability(doc: dict, rng: random.Random) -> None:
    rule = rng.choice(_rules(doc))
    name = rng.choice(("warp-drive", "Drive", "drive ", "", "kvm,drive"))
    if rng.random() < 0.5:
        rule["caps"] = {rng.choice(("present", "absent", "lacking_any")): [name]}
    else:
        rule["needs"] = [name]
        rule.setdefault("feature", "a feature")


def _unbalanced_placeholder(doc: dict, rng: random.Random) -> None:
    rule = rng.choice(_rules(doc))
    field = rng.choice(("message", "hint"))
    text = str(rule.get(field) or "text")
    rule[field] = rng.choice(("{" + text, text + " {", text + "}", "} " + text + " {@id}", "{{@id}",
                              "{$bogus} " + text, "{$value} " + text if not rule.get("test") else "{"))


def _duplicate_id(doc: dict, rng: random.Random) -> None:
    doc["rules"].append(dict(rng.choice(_rules(doc))))


def _top_level(doc: dict, rng: random.Random) -> None:
    choice = rng.randrange(3)
    if choice == 0:
        doc["rules"] = rng.choice((None, "rules", 5, {"id": "x"}, []))
    elif choice == 1:
        doc["rulez"] = doc.pop("rules")
    else:
        doc["extra"] = True


DATA_MUTATIONS = (_drop_required, _rename_key, _retype, _xpath_garbage, _unknown_capability,
                  _unbalanced_placeholder, _duplicate_id, _top_level)


def _key_lines(text: str) -> list[int]:
    """Indexes of lines that start a mapping key in block style (not a list item, not inside a scalar)."""
    node = yaml.compose(text)
    out = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                line = text.splitlines()[k.start_mark.line]
                if not n.flow_style and line.strip().startswith(k.value + ":"):
                    out.add(k.start_mark.line)
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return sorted(out)


def _tab_indent(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    i = rng.choice([i for i in _key_lines(text) if lines[i].startswith(" ")])
    lines[i] = "\t" + lines[i].lstrip(" ")
    return "".join(lines)


def _duplicate_key_line(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    i = rng.choice(_key_lines(text))
    key = lines[i].split(":", 1)[0]
    lines.insert(i + 1, f"{key}: again\n")
    return "".join(lines)


def _unclosed_quote(text: str, rng: random.Random) -> str:
    return text + rng.choice(("  - id: 'never closed\n", '  - id: "never closed\n', "  - {id: x\n", "  - [x\n"))


def _alias_bomb(text: str, rng: random.Random) -> str:
    return BOMB + text


def _python_tag(text: str, rng: random.Random) -> str:
    tag = rng.choice((f"!!python/object/apply:os.system ['touch {PWNED}']",
                      f"!!python/object/new:pathlib.Path ['{PWNED}']", "!!python/name:os.system", "!!binary AAAA",
                      "!custom x"))
    lines = text.splitlines(keepends=True)
    i = rng.choice(_key_lines(text))
    key = lines[i].split(":", 1)[0]
    lines[i] = f"{key}: {tag}\n"
    return "".join(lines)


def _deep_nesting(text: str, rng: random.Random) -> str:
    depth = rng.choice((MAX_YAML_DEPTH + 1, 1000, 100_000))
    return text + "deep: " + "[" * depth + "]" * depth + "\n"


def _bad_utf8(text: str, rng: random.Random) -> str:
    return text  # the bytes are broken after encoding; see _encode


TEXT_MUTATIONS = (_tab_indent, _duplicate_key_line, _unclosed_quote, _alias_bomb, _python_tag, _deep_nesting,
                  _bad_utf8)


def _encode(text: str, mutation: object, rng: random.Random) -> bytes:
    data = text.encode()
    if mutation is _bad_utf8:
        at = rng.randint(0, len(data))
        data = data[:at] + rng.choice((b"\xff", b"\xc3(", b"\xed\xa0\x80")) + data[at:]
    return data


def _source(index: int) -> tuple[str, bool]:
    """A rule file's text and whether it is a user file (loaded beside the built-ins)."""
    if index % 3 == 0:
        return USER_RULE, True
    return RULE_FILES[index % len(RULE_FILES)].read_text(), False


def _load(data: bytes, user: bool) -> tuple[Path, RuleErrors | None]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rules.yaml"
        path.write_bytes(data)
        try:
            load_engine([tmp], builtin=user)
        except RuleErrors as exc:
            return path, exc
        return path, None


def _assert_located(path: Path, exc: RuleErrors) -> None:
    """Every error is one line: this file, a line number, a message (a duplicate id may name the built-in too)."""
    assert exc.errors
    for e in exc.errors:
        text = str(e)
        assert "\n" not in text and len(text) < 600, text
        assert re.match(re.escape(str(path)) + r":\d+: \S", text), text


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(index=st.integers(0, 10_000), which=st.integers(0, 10_000), rng=st.randoms(use_true_random=False))
def test_broken_rule_files_always_end_in_located_errors(index: int, which: int, rng: random.Random) -> None:
    text, user = _source(index)
    mutations = DATA_MUTATIONS + TEXT_MUTATIONS
    mutation = mutations[which % len(mutations)]
    if mutation in DATA_MUTATIONS:
        doc = yaml.safe_load(text)
        mutation(doc, rng)  # type: ignore[operator]
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    else:
        text = mutation(text, rng)  # type: ignore[operator]
    path, exc = _load(_encode(text, mutation, rng), user)
    assert exc is not None, f"{mutation.__name__} left a loadable rule file"  # type: ignore[attr-defined]
    _assert_located(path, exc)
    assert not PWNED.exists()


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(index=st.integers(0, 10_000), rng=st.randoms(use_true_random=False))
def test_any_damage_loads_or_fails_cleanly(index: int, rng: random.Random) -> None:
    data = bytearray(_source(index)[0].encode())
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        kind, at = rng.randrange(3), rng.randrange(len(data))
        if kind == 0:
            del data[at:]
        elif kind == 1:
            data[at] = rng.randrange(256)
        else:
            data[at:at] = rng.choice((b"{", b"}", b"[", b"&a ", b"*a", b"!!", b"\t", b"\n- ", b": ", b"'", b"\x00"))
    path, exc = _load(bytes(data), index % 3 == 0)
    if exc is not None:
        _assert_located(path, exc)


def test_yaml_limits_and_duplicate_keys(tmp_path: Path) -> None:
    cases = {
        "bomb": (BOMB + "rules: *l8\n", ":6: not valid YAML: expands to more than"),
        "deep": ("rules: " + "[" * 100_000 + "]" * 100_000 + "\n", ":1: not valid YAML: nested more than"),
        "cycle": ("rules: &a [*a]\n", ":1: not valid YAML: an alias refers to the node that contains it"),
        "dupe": (USER_RULE.replace("    severity: warning\n", "    severity: warning\n    severity: error\n"),
                 ":5: not valid YAML: duplicate key 'severity' (first on line 4)"),
    }
    for name, (text, expected) in cases.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "r.yaml").write_text(text)
        _, exc = _load((tmp_path / name / "r.yaml").read_bytes(), True)
        assert exc is not None and expected in str(exc.errors[0]), (name, exc)


def test_unbalanced_brace_before_a_placeholder_is_an_error(tmp_path: Path) -> None:
    text = USER_RULE.replace('"disk {target/@dev} has no <serial>"', '"disk } {target/@dev} has no <serial>"')
    _, exc = _load(text.encode(), True)
    assert exc is not None and "unbalanced brace in message" in str(exc)


def test_long_offending_values_are_cut_in_messages(tmp_path: Path) -> None:
    text = "rules:\n  - " + json.dumps({"id": "x" * 5000}) + "\n"
    _, exc = _load(text.encode(), True)
    assert exc is not None
    assert all(len(str(e)) < 600 for e in exc.errors)


def test_invalid_utf8_names_its_line(tmp_path: Path) -> None:
    _, exc = _load(USER_RULE.encode().replace(b"warning", b"warn\xffing"), True)
    assert exc is not None and re.search(r"rules\.yaml:4: not UTF-8", str(exc))


# ---------------------------------------------------------------- the command line

def test_cli_broken_user_rules_exit_2_with_one_line_per_error(tmp_path: Path) -> None:
    rng = random.Random(3)
    rules = tmp_path / "rules"
    rules.mkdir()
    for mutation in TEXT_MUTATIONS:
        name = mutation.__name__.strip("_")
        (rules / f"{name}.yaml").write_bytes(_encode(mutation(USER_RULE.replace("disk-needs-serial", name.replace("_", "-")),
                                                              rng), mutation, rng))
    res = run_cli("check", "--no-config", "--rules", str(rules), str(BAD))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stdout == ""  # no report that could pass for a clean run
    lines = res.stderr.splitlines()
    for mutation in TEXT_MUTATIONS:
        path = str(rules / f"{mutation.__name__.strip('_')}.yaml")
        assert any(re.match(re.escape(path) + r":\d+: ", line) for line in lines), (path, lines)
    assert all(re.match(re.escape(str(rules)) + r"/\w+\.yaml:\d+: ", line) for line in lines), lines


def test_broken_user_rules_never_leave_the_builtins_silently_off(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "site.yaml").write_text(USER_RULE)
    ok = run_cli("check", "--no-config", "--format", "json", "--rules", str(rules), str(BAD))
    found = {f["rule_id"] for f in json.loads(ok.stdout)["findings"]}
    assert ok.returncode == 1 and "disk-ide-readonly" in found and "disk-needs-serial" in found, found
    # The same file broken, given on the command line and through configuration: the run fails, loudly.
    (rules / "site.yaml").write_text(USER_RULE.replace("severity: warning", "severity: [warning"))
    for args in (("--no-config", "--rules", str(rules)),
                 ("--config", str(_config(tmp_path, rules)))):
        res = run_cli("check", *args, str(BAD), str(GOOD))
        assert res.returncode == 2, res
        assert res.stdout == "" and "Traceback" not in res.stderr
        assert f"{rules / 'site.yaml'}:" in res.stderr


def _config(tmp_path: Path, rules: Path) -> Path:
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text(f'[tool.domlint]\nrules = ["{rules}"]\n')
    return cfg


def test_editing_a_cached_user_rule_file_is_noticed(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    site = rules / "site.yaml"
    site.write_text(USER_RULE)
    env = {"DOMLINT_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):  # the second run reads the cache
        res = run_cli("check", "--no-config", "--rules", str(rules), str(GOOD), env=env)
        assert res.returncode == 0 and "disk-needs-serial" in res.stdout
    assert list((tmp_path / "cache").glob("rules-*.bin"))
    site.write_text(USER_RULE.replace("stage: parse", "stage: parse\n    stage: parse"))
    res = run_cli("check", "--no-config", "--rules", str(rules), str(GOOD), env=env)
    assert res.returncode == 2 and "duplicate key 'stage'" in res.stderr
    site.write_text(USER_RULE.replace("severity: warning", "severity: error"))
    res = run_cli("check", "--no-config", "--rules", str(rules), str(GOOD), env=env)
    assert res.returncode == 1 and "error [disk-needs-serial]" in res.stdout


@pytest.mark.parametrize("damage", [[("x", 1)], [({}, 1)], [], "{", [({"id": 5}, "a")], None])
def test_damaged_cache_entries_are_validated_again(tmp_path: Path, damage: object) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "site.yaml").write_text(USER_RULE)
    load_engine([rules])
    key = hashlib.sha256(rulepack._stamp() + USER_RULE.encode()).hexdigest()
    assert cache.read("rules", key) is not None
    if damage is None:
        (Path(str(cache.cache_dir())) / cache._file("rules", key)).write_bytes(b"\x00not marshal data")
    else:
        cache.write("rules", key, damage)
    engine = load_engine([rules])
    assert "disk-needs-serial" in engine.by_id and "disk-ide-readonly" in engine.by_id
