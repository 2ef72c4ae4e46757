"""Disks: -drive with -device (or with if=BUS on QEMU without -device), the older -hda/-cdrom/-fda
form, -usbdevice disk:, and the isa-fdc globals for floppies.

Disks are emitted in libvirt's order (`devices.disks`), each as a -drive
string (`drive_str`) and, with -device, a front end (`drive_dev_str`).
"""

from __future__ import annotations

from lxml import etree

from ..domain import disk_index
from ..errors import InputError
from ..machine import is_q35
from ..values import parse_int
from . import address, alias, devices, source
from .command import Command
from .context import Ctx
from .storage import Source

# libvirt's bus names as QEMU's if= spells them.
_QEMU_BUS = {"ide": "ide", "fdc": "floppy", "scsi": "scsi", "virtio": "virtio", "xen": "xen",
             "usb": "usb", "uml": "uml", "sata": "sata", "sd": "sd"}
# Cache modes for QEMU before cache=writethrough etc. existed: only on or off.
_CACHE_V1 = {"none": "off", "writethrough": "off", "writeback": "on", "directsync": "off", "unsafe": "off"}
_IOTUNE = (("total_bytes_sec", "bps"), ("read_bytes_sec", "bps_rd"), ("write_bytes_sec", "bps_wr"),
           ("total_iops_sec", "iops"), ("read_iops_sec", "iops_rd"), ("write_iops_sec", "iops_wr"))
# Which <os><boot dev> a disk of each device kind answers to.
_BOOT_KIND = {"cdrom": "cdrom", "fd": "floppy", "hd": "disk"}
_LEGACY_PREFIXES = ("hd", "fd")
# Stands in for a missing child element, so lookups need no None checks.
_ABSENT = etree.Element("absent")


def _target(disk: etree._Element) -> etree._Element:
    target = disk.find("target")
    return target if target is not None else _ABSENT


def _bus(disk: etree._Element) -> str:
    return _target(disk).get("bus", "")


def _index(disk: etree._Element) -> int:
    idx = disk_index(_target(disk).get("dev", ""))
    return -1 if idx is None else idx


def _drive_address(disk: etree._Element) -> tuple[int, int, int, int]:
    """controller, bus, target, unit of a disk's drive address (zeros when it has none)."""
    addr = disk.find("address")
    if addr is None or addr.get("type") != "drive":
        return 0, 0, 0, 0
    return _int(addr.get("controller")), _int(addr.get("bus")), _int(addr.get("target")), _int(addr.get("unit"))


def _int(text: str | None) -> int:
    # Drive address numbers are decimal to libvirt; check_numbers refused unreadable ones already.
    return parse_int(text or "0", 10) or 0


def _driver(disk: etree._Element) -> etree._Element:
    drv = disk.find("driver")
    return drv if drv is not None else _ABSENT


def _alias(disk: etree._Element) -> str:
    return alias.name(disk) or ""


def is_readonly(disk: etree._Element) -> bool:
    """True for <readonly/> disks and for every CD-ROM (libvirt forces those read-only)."""
    return disk.find("readonly") is not None or disk.get("device") == "cdrom"


def disk_format(ctx: Ctx, disk: etree._Element) -> str | None:
    """The image format QEMU is told: the driver type, or raw for files and block devices when probing is off."""
    fmt = _driver(disk).get("type")
    if fmt == "aio":
        return "raw"
    if fmt:
        return fmt
    if disk.get("type") in ("file", "block") and not ctx.setting("allow_disk_format_probing", False):
        return "raw"
    return None


def _tray_open(disk: etree._Element) -> bool:
    return disk.get("device") in ("cdrom", "floppy") and _target(disk).get("tray") == "open"


