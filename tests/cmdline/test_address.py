"""Automatic addresses: PCI slots with machine reservations and bridges, spapr-vio, ccw, and -device suffixes."""

from __future__ import annotations

import pytest
from emit_helpers import domain, emit_unchecked
from family_ctx import ctx_for
from lxml import etree

from domlint.cmdline import address, alias, devices
from domlint.cmdline.address import PCIAddr, pci_of
from domlint.cmdline.assign import assign
from domlint.errors import InputError

DEV = ["device", "drive"]
NIC = "<interface type='user'><model type='virtio'/></interface>"


def _assigned(xml: str, caps: list[str] = DEV):
    ctx = ctx_for(xml, caps)
    assign(ctx)
    return ctx


def _slot(el: etree._Element) -> tuple[int, int, int]:
    pci = pci_of(el)
    assert pci is not None, etree.tostring(el)
    return pci.bus, pci.slot, pci.function


def test_pc_reserves_piix3_and_video_slots_and_fixes_ide_and_usb() -> None:
    ctx = _assigned(domain(NIC))
    ide = devices.controller(ctx, "ide", 0)
    usb = devices.controller(ctx, "usb", 0)
    # domain.py only adds the IDE controller for IDE disks; USB 0 is implied on pc.
    assert ide is None
    assert _slot(usb) == (0, 1, 2)
    # Slot 1 is the PIIX3 and slot 2 is kept for a video card: the NIC gets 3.
    assert _slot(ctx.devices.find("interface")) == (0, 3, 0)
    assert _slot(ctx.devices.find("memballoon")) == (0, 4, 0)


def test_slot_two_is_free_when_qemu_can_place_the_primary_video_itself() -> None:
    ctx = _assigned(domain(NIC), [*DEV, "device-video-primary"])
    assert _slot(ctx.devices.find("interface")) == (0, 2, 0)


def test_devices_get_slots_in_libvirts_family_order() -> None:
    # Written in reverse of the order libvirt hands out slots.
    xml = domain("<watchdog model='i6300esb'/>"
                 "<rng model='virtio'><backend model='random'/></rng>"
                 "<hostdev mode='subsystem' type='pci'><source><address bus='6' slot='7' function='0'/>"
                 "</source></hostdev>"
                 "<disk type='file'><source file='/a'/><target dev='vda' bus='virtio'/></disk>"
                 "<controller type='scsi' index='0' model='virtio-scsi'/>"
                 "<sound model='ich6'/>" + NIC +
                 "<filesystem type='mount'><source dir='/s'/><target dir='t'/></filesystem>")
    ctx = _assigned(xml)
    order = [ctx.devices.find(p) for p in ("filesystem", "interface", "sound", "controller[@type='scsi']",
                                           "disk", "hostdev", "memballoon", "rng", "watchdog")]
    assert [_slot(el)[1] for el in order] == list(range(3, 12))


def test_written_addresses_are_kept_and_skipped() -> None:
    xml = domain("<interface type='user'><model type='virtio'/>"
                 "<address type='pci' domain='0' bus='0' slot='0x03' function='0'/></interface>" + NIC)
    ctx = _assigned(xml)
    first, second = ctx.devices.findall("interface")
    assert _slot(first) == (0, 3, 0) and _slot(second) == (0, 4, 0)


def test_double_use_of_a_slot_names_the_device_line() -> None:
    xml = domain("<interface type='user'>\n<model type='virtio'/>"
                 "<address type='pci' domain='0' bus='0' slot='5' function='0'/></interface>\n"
                 "<interface type='user'><model type='virtio'/>"
                 "<address type='pci' domain='0' bus='0' slot='5' function='0'/></interface>")
    with pytest.raises(InputError) as err:
        _assigned(xml)
    second = ctx_for(xml, DEV).devices.findall("interface")[1]
    assert err.value.line == second.sourceline
    assert "used twice" in err.value.message


def test_function_zero_with_multifunction_leaves_the_other_functions_free() -> None:
    xml = domain("<controller type='scsi' index='0' model='lsilogic'>"
                 "<address type='pci' domain='0' bus='0' slot='4' function='0' multifunction='on'/></controller>"
                 "<controller type='scsi' index='1' model='lsilogic'>"
                 "<address type='pci' domain='0' bus='0' slot='4' function='1'/></controller>")
    ctx = _assigned(xml, [*DEV, "lsi"])
    assert [_slot(c) for c in devices.controllers(ctx) if c.get("type") == "scsi"] == [(0, 4, 0), (0, 4, 1)]


def test_q35_puts_devices_behind_the_bridges() -> None:
    ctx = _assigned(domain(NIC, machine="pc-q35-2.0"), [*DEV, "pci-bridge", "dmi-to-pci-bridge"])
    dmi = devices.controller(ctx, "pci", 1)
    bridge = devices.controller(ctx, "pci", 2)
    assert _slot(dmi) == (0, 0x1E, 0)          # its usual place on real hardware
    assert _slot(bridge) == (1, 1, 0)          # the first slot of the DMI-PCI bridge
    assert _slot(devices.controller(ctx, "sata", 0)) == (0, 0x1F, 2)
    # Bus 0 (PCIe) and bus 1 (no hotplug) cannot take a hot-pluggable NIC.
    assert _slot(ctx.devices.find("interface")) == (2, 1, 0)


