"""`domlint rules list|show|test`, `domlint normalize`, and help with examples on every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO, USER_RULE, run_cli

from domlint.engine import load_engine


def test_rules_list_names_every_rule() -> None:
    engine = load_engine()
    proc = run_cli("rules", "list")
    assert proc.returncode == 0
    rows = proc.stdout.splitlines()[1:]
    assert [r.split()[0] for r in rows] == [r.id for r in engine.rules]
    row = next(r for r in rows if r.startswith("disk-ide-readonly "))
    assert "error" in row and engine.by_id["disk-ide-readonly"].summary in row
    assert "[present: drive, drive-readonly]" in row
    listed = json.loads(run_cli("rules", "list", "--format", "json").stdout)
    entry = next(e for e in listed if e["id"] == "disk-ide-readonly")
    assert entry["caps"] == {"present": ["drive", "drive-readonly"]} and entry["severity"] == "error"


def test_rules_list_with_user_rules(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(USER_RULE)
    proc = run_cli("rules", "list", "--rules", str(tmp_path))
    assert any(line.startswith("disk-needs-serial ") and "warning" in line for line in proc.stdout.splitlines())


def test_rules_show_prints_the_whole_rule() -> None:
    proc = run_cli("rules", "show", "disk-ide-readonly")
    assert proc.returncode == 0
    header, inherited, body = proc.stdout.split("\n", 2)
    assert header.startswith("# ") and "disk.yaml:" in header
    assert inherited == "# libvirt releases (the file's range): {'before': '9.0'}"
    shown = yaml.safe_load(body)
    loaded = load_engine().by_id["disk-ide-readonly"].body
    assert shown == [{k: v for k, v in loaded.items() if k != "libvirt"}] and loaded["libvirt"] == {"before": "9.0"}
    assert shown[0]["examples"]["invalid"] and shown[0]["examples"]["valid"]


def test_rules_show_unknown_id_suggests() -> None:
    proc = run_cli("rules", "show", "disk-ide-readonli")
    assert proc.returncode == 2 and "did you mean disk-ide-readonly" in proc.stderr


def test_rules_test_builtin_pack_passes() -> None:
    proc = run_cli("rules", "test")
    assert proc.returncode == 0, proc.stdout
    engine = load_engine()
    total = sum(len(r.body["examples"][k]) for r in engine.rules for k in ("invalid", "valid"))
    assert f"{total} examples of {len(engine.rules)} rules: {total} passed, 0 failed" in proc.stderr


def test_rules_test_user_dir_passes_and_fails(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "serial.yaml").write_text(USER_RULE)
    proc = run_cli("rules", "test", "-v", str(good))
    assert proc.returncode == 0
    assert "2 examples of 1 rules: 2 passed, 0 failed" in proc.stderr
    assert "ok disk-needs-serial/invalid[0]" in proc.stdout
    # An invalid example that does not fire and a valid one that does: both reported, exit 1.
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "serial.yaml").write_text(USER_RULE.replace("<target dev='vda'/></disk>]", "<target dev='vda'/>"
                                                        "<serial>2</serial></disk>]", 1)
                                     .replace("<serial>1</serial></disk>]", "</disk>]"))
    proc = run_cli("rules", "test", str(bad))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines == [
        f"{bad / 'serial.yaml'}:2: FAIL disk-needs-serial/invalid[0]: the rule did not fire",
        f"{bad / 'serial.yaml'}:2: FAIL disk-needs-serial/valid[0]: the rule fired: disk vda has no <serial>",
    ]
    assert "0 passed, 2 failed" in proc.stderr


def test_rules_test_broken_rule_file_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(USER_RULE.replace("severity: warning", "severity: loud"))
    proc = run_cli("rules", "test", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{tmp_path / 'broken.yaml'}:4: rule disk-needs-serial, field severity" in proc.stderr


def test_normalize_prints_and_marks_defaults(tmp_path: Path) -> None:
    guest = tmp_path / "g.xml"
    guest.write_text("<domain type='kvm'><name>a</name><memory>1024</memory>\n<os><type>hvm</type></os><devices>\n"
                     "<disk><source file='/a'/><target dev='hdb'/></disk></devices></domain>\n")
    proc = run_cli("normalize", str(guest))
    assert proc.returncode == 0, proc.stderr
    from lxml import etree

    root = etree.fromstring(proc.stdout.encode())
    disk = root.find("devices/disk")
    assert (disk.get("type"), disk.get("device"), disk.find("target").get("bus")) == ("file", "disk", "ide")
    assert root.find("os/type").get("arch") == "x86_64"
    assert root.find("devices/controller[@type='ide']") is not None
    ide = root.find("devices/controller[@type='ide']")
    assert ide.getprevious().tag is etree.Comment and "added" in ide.getprevious().text
    assert "defaults filled in" in disk.getprevious().text and "type='file'" in disk.getprevious().text
    assert "defaults filled in: bus='ide'" in disk.find("target").getprevious().text
    # The marks are only comments: without them the same tree remains.
    plain = run_cli("normalize", "--no-marks", str(guest)).stdout
    assert "<!--" not in plain
    stripped = etree.fromstring(proc.stdout.encode())
    for c in list(stripped.iter(etree.Comment)):
        c.getparent().remove(c)
    etree.indent(stripped)
    assert etree.tostring(stripped) == etree.tostring(etree.fromstring(plain.encode()))


def test_normalize_bad_input_is_exit_2(tmp_path: Path) -> None:
    guest = tmp_path / "g.xml"
    guest.write_text("<domain>\n<name>\n</domain>\n")
    proc = run_cli("normalize", str(guest))
    assert proc.returncode == 2 and f"{guest}:3: not well-formed" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", [[], ["check"], ["rules"], ["rules", "list"], ["rules", "show"],
                                     ["rules", "test"], ["normalize"]])
def test_every_command_has_help_with_examples(command: list[str]) -> None:
    proc = run_cli(*command, "--help")
    assert proc.returncode == 0
    assert "examples:\n  domlint " in proc.stdout


def test_no_command_prints_help_to_stderr() -> None:
    proc = run_cli()
    assert proc.returncode == 2 and proc.stdout == "" and "examples:" in proc.stderr


def test_readme_example_rule_is_a_real_rule() -> None:
    # The README shows a rule: it must be the built-in one, not a drifting copy.
    readme = (REPO / "README.md").read_text()
    block = readme.split("```yaml\n- id: disk-ide-readonly", 1)[1].split("```", 1)[0]
    shown = yaml.safe_load("- id: disk-ide-readonly" + block)[0]
    real = load_engine().by_id["disk-ide-readonly"].body
    for key in ("summary", "severity", "stage", "select", "when", "caps", "message", "hint"):
        assert shown[key] == real[key], key
