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


WARNING_RULE = """\
rules:
  - id: site-no-description
    summary: every guest carries a description
    severity: warning
    stage: parse
    select: /domain[not(description)]
    message: "domain {name}: no <description>"
    hint: add a <description> saying what the guest is for
    examples:
      invalid: ["<on_crash>destroy</on_crash>"]
      valid: ["<description>web front end</description>"]
"""


def warning_rules(tmp_path: Path) -> Path:
    """A user rule directory holding one warning-severity rule (site-no-description)."""
    rules = tmp_path / "site-rules"
    rules.mkdir(exist_ok=True)
    (rules / "site.yaml").write_text(WARNING_RULE)
    return rules
