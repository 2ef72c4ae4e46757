"""The watchdog device and its action."""

from __future__ import annotations

import pytest
from emit_helpers import after, domain, emit_words


@pytest.mark.parametrize(("model", "caps", "device"), [
    ("i6300esb", ["device"], ["-device", "i6300esb,id=watchdog0,bus=pci.0,addr=0x4"]),
    ("ib700", ["device"], ["-device", "ib700,id=watchdog0"]),
    ("ib700", [], ["-watchdog", "ib700"]),
])
def test_watchdog_device(model: str, caps: list[str], device: list[str]) -> None:
    words = emit_words(domain(f"<watchdog model='{model}' action='reset'/>"), caps)
    at = words.index(device[0])
    assert words[at:at + 4] == [*device, "-watchdog-action", "reset"]


def test_dump_action_pauses_qemu_so_libvirt_can_dump() -> None:
    words = emit_words(domain("<watchdog model='ib700' action='dump'/>"), [])
    assert after(words, "-watchdog-action") == ["pause"]