def drive_str(ctx: Ctx, disk: etree._Element, src: Source, bootable: bool, with_device: bool) -> str:
    """The -drive argument of a disk (if=none with -device, else if=BUS with its index or bus/unit)."""
    bus, device = _bus(disk), disk.get("device", "disk")
    idx = _index(disk)
    ctrl, dbus, _, unit = _drive_address(disk)
    bus_id = unit_id = None
    if bus == "scsi":
        bus_id, unit_id = ctrl, unit
    elif bus == "ide":
        bus_id, unit_id = dbus, unit
    elif bus == "fdc":
        unit_id = unit
    elif bus == "virtio":
        idx = -1
    opts: list[str] = []
    text = source.drive_string(ctx, src, disk.sourceline)
    if text is not None and not _tray_open(disk):
        prefix = ""
        if src.type == "dir":
            # QEMU serves a directory as a virtual FAT disk.
            prefix = "fat:floppy:" if device == "floppy" else "fat:"
        opts.append("file=" + prefix + text.replace(",", ",,"))
    opts.append("if=none" if with_device else f"if={_QEMU_BUS.get(bus, bus)}")
    if device == "cdrom" and not ((bus == "scsi" and ctx.has("scsi-cd")) or (bus == "ide" and ctx.has("ide-cd"))):
        opts.append("media=cdrom")
    if with_device:
        opts.append(f"id=drive-{_alias(disk)}")
    elif bus_id is None and unit_id is None:
        if idx != -1:
            opts.append(f"index={idx}")
    else:
        if bus_id is not None:
            opts.append(f"bus={bus_id}")
        if unit_id is not None:
            opts.append(f"unit={unit_id}")
    if bootable and ctx.has("drive-boot") and device in ("disk", "lun") and bus != "ide":
        opts.append("boot=on")
    readonly = is_readonly(disk)
    if readonly and ctx.has("drive-readonly"):
        opts.append("readonly=on")
    fmt = disk_format(ctx, disk)
    if fmt and disk.get("type") != "dir" and ctx.has("drive-format"):
        opts.append(f"format={fmt}")
    opts += _geometry(disk)
    serial = disk.findtext("serial")
    if serial and ctx.has("drive-serial"):
        opts.append(f"serial={serial}")
    opts += _driver_opts(ctx, disk, readonly)
    opts += _iotune(disk)
    return ",".join(opts)


def _geometry(disk: etree._Element) -> list[str]:
    geo = disk.find("geometry")
    if geo is None:
        return []
    cyls, heads, secs = (_int(geo.get(k)) for k in ("cyls", "heads", "secs"))
    if not (cyls > 0 and heads > 0 and secs > 0):
        return []
    out = [f"cyls={cyls}", f"heads={heads}", f"secs={secs}"]
    trans = geo.get("trans")
    if trans and trans != "default":
        out.append(f"trans={trans}")
    return out


def _driver_opts(ctx: Ctx, disk: etree._Element, readonly: bool) -> list[str]:
    """cache, copy-on-read, discard, werror/rerror and aio, from <driver>."""
    drv = _driver(disk)
    out: list[str] = []
    cache = drv.get("cache")
    if cache and cache != "default":
        out.append("cache=" + (cache if ctx.has("drive-cache-v2") else _CACHE_V1.get(cache, "off")))
    elif disk.find("shareable") is not None and not readonly:
        # A disk two guests write to must not be cached by either.
        out.append("cache=off")
    cor = drv.get("copy_on_read")
    if cor in ("on", "off"):
        out.append(f"copy-on-read={cor}")
    discard = drv.get("discard")
    if discard and discard != "default":
        out.append(f"discard={discard}")
    if ctx.has("monitor-json"):
        # Error policies only take effect when the monitor can report the events.
        wpolicy = _policy(drv.get("error_policy"))
        rpolicy = _policy(drv.get("rerror_policy"))
        if wpolicy == "enospace":
            wpolicy = "enospc"
        elif rpolicy is None:
            rpolicy = wpolicy
        if wpolicy:
            out.append(f"werror={wpolicy}")
        if rpolicy:
            out.append(f"rerror={rpolicy}")
    io = drv.get("io")
    if io and io != "default":
        out.append(f"aio={io}")
    return out


def _policy(value: str | None) -> str | None:
    return value if value and value != "default" else None


