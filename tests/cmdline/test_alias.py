"""Device aliases under each naming scheme libvirt 1.2.8 uses."""

from __future__ import annotations

import pytest
from emit_helpers import domain
from family_ctx import ctx_for

from domlint.cmdline import alias, devices
from domlint.cmdline.assign import assign
from domlint.errors import InputError


def _aliases(xml: str, caps: list[str], tag: str) -> list[str | None]:
    ctx = ctx_for(xml, caps)
    if "device" in caps:
        assign(ctx)
    alias.assign(ctx)
    return [alias.name(el) for el in ctx.devices.iterfind(tag)]


DISKS = ("<disk type='file' device='disk'><source file='/a'/><target dev='hda' bus='ide'/></disk>"
         "<disk type='file' device='cdrom'><source file='/b'/><target dev='hdc' bus='ide'/></disk>"
         "<disk type='file' device='disk'><source file='/c'/><target dev='vdb' bus='virtio'/></disk>"
         "<disk type='file' device='floppy'><source file='/d'/><target dev='fdb' bus='fdc'/></disk>")


@pytest.mark.parametrize(("caps", "want"), [
    # With -device: drive addresses for IDE and floppy, the target index for virtio.
    (["drive", "device"], ["ide0-0-0", "ide0-1-0", "virtio-disk1", "fdc0-0-1"]),
    # -drive without ids: bus and unit derived from the target name.
    (["drive"], ["ide0-hd0", "ide1-cd0", "virtio1", "floppy1"]),
    # Before -drive: the target name, and 'cdrom' for hdc.
    ([], ["hda", "cdrom", "vdb", "fdb"]),
])
def test_disk_aliases_follow_the_naming_scheme(caps: list[str], want: list[str]) -> None:
    assert _aliases(domain(DISKS), caps, "disk") == want


def test_scsi_disk_alias_has_a_target_unless_the_controller_is_lsi() -> None:
    xml = domain("<controller type='scsi' index='0' model='virtio-scsi'/><controller type='scsi' index='1'/>"
                 "<disk type='file'><source file='/a'/><target dev='sda' bus='scsi'/>"
                 "<address type='drive' controller='0' bus='0' target='2' unit='3'/></disk>"
                 "<disk type='file'><source file='/b'/><target dev='sdb' bus='scsi'/>"
                 "<address type='drive' controller='1' bus='0' target='0' unit='1'/></disk>")
    # scsi1 has no model: with lsi support libvirt picks lsilogic for it.
    assert _aliases(xml, ["drive", "device", "lsi", "virtio-scsi-pci"], "disk") == ["scsi0-0-2-3", "scsi1-0-1"]
    with pytest.raises(InputError, match="SCSI controller model"):
        _aliases(xml, ["drive", "device"], "disk")


def test_nic_aliases_count_hostdev_interfaces_which_are_named_as_host_devices() -> None:
    xml = domain("<interface type='user'/><interface type='hostdev'><source>"
                 "<address type='pci' domain='0' bus='6' slot='7' function='0'/></source></interface>"
                 "<interface type='user'/><hostdev mode='subsystem' type='usb'><source>"
                 "<address bus='1' device='2'/></source></hostdev>")
    ctx = ctx_for(xml, ["device"])
    assign(ctx)
    alias.assign(ctx)
    assert [alias.name(n) for n in ctx.devices.iterfind("interface")] == ["net0", "hostdev0", "net2"]
    assert alias.name(ctx.devices.find("hostdev")) == "hostdev1"


def test_nics_are_named_only_when_qemu_can_take_names() -> None:
    assert _aliases(domain("<interface type='user'/>"), [], "interface") == [None]
    assert _aliases(domain("<interface type='user'/>"), ["0.10"], "interface") == ["net0"]


def test_controller_aliases() -> None:
    names = _aliases(domain("<controller type='virtio-serial' index='1'/>", machine="pc-q35-2.0"),
                     ["device", "pci-bridge", "dmi-to-pci-bridge"], "controller")
    assert set(names) == {"virtio-serial1", "pcie.0", "pci.1", "pci.2", "sata0"}


def test_lone_console_of_an_hvm_guest_is_serial_zero() -> None:
    # Normalisation moves such a console into a serial port, which is the one named.
    assert _aliases(domain("<console type='pty'/>"), ["device"], "serial") == ["serial0"]
    ctx = ctx_for(domain("<serial type='pty'/><console type='pty'/><console type='pty'>"
                         "<target type='virtio'/></console>"), ["device"])
    alias.assign(ctx)
    assert [alias.name(c) for c in ctx.devices.iterfind("console")] == ["console0", "console1"]
    assert devices.serials(ctx) == [ctx.devices.find("serial")]


def test_implicit_ps2_inputs_take_no_number() -> None:
    xml = domain("<input type='mouse' bus='ps2'/><input type='tablet' bus='usb'/>")
    assert _aliases(xml, ["device"], "input") == [None, "input0"]


def test_primary_video_is_video0_and_singletons_are_numbered_zero() -> None:
    xml = domain("<video><model type='qxl'/></video><video><model type='qxl' primary='yes'/></video>"
                 "<watchdog model='ib700'/><tpm><backend type='passthrough'/></tpm>")
    ctx = ctx_for(xml, ["device"])
    alias.assign(ctx)
    assert [alias.name(v) for v in ctx.devices.iterfind("video")] == ["video1", "video0"]
    assert [alias.name(ctx.devices.find(t)) for t in ("watchdog", "tpm", "memballoon")] == [
        "watchdog0", "tpm0", "balloon0"]


def test_aliases_written_in_the_xml_are_replaced() -> None:
    assert _aliases(domain("<hub type='usb'><alias name='mine'/></hub>"), ["device"], "hub") == ["hub0"]
