"""Shared fixtures: a private rule cache, and the paths tests need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = Path(os.environ.get("DOMLINT_CONFORMANCE",
                                  REPO.parent / "shared" / "conformance" / "libvirt-1.2.8"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOMLINT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "rule-cache"))


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m domlint ARGS` the way a user would, capturing everything."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "domlint", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, env=full_env, input=stdin, timeout=120)