def _iotune(disk: etree._Element) -> list[str]:
    tune = disk.find("iotune")
    if tune is None:
        return []
    out = []
    for tag, key in _IOTUNE:
        value = _int((tune.findtext(tag) or "").strip())
        if value:
            out.append(f"{key}={value}")
    return out


def _ide_model(ctx: Ctx, device: str) -> str:
    if not ctx.has("ide-cd"):
        return "ide-drive"
    return "ide-cd" if device == "cdrom" else "ide-hd"


def _scsi_model(ctx: Ctx, device: str) -> str:
    if device == "lun":
        return "scsi-block"
    if not ctx.has("scsi-cd"):
        return "scsi-disk"
    return "scsi-cd" if device == "cdrom" else "scsi-hd"


def drive_dev_str(ctx: Ctx, disk: etree._Element, bootindex: int) -> str:
    """The -device argument that puts a disk's drive on its bus (ide-hd, scsi-cd, virtio-blk-pci...)."""
    bus, device = _bus(disk), disk.get("device", "disk")
    ctrl, dbus, target, unit = _drive_address(disk)
    drv = _driver(disk)
    if bus == "ide":
        opt = f"{_ide_model(ctx, device)},bus=ide.{dbus},unit={unit}"
    elif bus == "scsi":
        if address.scsi_controller_model(ctx, ctrl, disk) == "lsilogic":
            opt = f"{_scsi_model(ctx, device)},bus=scsi{ctrl}.{dbus},scsi-id={unit}"
        else:
            opt = f"{_scsi_model(ctx, device)},bus=scsi{ctrl}.0,channel={dbus},scsi-id={target},lun={unit}"
    elif bus == "sata":
        # The first AHCI controller of a q35 machine is built in, and QEMU calls it "ide".
        where = f"ide.{unit}" if is_q35(ctx.machine) and ctrl == 0 else f"ahci{ctrl}.{unit}"
        opt = f"{_ide_model(ctx, device)},bus={where}"
    elif bus == "virtio":
        opt = _virtio_blk(ctx, disk, drv, device)
    elif bus == "usb":
        opt = "usb-storage" + address.suffix(ctx, disk)
    else:
        raise InputError(ctx.path, disk.sourceline, f"a disk on bus '{bus}' cannot be a -device")
    name = _alias(disk)
    opt += f",drive=drive-{name},id={name}"
    if bootindex and ctx.has("boot-index"):
        opt += f",bootindex={bootindex}"
    if ctx.has("blockio"):
        blockio = disk.find("blockio")
        if blockio is not None:
            for key in ("logical_block_size", "physical_block_size"):
                size = _int(blockio.get(key))
                if size > 0:
                    opt += f",{key}={size}"
    wwn = disk.findtext("wwn")
    if wwn:
        opt += f",wwn={wwn}" if wwn.startswith("0x") else f",wwn=0x{wwn}"
    for tag in ("vendor", "product"):
        text = disk.findtext(tag)
        if text:
            opt += f",{tag}={text}"
    if bus == "usb" and ctx.has("usb-storage.removable"):
        opt += ",removable=" + ("on" if _target(disk).get("removable") == "on" else "off")
    return opt


def _virtio_blk(ctx: Ctx, disk: etree._Element, drv: etree._Element, device: str) -> str:
    addr = disk.find("address")
    atype = addr.get("type") if addr is not None else None
    model = {"ccw": "virtio-blk-ccw", "virtio-s390": "virtio-blk-s390",
             "virtio-mmio": "virtio-blk-device"}.get(atype or "", "virtio-blk-pci")
    opt = model
    iothread = _int(drv.get("iothread"))
    if model == "virtio-blk-pci" and iothread:
        opt += f",iothread=iothread{iothread}"
    ioeventfd = drv.get("ioeventfd")
    if ioeventfd in ("on", "off") and ctx.has("virtio-blk-pci.ioeventfd"):
        opt += f",ioeventfd={ioeventfd}"
    event_idx = drv.get("event_idx")
    if event_idx in ("on", "off") and ctx.has("virtio-blk-pci.event_idx"):
        opt += f",event_idx={event_idx}"
    if ctx.has("virtio-blk-pci.scsi"):
        opt += ",scsi=" + ("on" if device == "lun" else "off")
    return opt + address.suffix(ctx, disk)


