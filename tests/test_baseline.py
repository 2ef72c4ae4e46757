"""Baselines: record today's findings, then report only new ones, keyed on path, rule and device name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_cli

BAD = REPO / "examples" / "guest-bad.xml"
GOOD = REPO / "examples" / "guest-good.xml"


def _setup(tmp_path: Path) -> Path:
    guests = tmp_path / "guests"
    guests.mkdir()
    shutil.copy(BAD, guests / "web01.xml")
    shutil.copy(GOOD, guests / "db01.xml")
    return tmp_path


def test_write_then_only_new_findings(tmp_path: Path) -> None:
    root = _setup(tmp_path)
    proc = run_cli("check", "--write-baseline", "baseline.json", "guests", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "wrote 3 finding(s)" in proc.stderr
    doc = json.loads((root / "baseline.json").read_text())
    assert {(e["path"], e["rule"], e["element"]) for e in doc["findings"]} == {
        ("guests/web01.xml", "disk-io-native-cache", "/domain/devices/disk[vda]"),
        ("guests/web01.xml", "disk-ide-readonly", "/domain/devices/disk[hdb]"),
        ("guests/web01.xml", "disk-lun-not-block", "/domain/devices/disk[sda]"),
    }
    proc = run_cli("check", "--baseline", "baseline.json", "guests", cwd=root)
    assert (proc.returncode, proc.stdout) == (0, "")
    # A new problem in the clean guest is reported; the known ones are not.
    db = root / "guests" / "db01.xml"
    db.write_text(db.read_text().replace("</devices>", "<disk type='file' device='disk'><source file='/x'/>"
                                                       "<target dev='hdc'/><readonly/></disk></devices>"))
    proc = run_cli("check", "--baseline", "baseline.json", "guests", cwd=root)
    assert proc.returncode == 1
    assert [line.split(" [")[1].split("]")[0] for line in proc.stdout.splitlines() if " [" in line] == [
        "disk-ide-readonly"]
    assert "guests/db01.xml" in proc.stdout and "web01" not in proc.stdout


def test_baseline_ignores_line_moves_but_not_new_elements(tmp_path: Path) -> None:
    root = _setup(tmp_path)
    run_cli("check", "--write-baseline", "baseline.json", "guests", cwd=root)
    web = root / "guests" / "web01.xml"
    web.write_text(web.read_text().replace("<devices>", "<devices>\n\n\n\n\n"))
    proc = run_cli("check", "--baseline", str(root / "baseline.json"), str(web), cwd=REPO)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout
    # A second read-only IDE disk is a new element, so a new finding.
    web.write_text(web.read_text().replace("</devices>", "<disk type='file' device='disk'><source file='/y'/>"
                                                         "<target dev='hdd'/><readonly/></disk></devices>"))
    proc = run_cli("check", "--format", "json", "--baseline", "baseline.json", "guests", cwd=root)
    found = json.loads(proc.stdout)["findings"]
    assert [(f["rule_id"], f["xpath"]) for f in found] == [("disk-ide-readonly", "/domain/devices/disk[4]")]


def test_fixed_findings_are_counted(tmp_path: Path) -> None:
    root = _setup(tmp_path)
    run_cli("check", "--write-baseline", "baseline.json", "guests", cwd=root)
    web = root / "guests" / "web01.xml"
    web.write_text(web.read_text().replace("<readonly/>", ""))
    proc = run_cli("check", "--baseline", "baseline.json", "guests", cwd=root)
    assert proc.returncode == 0
    assert "1 baseline entry no longer found" in proc.stderr


@pytest.mark.parametrize(("content", "line", "message"), [
    (None, None, "cannot read baseline"),
    ('{"domlint-baseline": 1,\n "findings": [\n}', 3, "baseline is not valid JSON"),
    ('{"findings": []}', 1, "not a domlint baseline"),
    ('{"domlint-baseline": 1, "findings": [{"path": "a"}]}', None, "baseline entry 1 lacks"),
])
def test_broken_baseline_is_exit_2(content: str | None, line: int | None, message: str, tmp_path: Path) -> None:
    root = _setup(tmp_path)
    base = root / "baseline.json"
    if content is not None:
        base.write_text(content)
    proc = run_cli("check", "--baseline", str(base), "guests", cwd=root)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    where = f"{base}:{line}: " if line else f"{base}: "
    assert where + message in proc.stderr, proc.stderr


def test_baseline_and_write_baseline_exclude_each_other(tmp_path: Path) -> None:
    proc = run_cli("check", "--baseline", "a.json", "--write-baseline", "b.json", str(BAD), cwd=tmp_path)
    assert proc.returncode == 2 and "not allowed with" in proc.stderr
