"""libvirt 9.0's address assignment and aliases; expected values worked out from qemu_domain_address.c and
conf/domain_addr.c (slot order, connect flags, dry run adding controllers), not copied from .args files."""

from __future__ import annotations

from typing import Any

import pytest
from emit9 import ctx_for, domain

from domlint.cmdline.context import Ctx
from domlint.cmdline9 import address as A
from domlint.cmdline9 import prepare

pytestmark = pytest.mark.libvirt("9.0")

PC_CAPS = ("piix3-usb-uhci", "lsi", "virtio-scsi-pci")
Q35_CAPS = ("qemu-xhci", "pcie-root-port", "virtio-pci-non-transitional", "pcie-pci-bridge", "device.json+hotplug")


def prepared(xml: str, caps: tuple[str, ...] = PC_CAPS, **state: Any) -> Ctx:
    """A context with addresses and aliases assigned."""
    ctx = ctx_for(xml, caps, **state)
    prepare.prepare(ctx)
    return ctx


def by_alias(ctx: Ctx, alias: str) -> Any:
    """The (first) device with this alias."""
    return next(el for _, el in A.all_devices(ctx) if A.alias_of(el) == alias)


def props_of(ctx: Ctx, alias: str) -> dict[str, Any]:
    return A.props(ctx, by_alias(ctx, alias))


# --------------------------------------------------------------------------- i440fx


def test_i440fx_piix3_slot_one_video_two_then_the_rest_in_libvirts_order() -> None:
    # PIIX3: IDE at 1.1, USB at 1.2; the primary VGA always lands in slot 2;
    # then NICs before the balloon, from slot 3 on.
    ctx = prepared(domain("<controller type='ide' index='0'/><interface type='user'><model type='rtl8139'/>"
                          "</interface><video><model type='cirrus'/></video><memballoon model='virtio'/>"))
    assert props_of(ctx, "video0") == {"bus": "pci.0", "addr": "0x2"}
    assert props_of(ctx, "net0") == {"bus": "pci.0", "addr": "0x3"}
    assert props_of(ctx, "balloon0") == {"bus": "pci.0", "addr": "0x4"}
    usb = by_alias(ctx, "usb")
    assert (usb.get("model"), A.pci_of(usb)) == ("piix3-uhci", A.PCIAddr(0, 0, 1, 2))
    assert A.pci_of(by_alias(ctx, "ide")) == A.PCIAddr(0, 0, 1, 1)


def test_without_piix3_usb_the_usb_controller_keeps_no_model() -> None:
    ctx = prepared(domain(), caps=())
    assert by_alias(ctx, "usb").get("model") is None


def test_a_written_address_is_kept_and_its_slot_skipped() -> None:
    ctx = prepared(domain("<interface type='user'><model type='e1000'/>"
                          "<address type='pci' domain='0' bus='0' slot='3' function='0'/></interface>"
                          "<memballoon model='virtio'/>"))
    # No video here, so slot 2 is free for the balloon.
    assert props_of(ctx, "net0") == {"bus": "pci.0", "addr": "0x3"}
    assert props_of(ctx, "balloon0") == {"bus": "pci.0", "addr": "0x2"}


def test_function_zero_of_a_shared_slot_becomes_multifunction() -> None:
    ctx = prepared(domain(
        "<interface type='user'><model type='e1000'/><address type='pci' bus='0' slot='5' function='0'/></interface>"
        "<interface type='user'><model type='e1000'/><address type='pci' bus='0' slot='5' function='1'/></interface>"))
    assert props_of(ctx, "net0") == {"bus": "pci.0", "multifunction": True, "addr": "0x5"}
    assert props_of(ctx, "net1") == {"bus": "pci.0", "addr": "0x5.0x1"}


