"""Device aliases (ide0-0-0, virtio-disk0, net0, ...), as libvirt 1.2.8 names devices.

Written into the domain as <alias name=.../> children (replacing any the XML
carried: libvirt ignores those in a definition), so families read them with
`name(el)`. Without -device only disks and NICs are named.
"""

from __future__ import annotations

from lxml import etree

from ..domain import disk_index
from . import address, devices
from .context import Ctx, Unassignable, child

Element = etree._Element


def name(el: etree._Element) -> str | None:
    """The alias of a device element, or None."""
    alias = child(el, "alias")
    return alias.get("name") if alias is not None else None


def set_name(el: Element, alias: str) -> None:
    """Give a device its alias, replacing any it has."""
    old = child(el, "alias")
    if old is not None:
        old.set("name", alias)
        return
    new = etree.SubElement(el, "alias", {"name": alias})
    new.sourceline = el.sourceline


def _drive(disk: Element) -> tuple[int, int, int, int] | None:
    """controller, bus, target, unit of a disk's drive address, or None."""
    addr = child(disk, "address")
    if addr is None or addr.get("type") != "drive":
        return None
    try:
        return address.address_numbers(addr, "drive")  # type: ignore[return-value]
    except ValueError:
        return None


def _disk_bus(disk: Element) -> str:
    target = child(disk, "target")
    return target.get("bus", "") if target is not None else ""


def _disk_dst(disk: Element) -> str:
    target = child(disk, "target")
    return target.get("dev", "") if target is not None else ""


def _dst_index(dst: str) -> int:
    idx = disk_index(dst)
    return -1 if idx is None else idx


def disk_alias(ctx: Ctx, disk: Element) -> str:
    """A disk's alias under this QEMU's naming scheme (custom with -device, fixed with -drive, else legacy)."""
    bus, dst = _disk_bus(disk), _disk_dst(disk)
    if not ctx.has("drive"):
        # Names from before -drive existed.
        return "cdrom" if disk.get("device") == "cdrom" and dst == "hdc" else dst
    if not ctx.has("device"):
        return _fixed_alias(ctx, disk, bus, dst)
    drive = _drive(disk)
    if drive is None:
        return f"{bus}-disk{_dst_index(dst)}"
    controller, dbus, target, unit = drive
    if bus == "scsi" and address.scsi_controller_model(ctx, controller, disk) != "lsilogic":
        return f"{bus}{controller}-{dbus}-{target}-{unit}"
    return f"{bus}{controller}-{dbus}-{unit}"


def _fixed_alias(ctx: Ctx, disk: Element, bus: str, dst: str) -> str:
    """Names from before -drive took an id."""
    idx = disk_index(dst)
    if idx is None:
        raise Unassignable(ctx.path, disk, "disk-alias", f"disk {dst!r}: cannot derive a bus and unit from the name")
    kind = "hd" if disk.get("device", "disk") == "disk" else "cd"
    if bus == "ide":
        return f"ide{idx // 2}-{kind}{idx % 2}"
    if bus == "scsi":
        return f"scsi{idx // 7}-{kind}{idx % 7}"
    prefix = {"fdc": "floppy", "virtio": "virtio", "xen": "xenblk", "sd": "sd"}.get(bus)
    if prefix is None:
        raise Unassignable(ctx.path, disk, "disk-alias", f"disk {dst!r}: bus {bus!r} has no name in this QEMU")
    return f"{prefix}{idx}"


def controller_alias(ctl: Element) -> str:
    """A controller's alias: pci.N (pcie.0 for a PCIe root), else type and index."""
    ctype, idx = ctl.get("type", ""), ctl.get("index", "0")
    if ctype == "pci":
        return f"pcie.{idx}" if ctl.get("model") == "pcie-root" else f"pci.{idx}"
    return f"{ctype}{idx}"


def _numbered(items: list[Element], prefix: str) -> None:
    for i, el in enumerate(items):
        set_name(el, f"{prefix}{i}")


def assign(ctx: Ctx) -> None:
    """Give every device its alias, in place."""
    for disk in devices.tagged(ctx, "disk"):
        set_name(disk, disk_alias(ctx, disk))
    if ctx.has("0.10") or ctx.has("device"):  # 0.10 is -net ...,name=
        # Position among all interfaces, hostdev ones included (those are named as host devices).
        for i, net in enumerate(devices.nets(ctx)):
            if net.get("type") != "hostdev":
                set_name(net, f"net{i}")
    if not ctx.has("device"):
        return
    _numbered(devices.tagged(ctx, "filesystem"), "fs")
    _numbered(devices.tagged(ctx, "sound"), "sound")
    _numbered(devices.hostdevs(ctx), "hostdev")
    _numbered(devices.tagged(ctx, "redirdev"), "redir")
    _numbered(devices.videos(ctx), "video")
    for ctl in devices.tagged(ctx, "controller"):
        set_name(ctl, controller_alias(ctl))
    _numbered(devices.inputs(ctx), "input")
    _numbered(devices.tagged(ctx, "parallel"), "parallel")
    serials = devices.serials(ctx)
    _numbered(serials, "serial")
    _numbered(devices.tagged(ctx, "channel"), "channel")
    for i, console in enumerate(devices.tagged(ctx, "console")):
        # A console standing in for serial 0 is that serial port and keeps its name.
        if console not in serials:
            set_name(console, f"console{i}")
    _numbered(devices.tagged(ctx, "hub"), "hub")
    _numbered(devices.tagged(ctx, "smartcard"), "smartcard")
    for tag, alias in (("watchdog", "watchdog0"), ("memballoon", "balloon0"), ("tpm", "tpm0")):
        el = devices.first(ctx, tag)
        if el is not None:
            set_name(el, alias)
    _numbered(devices.tagged(ctx, "rng"), "rng")
