"""The command line: formats, exit codes, capability sources, selection."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CONFORMANCE, REPO, run_cli, warning_rules

BAD = str(REPO / "examples" / "guest-bad.xml")
GOOD = str(REPO / "examples" / "guest-good.xml")


def test_text_report_and_exit_1() -> None:
    proc = run_cli("check", BAD)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0] == (f"{BAD}:12:5: error [disk-io-native-cache] disk vda: io='native' with "
                        "cache='writeback'; native AIO works only without the host page cache")
    assert lines[1].startswith("    hint: ")
    assert "3 error(s)" in proc.stderr


def test_clean_file_exit_0() -> None:
    proc = run_cli("check", GOOD)
    assert proc.returncode == 0 and proc.stdout == ""


def test_json_format() -> None:
    proc = run_cli("check", "--format", "json", BAD, GOOD)
    doc = json.loads(proc.stdout)
    assert doc["summary"] == {"files": 2, "errors": 3, "warnings": 0, "skipped": 0, "unusable": 0}
    assert doc["target"] == "libvirt 1.2.8" and doc["notes"] == []
    assert doc["caps_source"] == "profile qemu-1.6.50 (the newest built-in)"
    f = doc["findings"][0]
    assert set(f) >= {"rule_id", "severity", "message", "hint", "path", "line", "column", "xpath"}


def test_directory_checks_every_xml_below(tmp_path: Path) -> None:
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    shutil.copy(BAD, sub / "one.xml")
    shutil.copy(GOOD, tmp_path / "two.xml")
    (tmp_path / "notes.txt").write_text("not xml")
    proc = run_cli("check", "--format", "json", str(tmp_path))
    assert json.loads(proc.stdout)["summary"]["files"] == 2


def test_warnings_fail_only_with_fail_on_warning(tmp_path: Path) -> None:
    rules = warning_rules(tmp_path)
    assert run_cli("check", "--rules", str(rules), str(GOOD)).returncode == 0
    proc = run_cli("check", "--rules", str(rules), "--fail-on", "warning", str(GOOD))
    assert proc.returncode == 1 and "warning [disk-needs-serial]" in proc.stdout


def test_select_ignore_and_unknown_id() -> None:
    proc = run_cli("check", "--select", "disk-ide-readonly", BAD)
    assert proc.stdout.count("error [") == 1
    proc = run_cli("check", "--ignore", "disk", BAD)
    assert proc.returncode == 0
    proc = run_cli("check", "--ignore", "no-such-rule", BAD)
    assert proc.returncode == 2 and "no rule matches no-such-rule" in proc.stderr


@pytest.mark.corpus
def test_caps_sources() -> None:
    assert "disk-ide-readonly" in run_cli("check", "--caps", "drive,drive-readonly", BAD).stdout
    assert "disk-ide-readonly" not in run_cli("check", "--caps", "drive", BAD).stdout
    proc = run_cli("check", "--caps", "drive,warp-drive", BAD)
    assert proc.returncode == 2 and "warp-drive" in proc.stderr
    assert run_cli("check", "--caps-profile", "qemu-1.6.0", BAD).returncode == 1
    proc = run_cli("check", "--caps-profile", "9.9", BAD)
    assert proc.returncode == 2 and "unknown capability profile" in proc.stderr
    caps_file = CONFORMANCE / "qemu-caps" / "caps_1.6.0-1.caps"
    a = run_cli("check", "--qemu-caps", str(caps_file), BAD).stdout
    b = run_cli("check", "--caps-profile", "1.6.0", BAD).stdout
    assert a == b and a


@pytest.mark.corpus
def test_profiles_match_capability_dumps() -> None:
    from domlint import caps

    for dump in sorted((CONFORMANCE / "qemu-caps").glob("*.caps")):
        version = dump.name.split("_")[1].split("-")[0]
        assert caps.from_profile(version) == caps.from_file(dump), version


def test_help_states_the_default_target_and_capability_source() -> None:
    from domlint import target

    for command in ("check", "argv", "attach-check"):
        proc = run_cli(command, "--help")
        assert proc.returncode == 0
        text = " ".join(proc.stdout.split())
        assert f"else the newest target domlint knows, {target.newest().label}" in text, command
        assert "DOMLINT_LIBVIRT" in text and "configuration key `libvirt`" in text
        assert "the target's newest built-in QEMU profile for the domain's architecture" in text, command
        assert "is not judged: it gets a note" in text
        assert "qemu_caps, as `domlint host snapshot` writes it" in text


def test_version() -> None:
    import domlint
    from domlint import target

    proc = run_cli("--version", env={"DOMLINT_LIBVIRT": ""})
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and lines[0] == f"domlint {domlint.__version__}"
    assert lines[1] == "libvirt targets: " + ", ".join(f"{t.label} (--libvirt {t.name})" for t in target.targets())
    assert lines[2].startswith(f"default target: {target.newest().label} (the newest")
    proc = run_cli("--version", env={"DOMLINT_LIBVIRT": "1.2.8"})
    assert "default target: libvirt 1.2.8 (from DOMLINT_LIBVIRT=1.2.8)" in proc.stdout


def test_installed_console_script_from_another_directory(tmp_path: Path) -> None:
    exe = shutil.which("domlint")
    assert exe, "domlint is not installed: run pip install '.[test]' first"
    shutil.copy(BAD, tmp_path / "guest.xml")
    proc = subprocess.run([exe, "check", "guest.xml"], cwd=tmp_path, capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert proc.returncode == 1, proc.stderr
    assert "guest.xml:17:5: error [disk-ide-readonly]" in proc.stdout