def test_a_full_pci_root_gets_a_pci_bridge() -> None:
    # Dry run: slot 1 is the PIIX3, 2 the video, 3 a spare kept for a bridge;
    # 28 NICs fill slots 4-31, so the last two need bus 1: a pci-bridge is added.
    # For real, PCI controllers come first: the bridge takes slot 3, NICs 4-31,
    # and the last two NICs go to the bridge's slots 1 and 2.
    nics = "".join("<interface type='user'><model type='e1000'/></interface>" for _ in range(30))
    ctx = prepared(domain(nics + "<video><model type='cirrus'/></video><memballoon model='none'/>"))
    bridge = A.controller(ctx, "pci", 1)
    assert bridge is not None and bridge.get("model") == "pci-bridge"
    assert bridge.find("target").get("chassisNr") == "1"
    assert A.pci_of(bridge) == A.PCIAddr(0, 0, 3, 0)
    assert props_of(ctx, "net0") == {"bus": "pci.0", "addr": "0x4"}
    assert props_of(ctx, "net28") == {"bus": "pci.1", "addr": "0x1"}
    assert props_of(ctx, "net29") == {"bus": "pci.1", "addr": "0x2"}


# --------------------------------------------------------------------------- q35


def test_q35_adds_root_ports_for_pcie_devices_and_one_spare() -> None:
    # qemu-xhci and a virtio balloon are PCIe devices; pcie-root takes no
    # auto-assigned endpoints, so each gets a pcie-root-port, and libvirt adds
    # one empty port for hotplug. Ports aggregate on slot 1: 1.0, 1.1, 1.2.
    ctx = prepared(domain("<memballoon model='virtio'/>", machine="q35"), caps=Q35_CAPS)
    ports = [c for c in A.controllers(ctx) if c.get("model") == "pcie-root-port"]
    assert [A.index(c) for c in ports] == [1, 2, 3]
    assert [A.pci_of(c) for c in ports] == [A.PCIAddr(0, 0, 1, 0, "on"), A.PCIAddr(0, 0, 1, 1), A.PCIAddr(0, 0, 1, 2)]
    assert [(c.find("target").get("chassis"), c.find("target").get("port")) for c in ports] == \
        [("1", "0x8"), ("2", "0x9"), ("3", "0xa")]
    assert props_of(ctx, "usb") == {"bus": "pci.1", "addr": "0x0"}
    assert props_of(ctx, "balloon0") == {"bus": "pci.2", "addr": "0x0"}
    assert A.pci_of(by_alias(ctx, "ide")) == A.PCIAddr(0, 0, 0x1F, 2)


def test_q35_without_transitional_virtio_puts_virtio_on_conventional_pci() -> None:
    # Without virtio-pci-non-transitional, virtio devices need a conventional
    # slot: after qemu-xhci's root port (1), a root port only for the bridge (2)
    # and a pcie-to-pci-bridge (3); then the spare hotplug root port (4).
    caps = tuple(c for c in Q35_CAPS if c != "virtio-pci-non-transitional")
    ctx = prepared(domain("<memballoon model='virtio'/>", machine="q35"), caps=caps)
    models = [(A.index(c), c.get("model")) for c in A.controllers(ctx) if c.get("type") == "pci"]
    assert models == [(0, "pcie-root"), (1, "pcie-root-port"), (2, "pcie-root-port"), (3, "pcie-to-pci-bridge"),
                      (4, "pcie-root-port")]
    assert props_of(ctx, "balloon0") == {"bus": "pci.3", "addr": "0x1"}


def test_q35_conventional_pci_without_pcie_pci_bridge_uses_dmi_bridge_at_1e() -> None:
    caps = tuple(c for c in Q35_CAPS if c not in ("pcie-pci-bridge", "virtio-pci-non-transitional"))
    ctx = prepared(domain("<interface type='user'><model type='rtl8139'/></interface><memballoon model='none'/>",
                          machine="q35"), caps=caps)
    dmi, bridge = A.controller(ctx, "pci", 1), A.controller(ctx, "pci", 2)
    assert (dmi.get("model"), A.pci_of(dmi)) == ("dmi-to-pci-bridge", A.PCIAddr(0, 0, 0x1E, 0))
    assert (bridge.get("model"), A.pci_of(bridge)) == ("pci-bridge", A.PCIAddr(0, 1, 0, 0))
    assert props_of(ctx, "net0") == {"bus": "pci.2", "addr": "0x1"}


