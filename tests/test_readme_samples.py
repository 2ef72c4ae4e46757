"""The README's pre-commit and GitHub Actions samples, run as written.

The only change made to them is the repository's address, which points at this clone
instead of the public one. The pinned `rev` must be a commit of this branch's history;
the workflow's `run:` steps run in order in a fresh virtual environment, where
actions/checkout is a git work tree of guests and actions/setup-python is this Python.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

README = (REPO / "README.md").read_text()
# The address the samples give for this repository.
URL = "https://example.invalid/domlint.git"
BAD = REPO / "examples" / "guest-bad.xml"
GOOD = REPO / "examples" / "guest-good.xml"


def _block(start: str) -> str:
    return next(b for b in re.findall(r"```yaml\n(.*?)```", README, re.S) if b.startswith(start))


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "GIT_DIR", "GIT_WORK_TREE", "VIRTUAL_ENV", "DOMLINT_LIBVIRT")}


def _guests(root: Path) -> Path:
    """A user's repository: a bad and a good domain under guests/, a network beside them."""
    (root / "guests").mkdir(parents=True)
    _git("init", "-q", cwd=root)
    shutil.copy(BAD, root / "guests" / "web.xml")
    shutil.copy(GOOD, root / "guests" / "db.xml")
    (root / "guests" / "default-net.xml").write_text("<network><name>default</name></network>\n")
    return root


def test_pinned_rev_exists() -> None:
    config = yaml.safe_load(_block("repos:"))
    rev = config["repos"][0]["rev"]
    assert config["repos"][0]["repo"] == URL and f"@{rev}\"" in _block("name: domlint")
    # A full commit id, not a tag: CI and users' mirrors may clone the branch without its tags.
    assert re.fullmatch(r"[0-9a-f]{40}", rev), f"the README pins {rev!r}: pin a full commit id (frozen)"
    assert re.search(rf"rev: {rev}  # frozen: v\d", _block("repos:")), "the pin names its release"
    ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", rev, "HEAD"], cwd=REPO,
                              capture_output=True, text=True)
    assert ancestor.returncode == 0, f"the README pins {rev}, which is not in this branch's history"
    hooks = _git("ls-tree", "--name-only", rev, ".pre-commit-hooks.yaml", cwd=REPO)
    assert hooks == ".pre-commit-hooks.yaml"


def test_pre_commit_sample_as_written(tmp_path: Path) -> None:
    root = _guests(tmp_path / "user")
    (root / ".pre-commit-config.yaml").write_text(_block("repos:").replace(URL, str(REPO)))
    _git("add", "-A", cwd=root)
    env = _env() | {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PRE_COMMIT_COLOR": "never"}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=root,
                              capture_output=True, text=True, env=env, timeout=900)

    first = run()
    out = first.stdout + first.stderr
    assert first.returncode == 1, out
    # The sample's args judge for libvirt 1.2.8 under QEMU 1.6.0.
    assert "guests/web.xml:17:5: error [disk-ide-readonly]" in out
    assert "db.xml" not in out and "default-net.xml" not in out and "expected <domain>" not in out
    shutil.copy(GOOD, root / "guests" / "web.xml")
    _git("add", "-A", cwd=root)
    second = run()
    assert second.returncode == 0 and "Passed" in second.stdout, second.stdout + second.stderr


def test_github_actions_sample_as_written(tmp_path: Path) -> None:
    workflow = yaml.safe_load(_block("name: domlint"))
    steps = workflow["jobs"]["domlint"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/checkout", "actions/setup-python", "github/codeql-action/upload-sarif"]
    # actions/checkout: the user's repository; actions/setup-python: a fresh environment of this Python.
    root = _guests(tmp_path / "user")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # setup-python's pip is a current one (the one venv bundles may be too old for git+file URLs).
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True,
                   capture_output=True, timeout=600)
    env = _env() | {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    results = []
    for step in steps:
        if "run" not in step:
            continue
        script = step["run"].replace(URL, f"file://{REPO}")
        proc = subprocess.run(["bash", "-e", "-c", script], cwd=root, capture_output=True, text=True, env=env,
                              timeout=900)
        results.append(proc)
        assert "Traceback" not in proc.stderr
    install, check = results
    assert install.returncode == 0, install.stdout + install.stderr
    # The check step fails on the findings; upload-sarif (if: always()) then takes the file.
    assert check.returncode == 1, check.stderr
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["if"] == "always()"
    sarif = json.loads((root / upload["with"]["sarif_file"]).read_text())
    run = sarif["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["disk-io-native-cache-v9", "disk-readonly-ide-sata",
                                                     "disk-lun-source-type"]
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "guests/web.xml"
               for r in run["results"])
    assert "libvirt 9.0.0" in run["tool"]["driver"]["fullName"]


@pytest.mark.parametrize("sample", ["repos:", "name: domlint"])
def test_samples_name_no_package_index(sample: str) -> None:
    # No index serves domlint: an install names the repository or a wheel.
    for line in re.findall(r"pip install .*", _block(sample)):
        assert "git+" in line or ".whl" in line, line
