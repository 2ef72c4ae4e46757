"""libvirt's device lists and the implied devices normalisation adds for them."""

from __future__ import annotations

from emit_helpers import domain
from family_ctx import ctx_for

from domlint.cmdline import devices


def _controllers(xml: str) -> list[tuple[str | None, str | None, str | None]]:
    ctx = ctx_for(xml)
    return [(c.get("type"), c.get("index"), c.get("model")) for c in devices.controllers(ctx)]


def test_implied_controllers_come_in_the_order_libvirt_adds_them() -> None:
    xml = domain("<disk type='file'><source file='/a'/><target dev='sdb' bus='scsi'/></disk>"
                 "<channel type='pty'><target type='virtio'/></channel>"
                 "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
                 "<address bus='0' target='0' unit='0'/></source>"
                 "<address type='drive' controller='1' bus='0' target='0' unit='0'/></hostdev>")
    # Host-device SCSI controllers while parsing, then the machine's, then the disks' and ports'.
    assert _controllers(xml) == [("scsi", "0", None), ("scsi", "1", None), ("usb", "0", None),
                                 ("pci", "0", "pci-root"), ("virtio-serial", "0", None)]


def test_s390_implied_usb_controller_is_none() -> None:
    xml = domain("", arch="s390x", machine="s390-ccw-virtio", emulator="/usr/bin/qemu-system-s390x")
    assert _controllers(xml) == [("usb", "0", "none")]


def test_graphics_imply_a_video_card_of_the_arch_default() -> None:
    assert ctx_for(domain("<graphics type='vnc'/>")).devices.find("video/model").get("type") == "cirrus"
    ppc = domain("<graphics type='vnc'/>", arch="ppc64", machine="pseries", emulator="/usr/bin/qemu-system-ppc64")
    assert ctx_for(ppc).devices.find("video/model").get("type") == "vga"
    assert ctx_for(domain("<graphics type='vnc'/><video><model type='qxl'/></video>")).devices.find(
        "video/model").get("type") == "qxl"


def test_hostdev_list_and_iteration_order() -> None:
    xml = domain("<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>"
                 "<interface type='hostdev'><source><address type='pci' bus='1' slot='2' function='0'/>"
                 "</source></interface><sound model='ich6'/>"
                 "<disk type='file'><source file='/a'/><target dev='vda'/></disk>")
    ctx = ctx_for(xml)
    assert [el.tag for el in devices.hostdevs(ctx)] == ["interface", "hostdev"]
    # Disks, NICs, sounds, host devices, ... as libvirt walks them.
    walked = [el.tag for el in devices.iterate(ctx)]
    assert walked[:4] == ["disk", "interface", "sound", "hostdev"]
    assert walked.index("controller") < walked.index("memballoon")


def test_kept_lists_are_the_lists_found_afresh() -> None:
    xml = domain("<disk type='file'><source file='/b'/><target dev='sdb' bus='scsi'/></disk>"
                 "<disk type='file'><source file='/a'/><target dev='sda' bus='scsi'/></disk>"
                 "<disk type='file'><source file='/c'/><target dev='vda' bus='virtio'/></disk>"
                 "<controller type='usb' index='1'/><controller type='scsi' index='0'/>"
                 "<interface type='user'/><interface type='hostdev'><source>"
                 "<address type='pci' bus='1' slot='2' function='0'/></source></interface>"
                 "<input type='mouse' bus='ps2'/><input type='tablet' bus='usb'/>"
                 "<console type='pty'/><video><model type='vga'/></video>"
                 "<video><model type='qxl' primary='yes'/></video><rng model='virtio'><backend model='random'/></rng>")

    def lists(ctx):
        return (devices.disks(ctx), devices.controllers(ctx), devices.nets(ctx), devices.hostdevs(ctx),
                devices.videos(ctx), devices.inputs(ctx), devices.serials(ctx), devices.iterate(ctx),
                devices.tagged(ctx, "rng"), devices.tagged(ctx, "hub"), devices.first(ctx, "memballoon"),
                devices.first(ctx, "watchdog"), devices.controller(ctx, "scsi", 0), devices.controller(ctx, "usb", 2))

    ctx = ctx_for(xml)
    fresh = lists(ctx)
    ctx.lists = {}
    assert lists(ctx) == fresh == lists(ctx)
    assert [d.find("target").get("dev") for d in fresh[0]] == ["sda", "sdb", "vda"]