def test_q35_primary_video_takes_slot_one() -> None:
    ctx = prepared(domain("<video><model type='qxl'/></video><memballoon model='none'/>", machine="q35"),
                   caps=Q35_CAPS)
    assert props_of(ctx, "video0") == {"bus": "pcie.0", "addr": "0x1"}


def test_q35_ich9_usb2_goes_to_1d_with_companions_on_its_functions() -> None:
    ctx = prepared(domain("<controller type='usb' index='0' model='ich9-ehci1'/>"
                          "<controller type='usb' index='0' model='ich9-uhci1'/>"
                          "<memballoon model='none'/>", machine="q35"), caps=(*Q35_CAPS, "ich9-usb-ehci1"))
    ehci, uhci = (c for c in A.controllers(ctx) if c.get("type") == "usb")
    assert A.pci_of(uhci) == A.PCIAddr(0, 0, 0x1D, 0, "on")
    assert A.pci_of(ehci) == A.PCIAddr(0, 0, 0x1D, 7)
    assert uhci.find("master").get("startport") == "0"


# --------------------------------------------------------------------------- other buses


def test_usb_ports_in_order_and_a_hub_when_ports_run_out() -> None:
    # piix3-uhci has 2 ports; 3 USB devices need one hub ((3-2+1)/7 rounded
    # up). The hub is placed first (port 1), then the devices: 2, 1.1, 1.2.
    inputs = ("<input type='tablet' bus='usb'/><input type='keyboard' bus='usb'/>"
              "<input type='mouse' bus='usb'/>")
    ctx = prepared(domain(inputs))
    assert props_of(ctx, "hub0") == {"bus": "usb.0", "port": "1"}
    assert [props_of(ctx, f"input{i}")["port"] for i in range(3)] == ["2", "1.1", "1.2"]


def test_usb_ports_are_left_alone_for_an_incoming_migration_with_missing_ones() -> None:
    ctx = ctx_for(domain("<input type='tablet' bus='usb'/>"), PC_CAPS)
    ctx.opts = type(ctx.opts)(migrate_from="stdio")
    prepare.prepare(ctx)
    assert by_alias(ctx, "input0").find("address") is None


def test_virtio_serial_console_reserves_port_zero_channels_start_at_one() -> None:
    ctx = prepared(domain("<console type='pty'><target type='virtio'/></console>"
                          "<channel type='pty'><target type='virtio' name='a'/></channel>"
                          "<channel type='pty'><target type='virtio' name='b'/></channel>"))
    assert by_alias(ctx, "console0").find("address") is None
    assert props_of(ctx, "channel0") == {"bus": "virtio-serial0.0", "nr": 1}
    assert props_of(ctx, "channel1") == {"bus": "virtio-serial0.0", "nr": 2}


def test_spapr_vio_registers_step_by_0x1000() -> None:
    xml = domain("<serial type='pty'/><serial type='pty'/><interface type='user'><model type='spapr-vlan'/>"
                 "</interface><memballoon model='none'/>", arch="ppc64", machine="pseries",
                 emulator="/usr/bin/qemu-system-ppc64")
    ctx = prepared(xml, caps=())
    assert props_of(ctx, "net0") == {"reg": 0x1000}
    assert props_of(ctx, "serial0") == {"reg": 0x30000000}
    assert props_of(ctx, "serial1") == {"reg": 0x30001000}


def test_s390_ccw_devnos_skip_the_ones_written() -> None:
    xml = domain("<disk type='file' device='disk'><source file='/a'/><target dev='vda' bus='virtio'/></disk>"
                 "<interface type='user'><model type='virtio'/>"
                 "<address type='ccw' cssid='0xfe' ssid='0' devno='0x0000'/></interface>"
                 "<memballoon model='virtio'/>", arch="s390x", machine="s390-ccw-virtio",
                 emulator="/usr/bin/qemu-system-s390x", os="")
    ctx = prepared(xml, caps=())
    assert props_of(ctx, "virtio-disk0") == {"devno": "fe.0.0001"}
    assert props_of(ctx, "net0") == {"devno": "fe.0.0000"}
    assert props_of(ctx, "balloon0") == {"devno": "fe.0.0002"}


