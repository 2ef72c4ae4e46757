"""Host facts: the user's default host gets qemu.conf's defaults and placeholder descriptors, a profile its own."""

from __future__ import annotations

import re

import pytest
from emit9 import HOST, domain, emit_words

from domlint.cmdline9.hostfacts import FD_DEFAULTS
from domlint.host import default_host

pytestmark = pytest.mark.libvirt("9.0")

# A listening UNIX serial, a file serial with a log, a TAP NIC: each takes a descriptor libvirt opens.
DEVICES = ("<serial type='unix'><source mode='bind' path='/tmp/s.sock'/><target port='0'/></serial>"
           "<serial type='file'><source path='/tmp/out.log'/><log file='/tmp/s.log'/><target port='1'/></serial>"
           "<interface type='ethernet'><mac address='52:54:00:11:22:33'/><model type='rtl8139'/></interface>")
# libvirt's test harness numbers (tests/hosts/conformance-9.0.yaml `fds`).
HARNESS = {"1729", "1750", "1751", "44"}


def _numbers(words: list[str]) -> set[str]:
    """Every fd= / vhostfd= number, key=value or JSON."""
    return {n for w in words for n in re.findall(r'\b(?:fd|vhostfd)"?[=:]"?(\d+)', w)}


def test_the_default_host_shows_placeholders_not_the_harness_numbers() -> None:
    words = emit_words(domain(DEVICES), host=default_host())
    assert f"socket,id=charmonitor,fd={FD_DEFAULTS['monitor']},server=on,wait=off" in words
    assert f"set=0,fd={FD_DEFAULTS['chardev_file']},opaque=serial1-source" in words
    assert f"set=1,fd={FD_DEFAULTS['chardev_log']},opaque=serial1-log" in words
    assert str(FD_DEFAULTS["tap_first"]) in _numbers(words)
    assert not _numbers(words) & HARNESS
    assert not any("/tmp/lib" in w or "/bad-test" in w for w in words)
    # qemu.conf's privileged defaults: the per-domain dir under /var/lib/libvirt/qemu.
    assert any(w.startswith("HOME=/var/lib/libvirt/qemu/domain--1-guest") for w in words)


def test_the_test_host_profile_gives_its_own_numbers_and_dirs() -> None:
    words = emit_words(domain(DEVICES), host=HOST)
    assert "socket,id=charmonitor,fd=1729,server=on,wait=off" in words
    assert "set=0,fd=1750,opaque=serial1-source" in words
    assert any(w.startswith("HOME=/tmp/lib/domain--1-guest") for w in words)


def test_no_fact_of_the_test_harness_is_written_into_the_emitter() -> None:
    # The harness's host (fd numbers, lib dir, clock, names) lives in its profile; the code reads profiles.
    from conftest import REPO

    numbers = r"(?<!\d)(1729|1730|1731|1732|1750|1751|6789|1234567890)(?!\d)"
    words = ("/tmp/lib", "/bad-test", "VIR00:30", "QEMUGuest", "/dev/test", "/dev/dri/foo")
    found = [(p.name, h) for p in sorted((REPO / "domlint" / "cmdline9").glob("*.py"))
             for h in (*re.findall(numbers, p.read_text()), *(w for w in words if w in p.read_text()))]
    assert found == []
