"""The memory balloon."""

from __future__ import annotations

from emit_helpers import after, domain, emit_words


def test_balloon_takes_the_device_of_its_transport() -> None:
    assert after(emit_words(domain(""), ["device"]), "-device") == ["virtio-balloon-pci,id=balloon0,bus=pci.0,addr=0x3"]
    s390 = domain("", arch="s390x", machine="s390-ccw-virtio", emulator="/usr/bin/qemu-system-s390x")
    assert after(emit_words(s390, ["device", "virtio-ccw"]), "-device") == [
        "virtio-balloon-ccw,id=balloon0,devno=fe.0.0000"]


def test_legacy_balloon_option_and_none() -> None:
    assert after(emit_words(domain(""), ["balloon"]), "-balloon") == ["virtio"]
    assert after(emit_words(domain(""), []), "-balloon") == []
    assert after(emit_words(domain("<memballoon model='none'/>"), ["device"]), "-device") == []
    # The old s390-virtio machine has a balloon of its own.
    s390 = domain("", arch="s390x", machine="s390-virtio", emulator="/usr/bin/qemu-system-s390x")
    assert after(emit_words(s390, ["device", "virtio-s390"]), "-device") == []
