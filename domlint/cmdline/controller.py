"""Controllers: the 64-bit PCI hole, -device for bridges, USB, SCSI, SATA, virtio-serial and CCID, -usb.

libvirt emits controllers type by type (PCI, USB, SCSI, SATA, virtio-serial,
CCID), each type in its own list order; IDE and floppy controllers, the PCI
roots and q35's built-in SATA are part of the machine and never appear.
"""

from __future__ import annotations

from lxml import etree

from ..machine import is_i440fx, is_q35
from ..values import parse_int, parse_size
from . import address, devices
from .command import Command
from .context import Ctx

Element = etree._Element

# The order libvirt walks controller types in.
EMIT_ORDER = ("pci", "usb", "scsi", "sata", "virtio-serial", "ccid")

# USB controller model -> QEMU device.
USB_DEVICES = {
    "piix3-uhci": "piix3-usb-uhci",
    "piix4-uhci": "piix4-usb-uhci",
    "ehci": "usb-ehci",
    "ich9-ehci1": "ich9-usb-ehci1",
    "ich9-uhci1": "ich9-usb-uhci1",
    "ich9-uhci2": "ich9-usb-uhci2",
    "ich9-uhci3": "ich9-usb-uhci3",
    "vt82c686b-uhci": "vt82c686b-usb-uhci",
    "pci-ohci": "pci-ohci",
    "nec-xhci": "nec-usb-xhci",
}
# Companion UHCI controllers hang off their EHCI master at these ports unless <master> says otherwise.
_COMPANION_PORT = {"ich9-uhci1": 0, "ich9-uhci2": 2, "ich9-uhci3": 4}
# SCSI controller model -> QEMU device (virtio-scsi depends on the transport).
_SCSI_DEVICES = {"lsilogic": "lsi", "ibmvscsi": "spapr-vscsi", "lsisas1078": "megasas"}
# Transport (address type) -> suffix of a virtio device name.
VIRTIO_TRANSPORT = {"ccw": "ccw", "virtio-s390": "s390", "virtio-mmio": "device"}


def virtio_device(base: str, el: Element) -> str:
    """A virtio device name for the element's transport: virtio-X-pci, -ccw, -s390 or -device."""
    return f"{base}-{VIRTIO_TRANSPORT.get(address.kind(el) or '', 'pci')}"


def usb_model(ctx: Ctx, ctl: Element) -> str:
    """A USB controller's model, with libvirt's per-arch default."""
    return ctl.get("model") or ("pci-ohci" if ctx.arch == "ppc64" else "piix3-uhci")


def _master_port(ctx: Ctx, ctl: Element) -> int | None:
    master = ctl.find("master")
    if master is not None:
        return address.number(ctx, master, "startport")
    return _COMPANION_PORT.get(ctl.get("model") or "")


def usb_str(ctx: Ctx, ctl: Element) -> str:
    """The -device value of a USB controller (without its address)."""
    out = USB_DEVICES.get(usb_model(ctx, ctl), usb_model(ctx, ctl))
    port = _master_port(ctx, ctl)
    bus_id = address.usb_bus_id(devices.index(ctl))
    if port is not None:
        return f"{out},masterbus={bus_id}.0,firstport={port}"
    return f"{out},id={bus_id}"


def _driver_opts(ctx: Ctx, ctl: Element) -> str:
    drivers = ctl.findall("driver")
    if not drivers:
        return ""
    drv = drivers[-1]
    out = ""
    for attr, opt in (("queues", "num_queues"), ("cmd_per_lun", "cmd_per_lun")):
        value = address.number(ctx, drv, attr)
        if value:
            out += f",{opt}={value}"
    # libvirt 1.2.8 logs a max_sectors it cannot read and keeps none (rule controller-driver-max-sectors-malformed).
    sectors = parse_int(drv.get("max_sectors") or "", 10)
    if sectors and 0 < sectors < 2**32:
        out += f",max_sectors={sectors}"
    return out


def controller_str(ctx: Ctx, ctl: Element) -> str:
    """The -device value of a controller, address included (qemuBuildControllerDevStr)."""
    ctype, idx = ctl.get("type"), devices.index(ctl)
    if ctype == "scsi":
        model = address.scsi_model(ctx, ctl.get("model"), ctl)
        dev = virtio_device("virtio-scsi", ctl) if model == "virtio-scsi" else _SCSI_DEVICES.get(model, model)
        out = f"{dev},id=scsi{idx}"
    elif ctype == "virtio-serial":
        transport = address.kind(ctl)
        dev = virtio_device("virtio-serial", ctl) if transport in ("pci", *VIRTIO_TRANSPORT) else "virtio-serial"
        out = f"{dev},id=virtio-serial{idx}"
        for attr, opt in (("ports", "max_ports"), ("vectors", "vectors")):
            if ctl.get(attr) is not None:
                out += f",{opt}={address.number(ctx, ctl, attr)}"
    elif ctype == "ccid":
        out = f"usb-ccid,id=ccid{idx}"
    elif ctype == "sata":
        out = f"ahci,id=ahci{idx}"
    elif ctype == "usb":
        out = usb_str(ctx, ctl)
    elif ctype == "pci" and ctl.get("model") == "dmi-to-pci-bridge":
        out = f"i82801b11-bridge,id=pci.{idx}"
    elif ctype == "pci":
        out = f"pci-bridge,chassis_nr={idx},id=pci.{idx}"
    else:
        out = str(ctype)
    return out + _driver_opts(ctx, ctl) + address.suffix(ctx, ctl)


def _hole64(ctx: Ctx, cmd: Command) -> None:
    for ctl in devices.controllers(ctx):
        hole = ctl.find("pcihole64")
        if ctl.get("type") != "pci" or hole is None:
            continue
        size = parse_size((hole.text or "").strip(), hole.get("unit"))
        kib = -(-(size or 0) // 1024)
        model = ctl.get("model")
        if model == "pci-root" and is_i440fx(ctx.machine):
            cmd.add("-global", f"i440FX-pcihost.pci-hole64-size={kib}K")
        elif model == "pcie-root" and is_q35(ctx.machine):
            cmd.add("-global", f"q35-pcihost.pci-hole64-size={kib}K")


def _legacy_usb(ctx: Ctx, ctl: Element) -> bool:
    """A default USB controller this QEMU can only create with -usb."""
    return (ctl.get("model") is None and not is_q35(ctx.machine)
            and (not ctx.has("piix3-usb-uhci") or (not ctx.has("pci-ohci") and ctx.arch == "ppc64")))


def controllers(ctx: Ctx, cmd: Command) -> None:
    """Append the 64-bit PCI hole globals, the controllers' -device arguments and -usb."""
    _hole64(ctx, cmd)
    usb_devices = 0
    if ctx.has("device"):
        ctls = devices.controllers(ctx)
        for ctype in EMIT_ORDER:
            for ctl in ctls:
                if ctl.get("type") != ctype:
                    continue
                model = ctl.get("model")
                if ctype == "usb" and model == "none":
                    usb_devices = -1
                    continue
                if ctype == "pci" and model in ("pci-root", "pcie-root"):
                    continue
                if ctype == "sata" and devices.index(ctl) == 0 and is_q35(ctx.machine):
                    continue  # q35's own AHCI
                if ctype == "usb" and _legacy_usb(ctx, ctl):
                    continue
                cmd.add("-device", controller_str(ctx, ctl))
                if ctype == "usb":
                    usb_devices += 1
    if usb_devices == 0 and not is_q35(ctx.machine):
        cmd.add("-usb")
