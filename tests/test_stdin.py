"""`virsh dumpxml vm | domlint check -`: a domain on standard input, named by --stdin-filename."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO, run_cli

BAD = (REPO / "examples" / "guest-bad.xml").read_text()


def test_dash_reads_standard_input() -> None:
    proc = run_cli("check", "-", stdin=BAD)
    assert proc.returncode == 1, proc.stderr
    assert "<stdin>:17:5: error [disk-ide-readonly]" in proc.stdout
    assert "1 file checked, 3 error(s)" in proc.stderr


def test_stdin_beside_files_and_broken_stdin() -> None:
    proc = run_cli("check", "--format", "json", "-", str(REPO / "examples" / "guest-good.xml"), stdin=BAD)
    doc = json.loads(proc.stdout)
    assert {f["path"] for f in doc["findings"]} == {"<stdin>"} and doc["summary"]["files"] == 2
    broken = run_cli("check", "-", stdin="<domain")
    assert broken.returncode == 2 and broken.stderr.startswith("<stdin>:") and "Traceback" not in broken.stderr


def test_stdin_filename_names_it_and_picks_its_configuration(tmp_path: Path) -> None:
    (tmp_path / "guests").mkdir()
    (tmp_path / "guests" / ".domlint.yaml").write_text("ignore: [disk-lun]\n")
    proc = run_cli("check", "--stdin-filename", "guests/web.xml", "-", cwd=tmp_path, stdin=BAD)
    assert proc.returncode == 1
    assert "guests/web.xml:17:5: error [disk-ide-readonly]" in proc.stdout
    assert "disk-lun" not in proc.stdout and "<stdin>" not in proc.stdout
    # Without the name, the configuration of the current directory (none here) applies.
    assert "disk-lun-not-block" in run_cli("check", "-", cwd=tmp_path, stdin=BAD).stdout


def test_stdin_filename_without_dash_is_a_usage_error() -> None:
    proc = run_cli("check", "--stdin-filename", "web.xml", str(REPO / "examples" / "guest-good.xml"))
    assert proc.returncode == 2 and "--stdin-filename" in proc.stderr and "Traceback" not in proc.stderr
