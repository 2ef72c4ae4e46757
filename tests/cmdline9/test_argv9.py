"""`domlint argv --libvirt 9.0`: the three formats on the user's default host (no host profile)."""

from __future__ import annotations

import json
import shlex

import pytest
from conftest import REPO, run_cli

pytestmark = pytest.mark.libvirt("9.0")

GOOD = REPO / "examples" / "guest-good.xml"


def test_all_formats_give_the_same_words_on_the_default_host() -> None:
    words = json.loads(run_cli("argv", "--libvirt", "9.0", "--no-config", "--format", "json", str(GOOD)).stdout)
    # The default host's lib dir is libvirt's privileged one.
    assert "HOME=/var/lib/libvirt/qemu/domain--1-web02" in words
    line = run_cli("argv", "--libvirt", "9.0", "--no-config", "--format", "line", str(GOOD)).stdout
    assert shlex.split(line) == words
    lines = run_cli("argv", "--libvirt", "9.0", "--no-config", str(GOOD)).stdout
    assert shlex.split(lines.replace("\\\n", "")) == words
    # virCommandToStringBuf: an option and its value share a line; every environment word ends one.
    rows = lines.rstrip("\n").split(" \\\n")
    assert rows[0] == "LC_ALL=C" and "-name guest=web02,debug-threads=on" in rows and "-S" in rows
