"""A plain clone runs its own tests: without the corpora beside it, virsh or xmllint, the tests that
need them skip with a one-line reason saying how to get them, and with CI=true they fail instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import README_TEST_COMMAND, REPO

README = (REPO / "README.md").read_text()


def _pytest(tmp_path: Path, *args: str, ci: bool = False, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """pytest in a child process, as in a clone with nothing beside it."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTHONPATH")}
    env |= {"DOMLINT_CONFORMANCE": str(tmp_path / "none" / "libvirt-1.2.8"),
            "DOMLINT_CONFORMANCE_9": str(tmp_path / "none" / "libvirt-9.0"), "PYTHONPATH": str(REPO)}
    if ci:
        env["CI"] = "true"
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
                           "--basetemp", str(tmp_path / "base"), "-q", "-rs", *args],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=900)


def test_the_suite_collects_without_the_corpora(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, "--collect-only")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "error" not in proc.stdout.splitlines()[-1]


def test_corpus_tests_skip_with_how_to_get_them_and_fail_in_ci(tmp_path: Path) -> None:
    files = ["tests/test_conformance.py", "tests/test_select_index.py", "tests/test_benchmarks.py"]
    local = _pytest(tmp_path, *files)
    assert local.returncode == 0, local.stdout[-3000:]
    skips = [line for line in local.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips and all("../shared/conformance" in line for line in skips), local.stdout[-3000:]
    ci = _pytest(tmp_path, *files, ci=True)
    assert ci.returncode != 0 and "CI=true" in ci.stdout and "SKIPPED" not in ci.stdout


def test_virsh_tests_skip_without_virsh_and_fail_in_ci(tmp_path: Path) -> None:
    # A PATH with python but no virsh.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    path = f"{bin_dir}{os.pathsep}/nonexistent"
    test = "tests/test_attach.py::test_virsh_failure_is_reported"
    local = _pytest(tmp_path, test, path=path)
    assert local.returncode == 0 and "SKIPPED" in local.stdout, local.stdout[-2000:]
    assert "needs virsh: apt-get install libvirt-clients" in local.stdout
    ci = _pytest(tmp_path, test, ci=True, path=path)
    assert ci.returncode == 1 and "needs virsh" in ci.stdout


def test_readme_says_what_a_plain_clone_lacks() -> None:
    first = README.split("\n---\n", 1)[0]
    assert f"    {README_TEST_COMMAND}\n" in first
    for words in ("plain clone", "virsh", "xmllint", "../shared/", "CI=true"):
        assert words in first, words