def _boot_order(disk: etree._Element) -> int:
    boot = disk.find("boot")
    return _int(boot.get("order")) if boot is not None else 0


def disks(ctx: Ctx, cmd: Command) -> None:
    """Append every disk, in libvirt's order, in the style the capabilities select."""
    ordered = devices.disks(ctx)
    if ctx.has("drive"):
        _drive_style(ctx, cmd, ordered)
    else:
        _legacy_style(ctx, cmd, ordered)


def _usb_disk(ctx: Ctx, cmd: Command, disk: etree._Element, src: Source) -> None:
    if disk.get("device") != "disk":
        raise InputError(ctx.path, disk.sourceline, "without -device, a USB disk can only be device='disk'")
    cmd.add("-usbdevice", f"disk:{src.path or ''}")


def _drive_style(ctx: Ctx, cmd: Command, ordered: list[etree._Element]) -> None:
    emit_bootindex = bool(ctx.state.get("emit_bootindex", False))
    # The boot stage's <os><boot dev> order; the first disk of each kind gets its position.
    pending: dict[str, int] = {}
    if ctx.has("drive-boot") or emit_bootindex:
        for pos, dev in enumerate(ctx.state.get("boot_devs") or (), start=1):
            if dev in _BOOT_KIND:
                pending[_BOOT_KIND[dev]] = pos
    with_device_cap = ctx.has("device")
    for disk in ordered:
        bus, device = _bus(disk), disk.get("device", "disk")
        src = source.of_disk(ctx, disk)
        if bus == "usb" and not with_device_cap:
            _usb_disk(ctx, cmd, disk, src)
            continue
        bootindex = pending.pop("disk" if device in ("disk", "lun") else device, 0)
        # Xen PV and SD disks have no -device form; they keep the if= form.
        with_device = with_device_cap and bus not in ("xen", "sd")
        cmd.add("-drive", drive_str(ctx, disk, src, not emit_bootindex and bootindex > 0, with_device))
        # With bootindex, a disk's own <boot order> wins over its <os><boot> position.
        bootindex = (_boot_order(disk) or bootindex) if emit_bootindex else 0
        if not with_device:
            continue
        if bus == "fdc":
            drive = "B" if _drive_address(disk)[3] else "A"
            cmd.add("-global", f"isa-fdc.drive{drive}=drive-{_alias(disk)}")
            if bootindex:
                cmd.add("-global", f"isa-fdc.bootindex{drive}={bootindex}")
        else:
            cmd.add("-device", drive_dev_str(ctx, disk, bootindex))


def _legacy_style(ctx: Ctx, cmd: Command, ordered: list[etree._Element]) -> None:
    """QEMU without -drive: -hda/-hdb/-hdc/-hdd, -cdrom, -fda/-fdb."""
    for disk in ordered:
        src = source.of_disk(ctx, disk)
        device, dev = disk.get("device", "disk"), _target(disk).get("dev", "")
        if _bus(disk) == "usb":
            _usb_disk(ctx, cmd, disk, src)
            continue
        if dev == "hdc" and device == "cdrom":
            if not src.path:
                continue
            flag = "-cdrom"
        elif dev.startswith(_LEGACY_PREFIXES):
            flag = f"-{dev}"
        else:
            raise InputError(ctx.path, disk.sourceline, f"without -drive, QEMU has no option for disk '{dev}'")
        if src.type == "network":
            raise InputError(ctx.path, disk.sourceline, "network disks need a QEMU with -drive")
        path = src.path or ""
        if src.type == "dir":
            path = ("fat:floppy:" if device == "floppy" else "fat:") + path
        if not _tray_open(disk):
            cmd.add(flag, path)
