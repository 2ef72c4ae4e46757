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
# libvirt 9.0's corpus, beside the 1.2.8 one.
CONFORMANCE_9 = Path(os.environ.get("DOMLINT_CONFORMANCE_9", CONFORMANCE.parent / "libvirt-9.0"))
CORPORA = {"1.2.8": CONFORMANCE, "9.0": CONFORMANCE_9}
# The README's test command, which a plain clone passes.
README_TEST_COMMAND = "pip install '.[test]' && python -m pytest"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOMLINT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "rule-cache"))


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers."""
    config.addinivalue_line("markers", "libvirt(version): the target a test module is about (default 1.2.8)")
    config.addinivalue_line("markers", "corpus: the test reads the conformance corpora beside the repository")


# How a plain clone gets what corpus tests read (a one-line skip reason).
CORPUS_HOW = ("put the conformance corpora at ../shared/conformance/libvirt-1.2.8 and libvirt-9.0 beside the "
              "repository, or set DOMLINT_CONFORMANCE and DOMLINT_CONFORMANCE_9")


def have_corpora() -> bool:
    """Whether both conformance corpora are there."""
    return all((root / "manifest.json").exists() for root in CORPORA.values())


def require_corpora() -> None:
    """Skip (fail with CI=true) without the conformance corpora: for fixtures that read them."""
    require("the conformance corpora", have_corpora(), CORPUS_HOW)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked corpus skips without the corpora (fails with CI=true)."""
    if item.get_closest_marker("corpus") is not None:
        require_corpora()


def skip_module_without_corpora() -> None:
    """For a module that reads the corpora when it is imported: skip it whole, or fail with CI=true."""
    if have_corpora():
        return
    if in_ci():
        raise RuntimeError(f"needs the conformance corpora: {CORPUS_HOW} (CI=true: nothing is skipped)")
    pytest.skip(f"needs the conformance corpora: {CORPUS_HOW}", allow_module_level=True)


@pytest.fixture(autouse=True)
def _target(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite began with libvirt 1.2.8: a test judges under the target its
    # module names with pytest.mark.libvirt, 1.2.8 where it names none.
    marker = request.node.get_closest_marker("libvirt")
    monkeypatch.setenv("DOMLINT_LIBVIRT", marker.args[0] if marker else "1.2.8")


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m domlint ARGS` the way a user would, capturing everything."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "domlint", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, env=full_env, input=stdin, timeout=120)


# A site rule of warning severity; it fires on examples/guest-good.xml, whose disks carry no serial.
USER_RULE = """\
rules:
  - id: disk-needs-serial
    summary: every disk carries a serial number
    severity: warning
    stage: parse
    select: /domain/devices/disk[not(serial)]
    message: "disk {target/@dev} has no <serial>"
    hint: add <serial>
    examples:
      invalid: [<disk type='file'><source file='/a'/><target dev='vda'/></disk>]
      valid: [<disk type='file'><source file='/a'/><target dev='vda'/><serial>1</serial></disk>]
"""


def warning_rules(tmp_path: Path) -> Path:
    """A user rule directory holding USER_RULE (disk-needs-serial, a warning)."""
    rules = tmp_path / "site-rules"
    rules.mkdir(exist_ok=True)
    (rules / "site.yaml").write_text(USER_RULE)
    return rules


def in_ci() -> bool:
    """Whether this is a CI run (CI=true), where nothing may be skipped for want of a tool or a corpus."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(what: str, present: object, how: str) -> None:
    """Skip the test, with a one-line reason saying how to get what is missing, or fail with CI=true."""
    if present:
        return
    reason = f"needs {what}: {how}"
    if in_ci():
        pytest.fail(f"{reason} (CI=true: nothing is skipped)", pytrace=False)
    pytest.skip(reason)


def require_virsh() -> None:
    """virsh, for the tests that read domains through libvirt's test:///default driver."""
    import shutil

    require("virsh", shutil.which("virsh"), "apt-get install libvirt-clients (Fedora: dnf install libvirt-client)")


def require_xmllint() -> None:
    """xmllint, for the benchmark's comparison."""
    import shutil

    require("xmllint", shutil.which("xmllint"), "apt-get install libxml2-utils (Fedora: dnf install libxml2)")


def require_corpus(path: Path, what: str = "the conformance corpus") -> None:
    """A conformance corpus beside the repository (../shared/conformance/...)."""
    require(what, path.exists(), f"put it at {path} or point DOMLINT_CONFORMANCE (DOMLINT_CONFORMANCE_9) at it")
