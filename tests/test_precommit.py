"""The pre-commit hook, driven by the real pre-commit framework on a throwaway repository.

The hook is installed from this repository's committed HEAD (what a user's
`rev:` would name), so the test checks what is committed, not the work tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

BAD = REPO / "examples" / "guest-bad.xml"
GOOD = REPO / "examples" / "guest-good.xml"


def _git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def head() -> str:
    """This repository's HEAD commit, which must hold the hook definition."""
    sha = _git("rev-parse", "HEAD", cwd=REPO)
    listed = _git("ls-tree", "--name-only", sha, ".pre-commit-hooks.yaml", cwd=REPO)
    assert listed == ".pre-commit-hooks.yaml", "commit .pre-commit-hooks.yaml: the hook is installed from HEAD"
    return sha


def _pre_commit(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GIT_DIR", "GIT_WORK_TREE")}
    env["PRE_COMMIT_HOME"] = str(home)
    env["PRE_COMMIT_COLOR"] = "never"
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo,
                          capture_output=True, text=True, env=env, timeout=900)


def test_hook_definition() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "domlint")
    assert hook["entry"] == "domlint check" and hook["language"] == "python" and hook["types"] == ["xml"]


def test_hook_fails_on_bad_file_and_passes_once_fixed(tmp_path: Path, head: str) -> None:
    repo = tmp_path / "guests"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    shutil.copy(GOOD, repo / "good.xml")
    shutil.copy(BAD, repo / "bad.xml")
    (repo / "notes.txt").write_text("not XML, so the hook never sees it\n")
    config = {"repos": [{"repo": str(REPO), "rev": head, "hooks": [{"id": "domlint"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    _git("add", "-A", cwd=repo)

    first = _pre_commit(repo, tmp_path / "pre-commit-home")
    out = first.stdout + first.stderr
    assert first.returncode == 1, out
    assert "domlint" in out and "Failed" in out
    assert "bad.xml:17:5: error [disk-ide-readonly]" in out
    assert "bad.xml:22:5: error [disk-lun-not-block]" in out
    assert "good.xml:" not in out and "notes.txt" not in out

    shutil.copy(GOOD, repo / "bad.xml")
    _git("add", "-A", cwd=repo)
    second = _pre_commit(repo, tmp_path / "pre-commit-home")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout and "error [" not in second.stdout


def test_fix_hook_mends_the_bad_file_and_leaves_the_good_one(tmp_path: Path, head: str) -> None:
    repo = tmp_path / "guests"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    shutil.copy(GOOD, repo / "good.xml")
    shutil.copy(BAD, repo / "bad.xml")
    config = {"repos": [{"repo": str(REPO), "rev": head, "hooks": [{"id": "domlint-fix"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    _git("add", "-A", cwd=repo)
    run = _pre_commit(repo, tmp_path / "pre-commit-home")
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "files were modified by this hook" in out
    assert (repo / "good.xml").read_bytes() == GOOD.read_bytes()
    fixed = (repo / "bad.xml").read_text().splitlines()
    original = BAD.read_text().splitlines()
    assert [(a, b) for a, b in zip(original, fixed, strict=True) if a != b] == [
        ("      <driver name='qemu' type='qcow2' cache='writeback' io='native'/>",
         "      <driver name='qemu' type='qcow2' cache='none' io='native'/>")]
    # What the fix cannot mend is still reported.
    assert "bad.xml:17:5: error [disk-" in out and "bad.xml:13:" not in out
