"""Real-world domain XML (virt-install, OpenStack nova, KubeVirt, vagrant-libvirt, oVirt, ...) raises no error under 9.0.

Every file in tests/realworld/ is a shape that libvirt 9.0 with QEMU 7.x accepts (its first line says where
the shape comes from). A false alarm on such a file costs users more than a missed check, so each file must give
no error finding with the default capabilities and host, and with the newest built-in profile of its own
architecture (x86_64's for x86 guests; other arches where a profile of theirs is built in).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO
from lxml import etree

import domlint
from domlint import caps as capsmod

pytestmark = pytest.mark.libvirt("9.0")

CORPUS = REPO / "tests" / "realworld"
FILES = sorted(CORPUS.glob("*.xml"))

# Known false alarms of rule families still being written, (file, rule id) -> why libvirt 9.0 accepts the file.
# Remove an entry once its rule is fixed.
KNOWN: dict[tuple[str, str], str] = {}


def _arch(path: Path) -> str:
    el = etree.parse(str(path)).getroot().find("os/type")
    return (el.get("arch") if el is not None else None) or "x86_64"


def _profiles(path: Path) -> list[tuple[str, object]]:
    # The x86_64 profile describes qemu-system-x86_64, which cannot run an aarch64, ppc64 or s390x guest
    # (libvirt refuses those with it, rightly): other arches are judged by their own profile instead.
    runs: list[tuple[str, object]] = [("default", None)]
    arch = _arch(path)
    own = capsmod.newest_profile("9.0", arch)
    if arch in ("x86_64", "i686"):
        runs.append(("x86_64", capsmod.newest_profile("9.0", "x86_64")))
    elif own.arch == arch:
        runs.append((arch, own))
    return runs


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 25
    arches = {_arch(p) for p in FILES}
    assert {"x86_64", "aarch64", "ppc64", "s390x"} <= arches


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_file_says_where_it_comes_from(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("<!-- ") and first.endswith(" -->") and len(first) > 40


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_no_error_under_9_0(path: Path) -> None:
    problems = []
    for label, caps in _profiles(path):
        for f in domlint.check(str(path), libvirt="9.0", caps=caps):
            if f.severity == "error" and (path.name, f.rule_id) not in KNOWN:
                problems.append(f"[{label} caps] {f.rule_id} line {f.line}: {f.message}")
    assert not problems, "\n".join(problems)


def test_known_false_alarms_name_corpus_files() -> None:
    names = {p.name for p in FILES}
    assert all(name in names for name, _ in KNOWN)
