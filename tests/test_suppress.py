"""Inline suppressions: a reason is required, they cover an element and its contents, unused ones reported."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO, run_cli

BAD = (REPO / "examples" / "guest-bad.xml").read_text()
IDE_DISK = "    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/web01-seed.img'/>"
LUN_DISK = "    <disk type='file' device='lun'>"


def _guest(tmp_path: Path, before: str, comment: str) -> Path:
    """The bad example with comment inserted on its own line just before the text before."""
    assert before in BAD
    path = tmp_path / "guest.xml"
    path.write_text(BAD.replace(before, f"    {comment}\n{before}", 1))
    return path


def _findings(path: Path, *args: str) -> tuple[int, list[dict]]:
    proc = run_cli("check", "--format", "json", *args, str(path))
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def _ids(findings: list[dict]) -> set[str]:
    return {f["rule_id"] for f in findings}


def test_suppression_with_reason_silences_the_element(tmp_path: Path) -> None:
    guest = _guest(tmp_path, IDE_DISK, "<!-- domlint: ignore disk-ide-readonly - seed image, only read at boot -->")
    code, found = _findings(guest)
    assert _ids(found) == {"disk-io-native-cache", "disk-lun-not-block"}
    assert code == 1
    # Without inline suppressions the comment is just a comment.
    assert "disk-ide-readonly" in _ids(_findings(guest, "--no-inline-suppressions")[1])


def test_suppression_without_reason_is_a_finding_and_suppresses_nothing(tmp_path: Path) -> None:
    guest = _guest(tmp_path, IDE_DISK, "<!-- domlint: ignore disk-ide-readonly -->")
    code, found = _findings(guest)
    assert code == 1
    assert "disk-ide-readonly" in _ids(found)
    reason = next(f for f in found if f["rule_id"] == "domlint-suppression-reason")
    assert (reason["line"], reason["column"], reason["severity"]) == (17, 5, "error")
    assert "disk-ide-readonly" in reason["message"]
    # A dash with nothing after it is no reason either.
    guest = _guest(tmp_path, IDE_DISK, "<!-- domlint: ignore disk-ide-readonly -  -->")
    assert {"disk-ide-readonly", "domlint-suppression-reason"} <= _ids(_findings(guest)[1])
    # --no-inline-suppressions does not read the comment at all.
    assert "domlint-suppression-reason" not in _ids(_findings(guest, "--no-inline-suppressions")[1])


def test_suppression_covers_descendants_but_not_siblings(tmp_path: Path) -> None:
    guest = _guest(tmp_path, "  <devices>", "<!-- domlint: ignore disk-ide-readonly,disk-lun - lab guest, never started -->")
    assert _ids(_findings(guest)[1]) == {"disk-io-native-cache"}
    # On the first disk it covers that disk only.
    first = "    <disk type='file' device='disk'>\n      <driver"
    guest = _guest(tmp_path, first, "<!-- domlint: ignore disk - tested by hand -->")
    assert _ids(_findings(guest)[1]) == {"disk-ide-readonly", "disk-lun-not-block"}
    # Before the root element it covers the whole domain.
    guest = tmp_path / "whole.xml"
    guest.write_text("<!-- domlint: ignore disk - an archived definition -->\n" + BAD)
    assert _findings(guest) == (0, [])


def test_several_rules_and_several_comments(tmp_path: Path) -> None:
    text = BAD.replace(LUN_DISK, "    <!-- a plain comment in between -->\n"
                                 "    <!-- domlint: ignore disk-lun-not-block - scratch -->\n"
                                 "    <!-- domlint: ignore disk-io-native-cache \u2013 not this one -->\n" + LUN_DISK)
    guest = tmp_path / "g.xml"
    guest.write_text(text)
    assert _ids(_findings(guest)[1]) == {"disk-io-native-cache", "disk-ide-readonly"}


def test_unused_suppressions_are_reported_on_request(tmp_path: Path) -> None:
    guest = _guest(tmp_path, LUN_DISK, "<!-- domlint: ignore disk-lun-not-block, disk-ide-readonly - scratch disk -->")
    code, found = _findings(guest)
    assert _ids(found) == {"disk-io-native-cache", "disk-ide-readonly"}
    code, found = _findings(guest, "--report-unused-suppressions")
    unused = [f for f in found if f["rule_id"] == "domlint-suppression-unused"]
    assert len(unused) == 1 and unused[0]["line"] == 22
    assert "disk-ide-readonly" in unused[0]["message"] and "disk-lun-not-block" not in unused[0]["message"]
    assert unused[0]["severity"] == "warning"
    assert code == 1
    # A rule that cannot fire under these capabilities says nothing about its suppression.
    assert "domlint-suppression-unused" not in _ids(
        _findings(guest, "--report-unused-suppressions", "--caps", "drive")[1])
    # Used suppressions are not reported.
    guest = _guest(tmp_path, LUN_DISK, "<!-- domlint: ignore disk-lun-not-block - scratch disk -->")
    assert "domlint-suppression-unused" not in _ids(_findings(guest, "--report-unused-suppressions")[1])


def test_unreadable_and_misplaced_suppressions(tmp_path: Path) -> None:
    guest = _guest(tmp_path, LUN_DISK, "<!-- domlint: ignore disk-warp-drive - typo -->")
    found = _findings(guest)[1]
    invalid = next(f for f in found if f["rule_id"] == "domlint-suppression-invalid")
    assert "disk-warp-drive" in invalid["message"] and invalid["line"] == 22
    assert "disk-lun-not-block" in _ids(found)
    guest = _guest(tmp_path, LUN_DISK, "<!-- domlint: silence disk-lun-not-block - typo -->")
    assert "domlint-suppression-invalid" in _ids(_findings(guest)[1])
    guest = _guest(tmp_path, "  </devices>", "<!-- domlint: ignore disk - nothing follows -->")
    found = _findings(guest, "--report-unused-suppressions")[1]
    assert any(f["rule_id"] == "domlint-suppression-unused" and "no element" in f["message"] for f in found)


def test_double_hyphen_reason_gets_a_clear_parse_error(tmp_path: Path) -> None:
    guest = tmp_path / "g.xml"
    guest.write_bytes(BAD.replace(LUN_DISK, "    <!-- domlint: ignore disk-lun-not-block -- why -->\n" + LUN_DISK).encode())
    proc = run_cli("check", str(guest))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{guest}:22: not well-formed XML" in proc.stderr
    assert "single '-'" in proc.stderr


def test_suppression_findings_can_be_ignored_and_overridden(tmp_path: Path) -> None:
    guest = _guest(tmp_path, IDE_DISK, "<!-- domlint: ignore disk-ide-readonly -->")
    assert "domlint-suppression-reason" not in _ids(_findings(guest, "--ignore", "domlint-suppression")[1])
    (tmp_path / ".domlint.yaml").write_text("severity:\n  domlint-suppression-reason: warning\n")
    found = _findings(guest)[1]
    assert next(f for f in found if f["rule_id"] == "domlint-suppression-reason")["severity"] == "warning"


def test_checker_in_process_for_other_commands() -> None:
    # Other subcommands (attach-check, argv) reuse Checker on documents they parsed and normalised.
    from domlint.checker import Checker, Options
    from domlint.domain import normalise
    from domlint.parse import parse_bytes

    text = BAD.replace(LUN_DISK, "    <!-- domlint: ignore disk-lun-not-block - scratch -->\n" + LUN_DISK)
    checker = Checker(Options(use_config=False, select={"disk"}))
    doc = parse_bytes(text.encode(), "guest.xml")
    settings = checker.settings_for("guest.xml")
    normalise(doc, settings.host)
    found = checker.check_document(doc, settings)
    assert {f.rule_id for f in found} == {"disk-io-native-cache", "disk-ide-readonly"}
    assert [c.path for c in checker.checked] == ["guest.xml"]
    assert all(r.startswith("disk-") for r in checker.checked[0].rule_ids)
