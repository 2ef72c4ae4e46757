"""Everyday switches of ruff and Semgrep users: --exit-zero, --statistics, --output-file, and the
per-line and whole-file suppressions, where one unknown id no longer voids a comment."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO, run_cli

BAD = REPO / "examples" / "guest-bad.xml"
GOOD = REPO / "examples" / "guest-good.xml"
TEXT = BAD.read_text()
LUN = "    <disk type='file' device='lun'>"


def _ids(proc) -> list[tuple[str, int]]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return [(f["rule_id"], f["line"]) for f in json.loads(proc.stdout)["findings"]]


def test_exit_zero_reports_but_exits_0(tmp_path: Path) -> None:
    proc = run_cli("check", "--exit-zero", str(BAD))
    assert proc.returncode == 0, proc.stderr
    assert "error [disk-ide-readonly]" in proc.stdout and "3 error(s)" in proc.stderr
    # An unusable input still says so.
    assert run_cli("check", "--exit-zero", str(tmp_path / "missing.xml")).returncode == 2


def test_statistics_counts_each_rule(tmp_path: Path) -> None:
    twice = tmp_path / "a.xml"
    twice.write_text(TEXT)
    proc = run_cli("check", "--statistics", str(BAD), str(twice))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith("2  disk-") for line in lines), proc.stdout
    assert any("disk-ide-readonly" in line and "error" in line for line in lines)
    doc = json.loads(run_cli("check", "--statistics", "--format", "json", str(BAD)).stdout)
    assert {r["rule"]: r["count"] for r in doc} == {"disk-ide-readonly": 1, "disk-lun-not-block": 1,
                                                    "disk-io-native-cache": 1}
    wrong = run_cli("check", "--statistics", "--format", "sarif", str(BAD))
    assert wrong.returncode == 2 and "--statistics" in wrong.stderr and "Traceback" not in wrong.stderr


def test_output_file_holds_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    proc = run_cli("check", "--format", "sarif", "--output-file", str(out), str(BAD))
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(json.loads(out.read_text())["runs"][0]["results"]) == 3
    assert "3 error(s)" in proc.stderr
    bad = run_cli("check", "-o", str(tmp_path / "no" / "such" / "dir.txt"), str(BAD))
    assert bad.returncode == 2 and "cannot write the report" in bad.stderr and "Traceback" not in bad.stderr


def test_ignore_next_covers_one_line_only(tmp_path: Path) -> None:
    path = tmp_path / "g.xml"
    # Before the <disk>: the disk's own finding (on its line) goes.
    path.write_text(TEXT.replace(LUN, "    <!-- domlint: ignore-next disk-lun-not-block - scratch disk -->\n" + LUN))
    found = _ids(run_cli("check", "--format", "json", str(path)))
    assert [i for i, _ in found] == ["disk-io-native-cache", "disk-ide-readonly"]
    # Before a child of the <disk>: a finding on the disk's line is another line, so it stays.
    path.write_text(TEXT.replace("      <target dev='sda'", "      <!-- domlint: ignore-next disk-lun-not-block - "
                                 "scratch -->\n      <target dev='sda'"))
    found = _ids(run_cli("check", "--format", "json", "--report-unused-suppressions", str(path)))
    assert ("disk-lun-not-block", 22) in found and ("domlint-suppression-unused", 24) in found


def test_ignore_file_covers_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "g.xml"
    path.write_text(TEXT.replace("  <devices>", "  <!-- domlint: ignore-file disk-ide,disk-lun - lab guest -->\n  <devices>"))
    assert [i for i, _ in _ids(run_cli("check", "--format", "json", str(path)))] == ["disk-io-native-cache"]
    # Naming no rule: every rule, the reason still required.
    path.write_text("<!-- domlint: ignore-file - a fixture of broken guests -->\n" + TEXT)
    proc = run_cli("check", "--format", "json", str(path))
    assert proc.returncode == 0 and _ids(proc) == []
    path.write_text("<!-- domlint: ignore-file -->\n" + TEXT)
    found = [i for i, _ in _ids(run_cli("check", "--format", "json", str(path)))]
    assert "domlint-suppression-reason" in found and "disk-ide-readonly" in found


def test_unknown_id_is_reported_and_the_known_ones_still_apply(tmp_path: Path) -> None:
    path = tmp_path / "g.xml"
    path.write_text(TEXT.replace(LUN, "    <!-- domlint: ignore disk-lun-not-block,no-such-rule - scratch -->\n" + LUN))
    proc = run_cli("check", "--format", "json", str(path))
    found = _ids(proc)
    assert "disk-lun-not-block" not in [i for i, _ in found]
    invalid = [f for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == "domlint-suppression-invalid"]
    assert len(invalid) == 1 and "no-such-rule" in invalid[0]["message"]
    assert "disk-lun-not-block" not in invalid[0]["message"] and invalid[0]["line"] == 22
