"""Video devices: -vga with qxl -global sizes, or -device per card, primary first."""

from __future__ import annotations

import pytest
from emit_helpers import after, domain, emit_unchecked, emit_words

import domlint
from domlint.errors import InputError

# No balloon, so the cards' PCI slots do not depend on where it goes.
VNC = "<graphics type='vnc' port='5900' listen='127.0.0.1'/><memballoon model='none'/>"


def _qxl(ram: str = "65536", vram: str = "32768", primary: str = "") -> str:
    extra = f" primary='{primary}'" if primary else ""
    return f"<video><model type='qxl' ram='{ram}' vram='{vram}' heads='1'{extra}/></video>"


def test_graphics_without_video_get_a_cirrus_card() -> None:
    assert after(emit_words(domain(VNC), ["vnc", "vga"]), "-vga") == ["cirrus"]


def test_qxl_primary_as_vga_with_global_sizes_and_secondary_devices() -> None:
    words = emit_words(domain(VNC + _qxl() + _qxl("65536", "65536")), ["vnc", "vga", "vga-qxl", "device", "qxl"])
    assert after(words, "-vga") == ["qxl"]
    # Sizes are KiB in the domain and bytes for QEMU; the device name depends on qxl-vga.
    assert after(words, "-global") == ["qxl.ram_size=67108864", "qxl.vram_size=33554432"]
    assert "qxl,id=video1,ram_size=67108864,vram_size=67108864,bus=pci.0,addr=0x3" in after(words, "-device")
    named = emit_words(domain(VNC + _qxl()), ["vnc", "vga", "vga-qxl", "device", "qxl", "device-qxl-vga"])
    assert after(named, "-global") == ["qxl-vga.ram_size=67108864", "qxl-vga.vram_size=33554432"]


def test_qxl_ram_defaults_to_64_mib() -> None:
    video = "<video><model type='qxl' vram='16384'/></video>"
    words = emit_words(domain(VNC + video), ["vnc", "vga", "vga-qxl", "device"])
    assert after(words, "-global") == ["qxl.ram_size=67108864", "qxl.vram_size=16777216"]


def test_every_card_a_device_when_qemu_can_name_the_primary() -> None:
    caps = ["vnc", "device", "device-video-primary", "qxl", "device-qxl-vga"]
    words = emit_words(domain(VNC + _qxl("1024", "2048") + _qxl(primary="yes")), caps)
    devs = [d for d in after(words, "-device") if d.startswith("qxl")]
    # The card marked primary comes first and takes the first alias.
    assert devs == ["qxl-vga,id=video0,ram_size=67108864,vram_size=33554432,bus=pci.0,addr=0x2",
                    "qxl,id=video1,ram_size=1048576,vram_size=2097152,bus=pci.0,addr=0x3"]
    assert "-vga" not in words


def test_primary_device_needs_its_own_capability() -> None:
    video = "<video><model type='vga'/></video>"
    assert after(emit_words(domain(VNC + video), ["vnc", "vga", "device", "device-video-primary"]),
                 "-vga") == ["std"]
    with_vga = emit_words(domain(VNC + video), ["vnc", "vga", "device", "device-video-primary", "VGA"])
    assert "VGA,id=video0,bus=pci.0,addr=0x2" in after(with_vga, "-device")


def test_no_video_at_all() -> None:
    assert after(emit_words(domain(), ["vga", "vga-none"]), "-vga") == ["none"]
    assert "-vga" not in emit_words(domain(), ["vga", "vga-none", "device"])


def test_qemu_before_vga_option() -> None:
    video = "<video><model type='vmvga'/></video>"
    assert "-vmwarevga" in emit_words(domain(VNC + video), ["vnc"])
    cirrus = emit_words(domain(VNC), ["vnc"])
    assert not any(w in cirrus for w in ("-vga", "-std-vga", "-vmwarevga"))


def test_a_card_qemu_does_not_have_is_refused() -> None:
    xml = domain(VNC + "<video><model type='vbox'/></video>")
    # The rules refuse it first; the emitter on its own still refuses rather than guess.
    with pytest.raises(domlint.Refused):
        emit_words(xml, ["vnc", "vga"])
    with pytest.raises(InputError, match="no 'vbox' video card"):
        emit_unchecked(xml, ["vnc", "vga"])