def test_a_full_bus_gets_a_pci_bridge_when_qemu_has_them() -> None:
    xml = domain(NIC * 30)
    ctx = _assigned(xml, [*DEV, "pci-bridge"])
    bridge = devices.controller(ctx, "pci", 1)
    assert bridge is not None and bridge.get("model") == "pci-bridge"
    assert bridge in ctx.implied
    buses = [_slot(n)[0] for n in ctx.devices.findall("interface")]
    assert buses.count(1) > 0 and buses[:28] == [0] * 28


def test_kept_device_lists_take_in_the_bridge_assignment_adds() -> None:
    ctx = ctx_for(domain(NIC * 30), [*DEV, "pci-bridge"])
    ctx.lists = {}  # kept, as build_command and the rules' replay keep them
    assign(ctx)
    kept = (devices.controllers(ctx), devices.iterate(ctx), devices.controller(ctx, "pci", 1))
    ctx.lists = None
    assert kept == (devices.controllers(ctx), devices.iterate(ctx), devices.controller(ctx, "pci", 1))
    assert kept[2] is not None and kept[2] in kept[0]


def test_a_full_bus_without_bridges_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no free PCI slot"):
        _assigned(domain(NIC * 30))


def test_ich9_companions_share_the_ehci_slot() -> None:
    xml = domain("<controller type='usb' index='0' model='ich9-ehci1'/>"
                 "<controller type='usb' index='0' model='ich9-uhci1'/>"
                 "<controller type='usb' index='0' model='ich9-uhci2'/>")
    ctx = _assigned(xml)
    ehci, uhci1, uhci2 = [c for c in devices.controllers(ctx) if c.get("type") == "usb"]
    assert pci_of(ehci) == PCIAddr(0, 0, 3, 7, None)
    assert pci_of(uhci1) == PCIAddr(0, 0, 3, 0, "on")
    assert pci_of(uhci2) == PCIAddr(0, 0, 3, 1, None)


def test_nothing_is_assigned_without_device_support() -> None:
    ctx = _assigned(domain(NIC), ["drive"])
    assert ctx.devices.find("interface/address") is None


def test_spapr_vio_registers_step_past_taken_ones_and_clash_with_written_ones() -> None:
    xml = domain("<serial type='pty'><address type='spapr-vio' reg='0x30000000'/></serial>"
                 "<serial type='pty'/>", arch="ppc64", machine="pseries",
                 emulator="/usr/bin/qemu-system-ppc64")
    ctx = _assigned(xml)
    assert [address.suffix(ctx, s) for s in ctx.devices.findall("serial")] == [
        ",reg=0x30000000", ",reg=0x30001000"]
    clash = domain("<controller type='scsi' index='0'><address type='spapr-vio' reg='0x2000'/></controller>"
                   "<interface type='user'><model type='spapr-vlan'/>"
                   "<address type='spapr-vio' reg='0x2000'/></interface>",
                   arch="ppc64", machine="pseries", emulator="/usr/bin/qemu-system-ppc64")
    with pytest.raises(InputError, match="0x2000"):
        _assigned(clash)


def test_many_spapr_vio_devices_each_get_their_own_register() -> None:
    # 2,000 vSCSI controllers once took seconds (every device recounted every other one; the fuzzer
    # counted it as a hang). Written registers stay put and the others step past them.
    ctls = "".join(f"<controller type='scsi' index='{i}'/>" for i in range(2000))
    written = "<serial type='pty'><address type='spapr-vio' reg='0x2000'/></serial>"
    ctx = _assigned(domain(ctls + written, arch="ppc64", machine="pseries", emulator="/usr/bin/qemu-system-ppc64"))
    regs = [address.suffix(ctx, c) for c in ctx.devices.findall("controller[@type='scsi']")]
    assert len(set(regs)) == 2000 and ",reg=0x2000" not in regs
    assert regs[:2] == [",reg=0x3000", ",reg=0x4000"]
    assert address.suffix(ctx, ctx.devices.find("serial")) == ",reg=0x2000"


def test_a_pci_controller_past_bus_255_is_refused_not_grown_towards() -> None:
    # The rule reports it; without the rules, the emitter refuses rather than make 2**31 buses.
    xml = domain("<controller type='pci' index='0' model='pcie-root'/>"
                 "<controller type='pci' index='2147483647' model='dmi-to-pci-bridge'/>", machine="q35")
    with pytest.raises(InputError, match="PCI controller index 2147483647: a PCI domain has buses 0 to 255 only"):
        emit_unchecked(xml, ["device", "pci-bridge", "dmi-to-pci-bridge"])


