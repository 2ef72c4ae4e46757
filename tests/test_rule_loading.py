"""Broken rule files stop the run with exit 2 and a message naming file, line, rule and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli

GOOD_RULE = """\
  - id: disk-test-rule
    summary: test
    severity: error
    stage: parse
    select: /domain/devices/disk
    message: "disk {target/@dev}"
    hint: fix it
    examples:
      invalid: [<disk/>]
      valid: [<disk/>]
"""



def variant(old: str, new: str) -> str:
    """A rule file holding GOOD_RULE with one piece of text replaced."""
    assert old in GOOD_RULE
    return "rules:\n" + GOOD_RULE.replace(old, new)


HINT = "    hint: fix it\n"
MESSAGE = '"disk {target/@dev}"'

BROKEN = {
    "not-yaml": ("rules:\n  - id: [unclosed\n", "not valid YAML", None),
    "missing-field": (variant(HINT, ""), "hint", "disk-test-rule"),
    "unknown-field": (variant(HINT, HINT + "    colour: red\n"),
                      "colour", "disk-test-rule"),
    "bad-severity": (variant("severity: error", "severity: fatal"),
                     "field severity", "disk-test-rule"),
    "bad-xpath": (variant("select: /domain/devices/disk", "select: /domain/devices/disk[@"),
                  "field select: XPath does not compile", "disk-test-rule"),
    "unknown-cap": (variant(HINT, HINT + "    caps: {absent: [warp-drive]}\n"),
                    "'warp-drive' is not a capability of libvirt 1.2.8", "disk-test-rule"),
    "bad-placeholder": (variant(MESSAGE, '"disk {$colour}"'),
                        "unknown placeholder", "disk-test-rule"),
    "placeholder-without-test": (variant(MESSAGE, '"disk {$value}"'),
                                 "needs a test", "disk-test-rule"),
    "placeholder-not-xpath": (variant(MESSAGE, '"disk {target/@@}"'),
                              "is not an XPath expression", "disk-test-rule"),
    "unknown-xpath-function": (variant("/domain/devices/disk", "/domain/devices/disk[regex(@x)]"),
                               "field select: XPath cannot be evaluated", "disk-test-rule"),
    "empty": ("", "rule file is empty", None),
    "duplicate-builtin-id": (variant("disk-test-rule", "disk-ide-readonly"),
                             "duplicate id", "disk-ide-readonly"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_rule_file(kind: str, tmp_path: Path) -> None:
    text, expected, rule_id = BROKEN[kind]
    (tmp_path / "extra.yaml").write_text(text)
    proc = run_cli("check", "--rules", str(tmp_path), str(REPO / "examples" / "guest-good.xml"))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert expected in proc.stderr
    if kind == "duplicate-builtin-id":
        assert "extra.yaml" in proc.stderr and "rules/disk.yaml" in proc.stderr
    else:
        assert f"{tmp_path / 'extra.yaml'}:" in proc.stderr
    if rule_id:
        assert f"rule {rule_id}" in proc.stderr
    # Every message gives a line number right after the file name.
    first = proc.stderr.splitlines()[0]
    assert first.split(":")[1].isdigit(), first


def test_duplicate_ids_within_one_file(tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text("rules:\n" + GOOD_RULE + GOOD_RULE)
    proc = run_cli("check", "--rules", str(tmp_path), str(REPO / "examples" / "guest-good.xml"))
    assert proc.returncode == 2
    assert "rule disk-test-rule, field id: duplicate id, first defined at" in proc.stderr
    assert ":12:" in proc.stderr  # the second definition's line


def test_schema_error_names_line_of_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(variant("severity: error", "severity: fatal"))
    proc = run_cli("check", "--rules", str(tmp_path), str(REPO / "examples" / "guest-good.xml"))
    assert f"{tmp_path / 'bad.yaml'}:4: rule disk-test-rule, field severity:" in proc.stderr


def test_good_user_rule_is_used(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("rules:\n" + GOOD_RULE)
    proc = run_cli("check", "--rules", str(tmp_path), "--select", "disk-test-rule",
                   str(REPO / "examples" / "guest-good.xml"))
    assert proc.returncode == 1
    assert "[disk-test-rule] disk vda" in proc.stdout


def test_cached_rules_do_not_import_jsonschema(tmp_path: Path) -> None:
    code = (
        "import sys, domlint.engine as e; e.load_engine(); "
        "print('jsonschema' in sys.modules)"
    )
    env = {"DOMLINT_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert first.stdout.strip() == "True", first.stderr
    assert second.stdout.strip() == "False", second.stderr


def test_cache_invalidated_when_rule_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from domlint.rulepack import RuleErrors, load_raw

    monkeypatch.setenv("DOMLINT_CACHE_DIR", str(tmp_path / "cache"))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text("rules:\n" + GOOD_RULE)
    assert [r.id for r in load_raw([rules])] == ["disk-test-rule"]
    (rules / "a.yaml").write_text(variant("severity: error", "severity: fatal"))
    with pytest.raises(RuleErrors):
        load_raw([rules])


def test_a_key_written_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    # YAML would let the second `rules:` silently replace the first.
    from conftest import USER_RULE

    from domlint.rulepack import RuleErrors, load_raw

    (tmp_path / "twice.yaml").write_text("rules:\n" + USER_RULE)
    with pytest.raises(RuleErrors) as exc:
        load_raw([tmp_path], use_cache=False)
    assert str(exc.value) == f"{tmp_path / 'twice.yaml'}:2: not valid YAML: duplicate key 'rules' (first on line 1)"
