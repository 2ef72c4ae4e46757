"""Host devices: PCI (pci-assign, vfio-pci, -pcidevice), USB (usb-host, -usbdevice host:),
SCSI (-drive plus scsi-generic).

type='hostdev' interfaces are host devices too: libvirt lists them first
among the host devices, and they are emitted here, not with the NICs.
"""

from __future__ import annotations

from lxml import etree

from ..errors import HostFactMissing, InputError
from . import address, alias, devices, secret, source
from .command import Command
from .context import Ctx
from .net import rom_str
from .storage import parse_auth

Element = etree._Element


_num = address.number


def boot_index(ctx: Ctx, el: Element) -> int:
    """A device's <boot order='N'/>, or 0."""
    return _num(ctx, el.find("boot"), "order")


def pci_backend(ctx: Ctx, hd: Element) -> str:
    """kvm or vfio: the <driver name>, else what the host chooses for a PCI device."""
    drv = hd.find("driver")
    name = drv.get("name") if drv is not None else None
    if name and name != "default":
        return name
    return ctx.host.pci_backend or "kvm"


def pci_host_addr(ctx: Ctx, hd: Element) -> str:
    """The host PCI address QEMU is given: [dddd:]bb:ss.f (the domain only when non-zero)."""
    src = hd.find("source/address")
    dom, bus, slot, fn = (_num(ctx, src, k) for k in ("domain", "bus", "slot", "function"))
    text = f"{bus:02x}:{slot:02x}.{fn:x}"
    return f"{dom:04x}:{text}" if dom else text


def pci_dev_str(ctx: Ctx, hd: Element) -> str:
    """The -device value of a PCI host device (pci-assign or vfio-pci)."""
    backend = pci_backend(ctx, hd)
    model = {"kvm": "pci-assign", "vfio": "vfio-pci"}.get(backend)
    if model is None:
        raise InputError(ctx.path, hd.sourceline, f"PCI passthrough backend '{backend}' cannot be used with QEMU")
    out = f"{model},host={pci_host_addr(ctx, hd)},id={alias.name(hd)}"
    boot = boot_index(ctx, hd)
    if boot:
        out += f",bootindex={boot}"
    return out + address.suffix(ctx, hd) + rom_str(hd)


def usb_host(ctx: Ctx, hd: Element) -> tuple[int, int]:
    """The host bus and device number of a USB host device."""
    src = hd.find("source/address")
    bus, dev = _num(ctx, src, "bus"), _num(ctx, src, "device")
    if not bus and not dev:
        raise InputError(ctx.path, hd.sourceline,
                         "USB host device: give <source><address bus=... device=.../>; "
                         "finding it by vendor and product needs the running host")
    return bus, dev


def usb_missing(ctx: Ctx, hd: Element) -> bool:
    """A USB host device libvirt marks missing at start: nothing to look it up by (no vendor, no host bus)."""
    return hd.find("source/vendor") is None and not _num(ctx, hd.find("source/address"), "bus")


def usb_dev_str(ctx: Ctx, hd: Element) -> str:
    """The -device value of a USB host device (a missing one gets no host bus and address, as in libvirt)."""
    if usb_missing(ctx, hd):
        out = f"usb-host,id={alias.name(hd)}"
    else:
        bus, dev = usb_host(ctx, hd)
        out = f"usb-host,hostbus={bus},hostaddr={dev},id={alias.name(hd)}"
    boot = boot_index(ctx, hd)
    if boot:
        out += f",bootindex={boot}"
    return out + address.suffix(ctx, hd)


def _drive_addr(ctx: Ctx, hd: Element) -> tuple[int, int, int, int]:
    addr = hd.find("address")
    if addr is None or addr.get("type") != "drive":
        return 0, 0, 0, 0
    # address.check_numbers has refused unreadable ones before any family runs.
    return address.address_numbers(addr, "drive")  # type: ignore[return-value]


def _drive_id(hd: Element) -> str:
    return f"{address.kind(hd) or 'drive'}-{alias.name(hd)}"


def scsi_source(ctx: Ctx, hd: Element) -> str:
    """What QEMU opens for a SCSI host device: /dev/<sg> of the host's adapter, or an iscsi:// URI."""
    src = hd.find("source")
    if src is not None and src.get("protocol") == "iscsi":
        auth = parse_auth(src.find("auth"))
        username = secret_text = None
        if auth is not None:
            username = auth.username
            secret_text = secret.value(ctx, auth, "iscsi")
        return source.network_uri(ctx, "iscsi", src.get("name"), None, source.parse_hosts(src),
                                  username, secret_text, hd.sourceline)
    sg = ctx.host.raw.get("scsi_generic")
    if not sg:
        raise HostFactMissing(ctx.path, hd.sourceline, "SCSI host device: the host profile names no generic SCSI device",
                              "scsi_generic")
    return f"/dev/{sg}"


def scsi_drive_str(ctx: Ctx, hd: Element) -> str:
    """The -drive value of a SCSI host device."""
    src = hd.find("source")
    iscsi = src is not None and src.get("protocol") == "iscsi"
    out = f"file={scsi_source(ctx, hd)},if=none"
    if iscsi:
        out += ",format=raw"
    out += f",id={_drive_id(hd)}"
    if hd.find("readonly") is not None:
        out += ",readonly=on"
    return out


def scsi_dev_str(ctx: Ctx, hd: Element) -> str:
    """The -device scsi-generic value of a SCSI host device."""
    controller, bus, target, unit = _drive_addr(ctx, hd)
    if address.scsi_controller_model(ctx, controller, hd) == "lsilogic":
        out = f"scsi-generic,bus=scsi{controller}.{bus},scsi-id={unit}"
    else:
        out = f"scsi-generic,bus=scsi{controller}.0,channel={bus},scsi-id={target},lun={unit}"
    out += f",drive={_drive_id(hd)},id={alias.name(hd)}"
    boot = boot_index(ctx, hd)
    if boot:
        out += f",bootindex={boot}"
    return out


def hostdevs(ctx: Ctx, cmd: Command) -> None:
    """Append the arguments of every host device, in libvirt's host device order."""
    has_device = ctx.has("device")
    for hd in devices.hostdevs(ctx):
        if not devices.is_subsystem(hd):
            continue
        kind = devices.subsys_type(hd)
        if kind == "usb":
            if has_device:
                cmd.add("-device", usb_dev_str(ctx, hd))
            else:
                bus, dev = usb_host(ctx, hd)
                cmd.add("-usbdevice", f"host:{bus}.{dev}")
        elif kind == "pci":
            if has_device:
                cmd.add("-device", pci_dev_str(ctx, hd))
            else:
                cmd.add("-pcidevice", f"host={pci_host_addr(ctx, hd)}")
        elif kind == "scsi":
            cmd.add("-drive", scsi_drive_str(ctx, hd), "-device", scsi_dev_str(ctx, hd))