def test_ccw_numbers_skip_written_ones() -> None:
    xml = domain("<disk type='file'><source file='/a'/><target dev='vda' bus='virtio'/>"
                 "<address type='ccw' cssid='0xfe' ssid='0' devno='0x0000'/></disk>"
                 "<disk type='file'><source file='/b'/><target dev='vdb' bus='virtio'/></disk>",
                 arch="s390x", machine="s390-ccw-virtio", emulator="/usr/bin/qemu-system-s390x")
    ctx = _assigned(xml, [*DEV, "virtio-ccw"])
    a, b = devices.disks(ctx)
    balloon = ctx.devices.find("memballoon")
    assert [address.suffix(ctx, el) for el in (a, b, balloon)] == [
        ",devno=fe.0.0000", ",devno=fe.0.0001", ",devno=fe.0.0002"]


def test_legacy_s390_and_arm_virtio_transports() -> None:
    s390 = _assigned(domain(NIC, arch="s390x", machine="s390-virtio", emulator="/usr/bin/qemu-system-s390x"),
                     [*DEV, "virtio-s390"])
    assert address.kind(s390.devices.find("interface")) == "virtio-s390"
    arm = _assigned(domain(NIC, arch="armv7l", machine="vexpress-a9", emulator="/usr/bin/qemu-system-arm"),
                    [*DEV, "virtio-mmio"])
    assert address.kind(arm.devices.find("interface")) == "virtio-mmio"


def test_suffix_names_the_root_bus_pci_or_pci_0() -> None:
    ctx = _assigned(domain(NIC))
    nic = ctx.devices.find("interface")
    alias.assign(ctx)
    assert address.suffix(ctx, nic) == ",bus=pci,addr=0x3"
    ctx.caps = ctx.caps.with_flags("pci-multibus")
    assert address.suffix(ctx, nic) == ",bus=pci.0,addr=0x3"


def test_suffix_spells_function_multifunction_and_usb_ports() -> None:
    ctx = ctx_for(domain("<interface type='user'><address type='pci' domain='0' bus='0' slot='0x1f' "
                         "function='2' multifunction='off'/></interface>"
                         "<hub type='usb'><address type='usb' bus='1' port='1.2'/></hub>"), [*DEV, "pci-multibus"])
    alias.assign(ctx)
    assert address.suffix(ctx, ctx.devices.find("interface")) == ",bus=pci.0,multifunction=off,addr=0x1f.0x2"
    assert address.suffix(ctx, ctx.devices.find("hub")) == ",bus=usb1.0,port=1.2"


def test_written_controllers_sort_by_type_and_index_and_implied_ones_follow() -> None:
    ctx = ctx_for(domain("<controller type='scsi' index='1'/><controller type='usb' index='1'/>"
                         "<controller type='scsi' index='0'/>"), DEV)
    order = [(c.get("type"), c.get("index")) for c in devices.controllers(ctx)]
    # usb 0 and pci-root are added by libvirt after the written ones, unsorted.
    assert order == [("scsi", "0"), ("scsi", "1"), ("usb", "1"), ("usb", "0"), ("pci", "0")]


def test_disks_group_by_bus_in_target_order() -> None:
    ctx = ctx_for(domain("<disk type='file'><target dev='vdb'/></disk><disk type='file'><target dev='hda'/></disk>"
                         "<disk type='file'><target dev='vda'/></disk>"), DEV)
    assert [d.find("target").get("dev") for d in devices.disks(ctx)] == ["vda", "vdb", "hda"]


def test_a_pci_bus_beyond_255_is_refused_rather_than_grown() -> None:
    xml = domain("<controller type='pci' index='0' model='pci-root'/>"
                 "<interface type='user'><mac address='52:54:00:00:00:01'/><model type='rtl8139'/>"
                 "<address type='pci' domain='0x0000' bus='4294967295' slot='0x06' function='0x0'/>"
                 "</interface>")
    with pytest.raises(InputError, match="PCI bus 4294967295 cannot exist"):
        emit_unchecked(xml, ["device", "pci-bridge", "netdev"])


@pytest.mark.parametrize(("kind", "attrs", "numbers"), [
    # libvirt reads drive, virtio-serial and ccid numbers in decimal, PCI and ccw with C prefixes,
    # spapr-vio registers in hexadecimal.
    ("drive", {"controller": "010", "bus": "0", "target": "0", "unit": "1"}, (10, 0, 0, 1)),
    ("virtio-serial", {"controller": "0", "bus": "0", "port": "012"}, (0, 0, 12)),
    ("pci", {"domain": "0", "bus": "0", "slot": "010", "function": "0x1"}, (0, 0, 8, 1)),
    ("spapr-vio", {"reg": "2000"}, (0x2000,)),
])
def test_address_numbers_are_read_in_the_base_libvirt_uses(kind: str, attrs: dict[str, str],
                                                           numbers: tuple[int, ...]) -> None:
    addr = etree.Element("address", {"type": kind, **attrs})
    assert address.address_numbers(addr, kind) == numbers


def test_a_hexadecimal_drive_address_is_not_a_number() -> None:
    xml = domain("<disk type='file'><source file='/a'/><target dev='sda' bus='scsi'/>"
                 "<address type='drive' controller='0x1' bus='0' target='0' unit='0'/></disk>")
    with pytest.raises(InputError, match="drive address controller '0x1' is not a decimal integer"):
        emit_unchecked(xml, ["device", "drive", "scsi-disk.channel"])