# --------------------------------------------------------------------------- aliases and props


def test_user_aliases_stay_others_are_replaced() -> None:
    ctx = prepared(domain("<interface type='user'><alias name='ua-mynet'/><model type='e1000'/></interface>"
                          "<interface type='user'><alias name='net7'/><model type='e1000'/></interface>"))
    aliases = [A.alias_of(n) for n in ctx.devices.iterfind("interface")]
    assert aliases == ["ua-mynet", "net0"]


def test_hostdev_interfaces_and_hostdevs_share_the_hostdev_numbering() -> None:
    ctx = prepared(domain("<interface type='hostdev'><source><address type='pci' domain='0' bus='6' slot='0x12' "
                          "function='1'/></source></interface>"
                          "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='6' slot='0x12' "
                          "function='2'/></source></hostdev>"))
    assert A.alias_of(ctx.devices.find("interface")) == "hostdev0"
    assert A.alias_of(ctx.devices.find("hostdev")) == "hostdev1"


def test_user_aliased_pci_root_keeps_qemus_bus_name() -> None:
    ctx = prepared(domain("<controller type='pci' index='0' model='pci-root'><alias name='ua-root'/></controller>"
                          "<memballoon model='virtio'/>"))
    assert props_of(ctx, "balloon0")["bus"] == "pci.0"


def test_drive_props_per_bus() -> None:
    disks = ("<disk type='file' device='disk'><source file='/a'/><target dev='hdb' bus='ide'/></disk>"
             "<disk type='file' device='disk'><source file='/b'/><target dev='sda' bus='scsi'/></disk>")
    ctx = prepared(domain(disks + "<controller type='scsi' index='0' model='virtio-scsi'/>"))
    assert props_of(ctx, "ide0-0-1") == {"bus": "ide.0", "unit": 1}
    assert props_of(ctx, "scsi0-0-0-0") == {"bus": "scsi0.0", "channel": 0, "scsi-id": 0, "lun": 0}


def test_acpi_index_follows_the_pci_address() -> None:
    ctx = prepared(domain("<interface type='user'><model type='e1000'/><acpi index='7'/></interface>"))
    assert props_of(ctx, "net0") == {"bus": "pci.0", "addr": "0x2", "acpi-index": 7}


def test_usb_port_prints_up_to_the_first_zero() -> None:
    assert A.usb_port_str("1.2.0.4") == "1.2"
    assert A.usb_port_str(None) == ""


def test_pcie_switch_ports_chain_and_devices_fill_the_downstream_port() -> None:
    # Root port 1 on pcie.0 (1.0); the upstream port only fits the root port's
    # slot, the downstream port only the upstream's; qemu-xhci then takes the
    # downstream port's slot, and the balloon needs a new root port (1.1).
    ctx = prepared(domain("<controller type='pci' index='1' model='pcie-root-port'/>"
                          "<controller type='pci' index='2' model='pcie-switch-upstream-port'/>"
                          "<controller type='pci' index='3' model='pcie-switch-downstream-port'/>"
                          "<memballoon model='virtio'/>", machine="q35"), caps=Q35_CAPS)
    ctl = {A.index(c): c for c in A.controllers(ctx) if c.get("type") == "pci"}
    assert [A.pci_of(ctl[i]) for i in (1, 2, 3)] == [A.PCIAddr(0, 0, 1, 0, "on"), A.PCIAddr(0, 1, 0, 0),
                                                     A.PCIAddr(0, 2, 0, 0)]
    assert (ctl[3].find("target").get("chassis"), ctl[3].find("target").get("port")) == ("3", "0x0")
    assert props_of(ctx, "usb") == {"bus": "pci.3", "addr": "0x0"}
    assert (ctl[4].get("model"), A.pci_of(ctl[4])) == ("pcie-root-port", A.PCIAddr(0, 0, 1, 1))
    assert props_of(ctx, "balloon0") == {"bus": "pci.4", "addr": "0x0"}


