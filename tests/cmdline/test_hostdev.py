"""Host devices: PCI, USB and SCSI passthrough, with and without -device."""

from __future__ import annotations

from dataclasses import replace

import pytest
from emit_helpers import HOST, domain
from family_ctx import ctx_for

from domlint.cmdline import alias, hostdev
from domlint.cmdline.assign import assign
from domlint.cmdline.command import Command
from domlint.errors import InputError

DEV = ["device", "drive", "pci-multibus"]
PCI = ("<hostdev mode='subsystem' type='pci'{managed}>{driver}<source>"
       "<address domain='{dom}' bus='0x06' slot='0x12' function='0x5'/></source>{extra}</hostdev>")
USB = "<hostdev mode='subsystem' type='usb'><source><address bus='14' device='6'/></source>{extra}</hostdev>"


def _pci(driver: str = "", dom: str = "0x0000", extra: str = "") -> str:
    return PCI.format(managed="", driver=driver, dom=dom, extra=extra)


def _args(xml: str, caps: list[str], host=HOST) -> list[str]:
    ctx = ctx_for(xml, caps, host=host)
    assign(ctx)
    alias.assign(ctx)
    cmd = Command()
    hostdev.hostdevs(ctx, cmd)
    return cmd.args


def test_pci_backend_comes_from_the_driver_or_the_host() -> None:
    assert _args(domain(_pci()), DEV) == ["-device", "pci-assign,host=06:12.5,id=hostdev0,bus=pci.0,addr=0x3"]
    vfio_host = replace(HOST, pci_backend="vfio")
    assert _args(domain(_pci()), DEV, vfio_host)[1].startswith("vfio-pci,host=06:12.5,")
    assert _args(domain(_pci("<driver name='kvm'/>")), DEV, vfio_host)[1].startswith("pci-assign,")


def test_pci_host_address_shows_a_nonzero_domain_boot_order_and_rom() -> None:
    xml = domain(_pci("<driver name='vfio'/>", "0x55aa", "<boot order='2'/><rom bar='off' file='/r.bin'/>"))
    assert _args(xml, DEV) == [
        "-device", "vfio-pci,host=55aa:06:12.5,id=hostdev0,bootindex=2,bus=pci.0,addr=0x3,rombar=0,romfile=/r.bin"]


def test_without_device_pci_and_usb_use_the_old_options() -> None:
    assert _args(domain(_pci() + USB.format(extra="")), ["pci-device"]) == [
        "-pcidevice", "host=06:12.5", "-usbdevice", "host:14.6"]


def test_usb_host_device() -> None:
    xml = domain(USB.format(extra="<boot order='1'/><address type='usb' bus='0' port='2'/>"))
    assert _args(xml, DEV) == ["-device", "usb-host,hostbus=14,hostaddr=6,id=hostdev0,bootindex=1,bus=usb.0,port=2"]


def test_usb_host_device_found_by_vendor_needs_the_running_host() -> None:
    xml = domain("<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
                 "<product id='0xbeef'/></source></hostdev>")
    with pytest.raises(InputError, match=r"bus=\.\.\. device="):
        _args(xml, DEV)


SCSI = ("<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
        "<address bus='0' target='0' unit='0'/></source>{ro}"
        "<address type='drive' controller='0' bus='0' target='3' unit='5'/></hostdev>")


@pytest.mark.parametrize(("ctl", "caps", "dev"), [
    ("<controller type='scsi' index='0' model='virtio-scsi'/>", [],
     "scsi-generic,bus=scsi0.0,channel=0,scsi-id=3,lun=5,drive=drive-hostdev0,id=hostdev0"),
    # An lsi bus has no channels or LUNs: the unit is the SCSI id.
    ("", ["lsi"], "scsi-generic,bus=scsi0.0,scsi-id=5,drive=drive-hostdev0,id=hostdev0"),
])
def test_scsi_generic_addressing_depends_on_the_controller(ctl: str, caps: list[str], dev: str) -> None:
    args = _args(domain(ctl + SCSI.format(ro="<readonly/>")), DEV + caps)
    assert args == ["-drive", "file=/dev/sg0,if=none,id=drive-hostdev0,readonly=on", "-device", dev]


def test_iscsi_host_device_logs_in_with_the_host_secret() -> None:
    xml = domain("<controller type='scsi' index='0' model='virtio-scsi'/>"
                 "<hostdev mode='subsystem' type='scsi'><source protocol='iscsi' name='iqn.2014-01.org.x/2'>"
                 "<host name='example.org' port='3260'/><auth username='u'>"
                 "<secret type='iscsi' usage='mycluster_myname'/></auth></source></hostdev>")
    drive = _args(xml, DEV)[1]
    want_secret = HOST.raw["secrets"][0]["value"]
    assert drive == (f"file=iscsi://u:{want_secret}@example.org:3260/iqn.2014-01.org.x/2,"
                     "if=none,format=raw,id=drive-hostdev0")


def test_hostdev_interfaces_come_first() -> None:
    xml = domain(_pci() + "<interface type='hostdev'><source>"
                 "<address type='pci' domain='0' bus='3' slot='7' function='1'/></source></interface>")
    args = _args(xml, DEV)
    assert [a.split(",")[1:3] for a in args[1::2]] == [["host=03:07.1", "id=hostdev0"],
                                                        ["host=06:12.5", "id=hostdev1"]]


def test_scsi_host_device_without_address_takes_the_next_free_unit() -> None:
    xml = domain("<controller type='scsi' index='0' model='virtio-scsi'/>"
                 "<disk type='file'><source file='/a'/><target dev='sda' bus='scsi'/></disk>"
                 "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
                 "<address bus='0' target='0' unit='0'/></source></hostdev>")
    args = _args(xml, DEV)
    # sda sits on unit 0 of controller 0, so the host device gets unit 1.
    assert args[3].startswith("scsi-generic,bus=scsi0.0,channel=0,scsi-id=0,lun=1,")
