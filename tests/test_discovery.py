"""Which files `check DIR` reads: domain XML only, no version-control or virtualenv folders, what
.gitignore and the exclude globs leave out skipped, each file once however many links reach it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from conftest import REPO, run_cli

BAD = REPO / "examples" / "guest-bad.xml"
NETWORK = "<network>\n  <name>default</name>\n  <forward mode='nat'/>\n</network>\n"
POOL = "<pool type='dir'>\n  <name>images</name>\n  <target><path>/var/lib/libvirt/images</path></target>\n</pool>\n"
POM = "<?xml version='1.0'?>\n<project xmlns='http://maven.apache.org/POM/4.0.0'><modelVersion>4.0.0</modelVersion></project>\n"


def _paths(proc: subprocess.CompletedProcess[str]) -> set[str]:
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(proc.stdout)
    return {Path(f["path"]).as_posix() for f in doc["findings"]} | {Path(e["path"]).as_posix() for e in doc["errors"]}


def _tree(root: Path) -> Path:
    """A repository-like tree: domains, other libvirt XML, a pom.xml and folders no search should enter."""
    for rel in ("guests/web.xml", "guests/db.xml", ".git/hooks/bad.xml", ".venv/lib/bad.xml", "venv/bad.xml",
                "node_modules/pkg/bad.xml", "build/bad.xml", ".tox/py/bad.xml", "__pycache__/bad.xml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(BAD, root / rel)
    (root / "networks").mkdir()
    (root / "networks" / "default.xml").write_text(NETWORK)
    (root / "pools").mkdir()
    (root / "pools" / "images.xml").write_text(POOL)
    (root / "pom.xml").write_text(POM)
    return root


def test_directory_yields_domains_only_and_skips_default_excludes(tmp_path: Path) -> None:
    _tree(tmp_path)
    proc = run_cli("check", "--format", "json", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert _paths(proc) == {"guests/db.xml", "guests/web.xml"}
    assert "2 files checked" in proc.stderr
    assert "3 other XML files skipped" in proc.stderr and "unusable" not in proc.stderr
    # --verbose names them, with their root.
    verbose = run_cli("check", "-v", ".", cwd=tmp_path)
    assert "networks/default.xml: skipped: its root is <network>, not <domain>" in verbose.stderr
    assert "pom.xml: skipped: its root is <project>" in verbose.stderr
    assert "pools/images.xml: skipped" in verbose.stderr


def test_a_named_non_domain_file_is_still_an_error(tmp_path: Path) -> None:
    _tree(tmp_path)
    proc = run_cli("check", "networks/default.xml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "networks/default.xml:1: root element is <network>, expected <domain>" in proc.stderr


def test_exclude_and_extend_exclude_options(tmp_path: Path) -> None:
    _tree(tmp_path)
    only_web = run_cli("check", "--format", "json", "--extend-exclude", "db.xml", ".", cwd=tmp_path)
    assert _paths(only_web) == {"guests/web.xml"}
    # --exclude replaces the default list: build/ is searched again, db.xml is not.
    replaced = run_cli("check", "--format", "json", "--exclude", "guests/db.xml,.git,.venv,venv,node_modules,.tox,"
                       "__pycache__", ".", cwd=tmp_path)
    assert _paths(replaced) == {"guests/web.xml", "build/bad.xml"}


def test_exclude_in_configuration(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / ".domlint.yaml").write_text("extend-exclude: [guests/web.xml]\n")
    assert _paths(run_cli("check", "--format", "json", ".", cwd=tmp_path)) == {"guests/db.xml"}
    (tmp_path / ".domlint.yaml").write_text("exclude: [db.xml]\n")
    assert _paths(run_cli("check", "--format", "json", "guests", cwd=tmp_path)) == {"guests/web.xml"}
    # A file named on the command line is checked anyway, unless --force-exclude (pre-commit names files).
    assert _paths(run_cli("check", "--format", "json", "guests/db.xml", cwd=tmp_path)) == {"guests/db.xml"}
    forced = run_cli("check", "--force-exclude", "guests/db.xml", cwd=tmp_path)
    assert forced.returncode == 0 and "0 files checked" in forced.stderr


def test_gitignore_is_respected(tmp_path: Path) -> None:
    _tree(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("/guests/db.xml\n")
    assert _paths(run_cli("check", "--format", "json", ".", cwd=tmp_path)) == {"guests/web.xml"}
    both = run_cli("check", "--format", "json", "--no-respect-gitignore", ".", cwd=tmp_path)
    assert _paths(both) == {"guests/web.xml", "guests/db.xml"}


def test_autostart_links_are_checked_once(tmp_path: Path) -> None:
    # /etc/libvirt/qemu/ as libvirt keeps it: autostart/NAME.xml links to ../NAME.xml.
    qemu = tmp_path / "qemu"
    (qemu / "autostart").mkdir(parents=True)
    (qemu / "networks" / "autostart").mkdir(parents=True)
    shutil.copy(BAD, qemu / "web.xml")
    os.symlink("../web.xml", qemu / "autostart" / "web.xml")
    (qemu / "networks" / "default.xml").write_text(NETWORK)
    os.symlink("../default.xml", qemu / "networks" / "autostart" / "default.xml")
    proc = run_cli("check", "--format", "json", str(qemu))
    doc = json.loads(proc.stdout)
    assert [Path(f["path"]).name for f in doc["findings"]] == ["web.xml"] * 3
    assert {f["path"] for f in doc["findings"]} == {str(qemu / "web.xml")}
    assert "1 file checked" in proc.stderr and doc["errors"] == []


def test_a_file_that_cannot_be_looked_at_is_an_input_error_not_skipped(tmp_path: Path) -> None:
    # A name stat refuses for another reason than absence (here a link to a name too long for the system;
    # a folder that can be listed but not entered does the same to a user without root) is reported, and the
    # other files are still checked: it is never passed over as if it were not there.
    top = tmp_path / "guests"
    top.mkdir()
    shutil.copy(BAD, top / "web.xml")
    (top / "db.xml").symlink_to("x" * 300)
    proc = run_cli("check", "--format", "json", "--no-respect-gitignore", str(top), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    doc = json.loads(proc.stdout)
    (error,) = doc["errors"]
    assert error["path"] == str(top / "db.xml") and "cannot read: File name too long" in error["message"]
    assert {f["path"] for f in doc["findings"]} == {str(top / "web.xml")}
    named = run_cli("check", "--format", "json", "y" * 300 + ".xml", cwd=tmp_path)
    assert named.returncode == 2 and "Traceback" not in named.stderr
    assert "cannot read: File name too long" in json.loads(named.stdout)["errors"][0]["message"]