def test_pci_expander_buses_count_bus_numbers_down_from_254() -> None:
    ctx = prepared(domain("<controller type='pci' index='1' model='pci-expander-bus'/>"
                          "<controller type='pci' index='2' model='pci-expander-bus'/>"))
    busnr = [c.find("target").get("busNr") for c in A.controllers(ctx) if c.get("model") == "pci-expander-bus"]
    assert busnr == ["254", "252"]


def test_virtio_serial_adds_a_controller_when_the_ports_run_out() -> None:
    ctx = prepared(domain("<controller type='virtio-serial' index='0' ports='1'/>"
                          "<channel type='pty'><target type='virtio' name='a'/></channel>"
                          "<channel type='pty'><target type='virtio' name='b'/></channel>"))
    assert A.controller(ctx, "virtio-serial", 1) is not None
    assert props_of(ctx, "channel0") == {"bus": "virtio-serial1.0", "nr": 1}
    assert props_of(ctx, "channel1") == {"bus": "virtio-serial1.0", "nr": 2}


def test_dimm_slots_and_their_aliases() -> None:
    mem = ("<memory model='dimm'><target><size unit='KiB'>524288</size><node>0</node></target>"
           "<address type='dimm' slot='0'/></memory>"
           "<memory model='dimm'><target><size unit='KiB'>524288</size><node>0</node></target></memory>")
    top = ("<maxMemory slots='4' unit='KiB'>4194304</maxMemory>"
           "<cpu><numa><cell id='0' cpus='0' memory='219136' unit='KiB'/></numa></cpu>")
    ctx = prepared(domain(mem, top=top))
    mems = list(ctx.devices.iterfind("memory"))
    assert [A.alias_of(m) for m in mems] == ["dimm0", "dimm1"]
    assert props_of(ctx, "dimm1") == {"slot": 1}


def test_s390_pci_host_device_gets_zpci_ids() -> None:
    xml = domain("<hostdev mode='subsystem' type='pci'><driver name='vfio'/><source><address domain='0' bus='0' "
                 "slot='1' function='0'/></source></hostdev><memballoon model='none'/>", arch="s390x",
                 machine="s390-ccw-virtio", emulator="/usr/bin/qemu-system-s390x", os="")
    ctx = prepared(xml, caps=("zpci", "vfio-pci"))
    hd = by_alias(ctx, "hostdev0")
    assert A.props(ctx, hd) == {"bus": "pci.0", "addr": "0x1"}
    assert A.zpci_props(hd) == {"driver": "zpci", "uid": 1, "fid": 0, "target": "hostdev0", "id": "zpci1"}


def test_pseries_host_devices_of_other_iommu_groups_get_their_own_phb() -> None:
    from emit9 import HOST

    from domlint import host as hostmod

    raw = {**HOST.raw, "pci_devices": {"0001:01:00.0": {"iommu_group": 5}, "0001:01:00.1": {"iommu_group": 5},
                                       "0005:90:01.0": {"iommu_group": 7}}}
    host = hostmod.from_dict("t", raw)
    hostdevs = "".join(
        f"<hostdev mode='subsystem' type='pci'><driver name='vfio'/><source><address domain='{d}' bus='{b}' "
        f"slot='{s}' function='{f}'/></source></hostdev>"
        for d, b, s, f in (("1", "1", "0", "0"), ("5", "0x90", "1", "0"), ("1", "1", "0", "1")))
    xml = domain(hostdevs + "<controller type='usb' model='none'/><memballoon model='none'/>", arch="ppc64",
                 machine="pseries", emulator="/usr/bin/qemu-system-ppc64")
    ctx = ctx_for(xml, (), host=host)
    prepare.prepare(ctx)
    # The default PHB takes no host devices: group 5 gets PHB 1, group 7 PHB 2.
    assert [props_of(ctx, f"hostdev{i}")["bus"] for i in range(3)] == ["pci.1.0", "pci.2.0", "pci.1.0"]
    assert [props_of(ctx, f"hostdev{i}")["addr"] for i in range(3)] == ["0x1", "0x1", "0x2"]
