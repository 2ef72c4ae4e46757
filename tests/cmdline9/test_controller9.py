"""libvirt 9.0's controller arguments (qemuBuildControllersCommandLine and friends); expected values worked
out from qemu_command.c's property lists and order, not copied from .args files."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emit9 import after, ctx_for, domain

from domlint.cmdline.command import Command
from domlint.cmdline.context import Ctx
from domlint.cmdline9 import controller, prepare

pytestmark = pytest.mark.libvirt("9.0")

PC_CAPS = ("piix3-usb-uhci", "lsi", "virtio-scsi-pci")
Q35_CAPS = ("qemu-xhci", "pcie-root-port", "virtio-pci-non-transitional", "pcie-pci-bridge", "device.json+hotplug")


def controller_words(xml: str, caps: tuple[str, ...] = PC_CAPS) -> list[str]:
    """The words of the four controller stages for a domain."""
    ctx: Ctx = ctx_for(xml, caps)
    prepare.prepare(ctx)
    cmd = Command(emulator=ctx.emulator)
    for stage in (controller.global_controllers, controller.controllers, controller.hubs,
                  controller.ccid_controllers):
        stage(ctx, cmd)
    return cmd.words()[1:]


def devices(words: list[str]) -> list[Any]:
    """Every -device value, parsed when it is JSON."""
    return [json.loads(v) if v.startswith("{") else v for v in after(words, "-device")]


def test_i440fx_usb_is_piix3_on_slot_1_2() -> None:
    words = controller_words(domain())
    assert devices(words) == ["piix3-usb-uhci,id=usb,bus=pci.0,addr=0x1.0x2"]
    assert "-usb" not in words


def test_legacy_usb_when_qemu_has_no_usb_controller_device() -> None:
    assert controller_words(domain(), caps=()) == ["-usb"]


def test_no_usb_at_all_with_model_none() -> None:
    assert controller_words(domain("<controller type='usb' model='none'/>")) == []


def test_q35_root_ports_usb_and_json() -> None:
    words = controller_words(domain("<memballoon model='virtio'/>", machine="q35"), caps=Q35_CAPS)
    assert devices(words) == [
        {"driver": "pcie-root-port", "port": 8, "chassis": 1, "id": "pci.1", "bus": "pcie.0", "multifunction": True,
         "addr": "0x1"},
        {"driver": "pcie-root-port", "port": 9, "chassis": 2, "id": "pci.2", "bus": "pcie.0", "addr": "0x1.0x1"},
        {"driver": "pcie-root-port", "port": 10, "chassis": 3, "id": "pci.3", "bus": "pcie.0", "addr": "0x1.0x2"},
        {"driver": "qemu-xhci", "id": "usb", "bus": "pci.1", "addr": "0x0"},
    ]


def test_ioh3420_when_qemu_lacks_the_generic_root_port() -> None:
    caps = (*(c for c in Q35_CAPS if c != "pcie-root-port"), "ioh3420")
    words = controller_words(domain("<memballoon model='none'/>", machine="q35"), caps=caps)
    assert devices(words)[0]["driver"] == "ioh3420"


def test_ich9_companions_name_their_master_bus() -> None:
    xml = domain("<controller type='usb' index='0' model='ich9-ehci1'/>"
                 "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>"
                 "<controller type='usb' index='0' model='ich9-uhci2'/>")
    assert devices(controller_words(xml, caps=(*PC_CAPS, "ich9-usb-ehci1"))) == [
        "ich9-usb-ehci1,id=usb,bus=pci.0,addr=0x2.0x7",
        "ich9-usb-uhci1,masterbus=usb.0,firstport=0,bus=pci.0,multifunction=on,addr=0x2",
        "ich9-usb-uhci2,masterbus=usb.0,firstport=2,bus=pci.0,addr=0x2.0x1",
    ]


def test_xhci_ports_go_to_both_speeds() -> None:
    xml = domain("<controller type='usb' index='0' model='qemu-xhci' ports='8'/>")
    assert devices(controller_words(xml, caps=(*PC_CAPS, "qemu-xhci"))) == [
        "qemu-xhci,p2=8,p3=8,id=usb,bus=pci.0,addr=0x2"]


def test_scsi_controllers_in_type_order_after_usb() -> None:
    xml = domain("<controller type='scsi' index='1' model='lsilogic'/>"
                 "<controller type='scsi' index='0' model='virtio-scsi'><driver queues='4' iothread='2' "
                 "ioeventfd='off'/></controller>")
    assert devices(controller_words(xml)) == [
        "piix3-usb-uhci,id=usb,bus=pci.0,addr=0x1.0x2",
        "virtio-scsi-pci,iothread=iothread2,id=scsi0,num_queues=4,ioeventfd=off,bus=pci.0,addr=0x2",
        "lsi,id=scsi1,bus=pci.0,addr=0x3",
    ]


def test_default_scsi_model_is_lsi_when_qemu_has_it() -> None:
    words = controller_words(domain("<controller type='scsi' index='0'/>"))
    assert devices(words)[1] == "lsi,id=scsi0,bus=pci.0,addr=0x2"


def test_virtio_serial_with_ports_and_vectors() -> None:
    xml = domain("<controller type='virtio-serial' index='0' ports='16' vectors='4'/>")
    assert devices(controller_words(xml))[1] == \
        "virtio-serial-pci,id=virtio-serial0,max_ports=16,vectors=4,bus=pci.0,addr=0x2"


def test_pci_bridge_takes_its_chassis_from_the_index() -> None:
    xml = domain("<controller type='pci' index='0' model='pci-root'/><controller type='pci' index='1' "
                 "model='pci-bridge'/>")
    assert devices(controller_words(xml))[0] == "pci-bridge,chassis_nr=1,id=pci.1,bus=pci.0,addr=0x2"


def test_pcihole64_global_in_kib() -> None:
    xml = domain("<controller type='pci' index='0' model='pci-root'><pcihole64 unit='GiB'>1</pcihole64>"
                 "</controller>")
    assert controller_words(xml)[:2] == ["-global", "i440FX-pcihost.pci-hole64-size=1048576K"]


def test_usb_hub_and_ccid_come_last() -> None:
    xml = domain("<hub type='usb'/><controller type='ccid' index='0'/>")
    assert devices(controller_words(xml))[1:] == [
        "usb-hub,id=hub0,bus=usb.0,port=1",
        "usb-ccid,id=ccid0,bus=usb.0,port=2",
    ]


def test_pseries_extra_phb_gets_a_target_index_and_the_implicit_one_none() -> None:
    xml = domain("<controller type='pci' index='1' model='pci-root'/><controller type='usb' model='none'/>"
                 "<memballoon model='none'/>", arch="ppc64", machine="pseries",
                 emulator="/usr/bin/qemu-system-ppc64")
    assert devices(controller_words(xml, caps=())) == ["spapr-pci-host-bridge,index=1,id=pci.1"]


def test_root_hotplug_global_and_root_port_without_hotplug() -> None:
    xml = domain("<controller type='pci' index='0' model='pci-root'><target hotplug='off'/></controller>")
    assert controller_words(xml)[:2] == ["-global", "PIIX4_PM.acpi-root-pci-hotplug=off"]
    q35 = domain("<controller type='pci' index='1' model='pcie-root-port'><target hotplug='off'/></controller>"
                 "<memballoon model='none'/>", machine="q35")
    port = devices(controller_words(q35, caps=Q35_CAPS))[0]
    assert port == {"driver": "pcie-root-port", "port": 8, "chassis": 1, "id": "pci.1", "hotplug": False,
                    "bus": "pcie.0", "addr": "0x1"}


def test_s390_virtio_scsi_is_a_ccw_device() -> None:
    xml = domain("<controller type='scsi' index='0' model='virtio-scsi'/><memballoon model='none'/>",
                 arch="s390x", machine="s390-ccw-virtio", emulator="/usr/bin/qemu-system-s390x", os="")
    assert devices(controller_words(xml, caps=())) == ["virtio-scsi-ccw,id=scsi0,devno=fe.0.0000"]


def test_transitional_virtio_serial_names_the_transitional_device() -> None:
    xml = domain("<controller type='virtio-serial' index='0' model='virtio-transitional'/>")
    words = controller_words(xml, caps=(*PC_CAPS, "virtio-pci-non-transitional"))
    assert devices(words)[1] == "virtio-serial-pci-transitional,id=virtio-serial0,bus=pci.0,addr=0x2"


def test_user_alias_names_the_device_and_its_children_bus() -> None:
    xml = domain("<controller type='scsi' index='0' model='lsilogic'><alias name='ua-hba'/></controller>"
                 "<disk type='file' device='disk'><source file='/a'/><target dev='sda' bus='scsi'/></disk>")
    ctx = ctx_for(xml, PC_CAPS)
    prepare.prepare(ctx)
    from domlint.cmdline9 import address as A

    disk = ctx.devices.find("disk")
    assert A.alias_of(disk) == "scsi0-0-0"
    assert A.props(ctx, disk) == {"bus": "ua-hba.0", "scsi-id": 0}
