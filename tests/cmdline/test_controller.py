"""Controllers: device strings, the order they are emitted in, -usb, and the 64-bit PCI hole."""

from __future__ import annotations

import pytest
from emit_helpers import domain, emit_unchecked
from family_ctx import ctx_for

from domlint.cmdline import alias, controller
from domlint.cmdline.assign import assign
from domlint.cmdline.command import Command
from domlint.cmdline.context import Ctx
from domlint.errors import InputError

DEV = ["device", "drive", "pci-multibus"]


def _prepared(xml: str, caps: list[str]) -> Ctx:
    ctx = ctx_for(xml, caps)
    assign(ctx)
    alias.assign(ctx)
    return ctx


def _emitted(xml: str, caps: list[str]) -> list[str]:
    cmd = Command()
    controller.controllers(_prepared(xml, caps), cmd)
    return cmd.args


@pytest.mark.parametrize(("xml", "caps", "want"), [
    ("<controller type='scsi' index='0' model='virtio-scsi'><driver queues='4' cmd_per_lun='8'/></controller>",
     [], "virtio-scsi-pci,id=scsi0,num_queues=4,cmd_per_lun=8,bus=pci.0,addr=0x3"),
    ("<controller type='scsi' index='2'/>", ["lsi"], "lsi,id=scsi2,bus=pci.0,addr=0x3"),
    ("<controller type='scsi' index='0' model='lsisas1078'/>", [], "megasas,id=scsi0,bus=pci.0,addr=0x3"),
    ("<controller type='virtio-serial' index='1' ports='16' vectors='4'/>", [],
     "virtio-serial-pci,id=virtio-serial1,max_ports=16,vectors=4,bus=pci.0,addr=0x3"),
    ("<controller type='sata' index='0'/>", [], "ahci,id=ahci0,bus=pci.0,addr=0x3"),
    ("<controller type='ccid' index='0'/>", [], "usb-ccid,id=ccid0"),
    ("<controller type='usb' index='1' model='ich9-uhci3'/>", [],
     "ich9-usb-uhci3,masterbus=usb1.0,firstport=4,bus=pci.0,addr=0x3.0x2"),
    ("<controller type='usb' index='0' model='nec-xhci'><master startport='2'/></controller>", [],
     "nec-usb-xhci,masterbus=usb.0,firstport=2,bus=pci.0,addr=0x3"),
    ("<controller type='pci' index='1' model='pci-bridge'/>", ["pci-bridge"],
     "pci-bridge,chassis_nr=1,id=pci.1,bus=pci.0,addr=0x3"),
])
def test_controller_device_strings(xml: str, caps: list[str], want: str) -> None:
    ctx = _prepared(domain(xml), DEV + caps)
    ctl = ctx.devices.find("controller")  # the written one; implied ones come after it
    assert controller.controller_str(ctx, ctl) == want


def test_types_are_emitted_pci_usb_scsi_sata_virtio_serial_ccid() -> None:
    xml = domain("<controller type='ccid' index='0'/><controller type='virtio-serial' index='0'/>"
                 "<controller type='sata' index='0'/><controller type='scsi' index='0' model='lsilogic'/>"
                 "<controller type='usb' index='0' model='piix3-uhci'/>"
                 "<controller type='pci' index='1' model='pci-bridge'/>")
    args = _emitted(xml, [*DEV, "pci-bridge", "piix3-usb-uhci"])
    assert [a.split(",")[0] for a in args[1::2]] == [
        "pci-bridge", "piix3-usb-uhci", "lsi", "ahci", "virtio-serial-pci", "usb-ccid"]
    assert "-usb" not in args


def test_default_usb_controller_falls_back_to_dash_usb() -> None:
    # Without piix3-usb-uhci QEMU only knows the built-in controller.
    assert _emitted(domain(""), DEV) == ["-usb"]
    assert _emitted(domain(""), [*DEV, "piix3-usb-uhci"]) == ["-device", "piix3-usb-uhci,id=usb,bus=pci.0,addr=0x1.0x2"]
    # Without -device there is no controller device at all.
    assert _emitted(domain(""), ["drive"]) == ["-usb"]


def test_no_usb_at_all() -> None:
    assert _emitted(domain("<controller type='usb' index='0' model='none'/>"), DEV) == []
    # q35 has its own USB and its own SATA controller 0.
    assert _emitted(domain("", machine="pc-q35-2.0"), [*DEV, "pci-bridge", "dmi-to-pci-bridge"]) == [
        "-device", "i82801b11-bridge,id=pci.1,bus=pcie.0,addr=0x1e",
        "-device", "pci-bridge,chassis_nr=2,id=pci.2,bus=pci.1,addr=0x1"]


def test_ppc64_usb_defaults_to_ohci() -> None:
    xml = domain("", arch="ppc64", machine="pseries", emulator="/usr/bin/qemu-system-ppc64")
    assert _emitted(xml, ["device", "pci-ohci", "piix3-usb-uhci"]) == ["-device", "pci-ohci,id=usb,bus=pci,addr=0x1"]


def test_pci_hole64_global_for_the_root_bus() -> None:
    xml = domain("<controller type='pci' index='0' model='pci-root'><pcihole64 unit='MiB'>1</pcihole64>"
                 "</controller>")
    assert _emitted(xml, DEV)[:2] == ["-global", "i440FX-pcihost.pci-hole64-size=1024K"]


def test_unreadable_companion_start_port_is_an_input_error() -> None:
    xml = domain("<controller type='usb' index='0' model='ich9-ehci1'/>"
                 "<controller type='usb' index='0' model='ich9-uhci1'><master startport='abc'/></controller>")
    with pytest.raises(InputError, match=r"USB master startport 'abc' is not a decimal integer"):
        emit_unchecked(xml, ["device", "ich9-usb-ehci1", "pci-multibus"])
