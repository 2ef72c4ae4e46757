"""Disks, firmware flash and filesystems as libvirt 9.0 builds them: -blockdev JSON and -device.

Each disk is its backing chain's nodes (`blockdev`, from the bottom image up,
then a copy-on-read layer when asked) followed by its front end, a -device
(ide-hd, scsi-cd, virtio-blk-pci, usb-storage, floppy...) whose `drive` is the
top node. SD cards are the exception: still -drive if=sd, no -device.
"""

from __future__ import annotations

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..cmdline.devices import disks as ordered_disks
from ..domain import disk_index
from ..errors import InputError
from ..machine import is_q35
from ..values import parse_int
from . import blockdev, platform
from .address import props as address_props
from .address import virtio_props
from .blockdev import CACHE_FLAGS, Image
from .filesystem import filesystems as filesystems
from .pflash import pflash as pflash
from .props import add_device, device_arg, object_arg, to_json

__all__ = ["disks", "filesystems", "managed_pr", "pflash"]

_ABSENT = etree.Element("absent")
# <boot dev> kinds and the disk devices they boot.
_BOOT_DEVICE = {"cdrom": "cdrom", "fd": "floppy", "hd": "disk"}


def _sub(el: etree._Element, tag: str) -> etree._Element:
    found = el.find(tag)
    return found if found is not None else _ABSENT


def _int(text: str | None, base: int = 10) -> int:
    return parse_int(text or "0", base) or 0


def _alias(el: etree._Element) -> str:
    found = el.find("alias")
    return found.get("name", "") if found is not None else ""


def _bus(disk: etree._Element) -> str:
    return _sub(disk, "target").get("bus", "")


# --- preparation --------------------------------------------------------------------------------

def _chains(ctx: Ctx) -> dict[int, list[Image]]:
    """Every disk's images, numbered once per emission."""
    chains = ctx.state.get("disk.chains")
    if chains is None:
        chains = ctx.state["disk.chains"] = blockdev.prepare(ctx, ordered_disks(ctx))
    return chains


def _boot_indexes(ctx: Ctx, disks: list[etree._Element]) -> dict[int, int]:
    """Each disk's effective boot index: its <boot order>, or the first disk of each kind <os><boot dev> names."""
    devs = [b.get("dev", "") for b in ctx.root.iterfind("os/boot")]
    per_device = any(el.find("boot") is not None for el in ctx.devices.iter() if el.tag != "os")
    if not devs and not per_device and ctx.root.findtext("os/type") in (None, "hvm"):
        # libvirt boots from the first hard disk when nothing says otherwise.
        devs = ["hd"]
    out: dict[int, int] = {}
    if devs:
        pending = {}
        for pos, dev in enumerate(devs, start=1):
            if dev in _BOOT_DEVICE:
                pending[_BOOT_DEVICE[dev]] = pos
        for disk in disks:
            kind = disk.get("device", "disk")
            kind = "disk" if kind == "lun" else kind
            out[id(disk)] = pending.pop(kind, 0)
        return out
    for disk in disks:
        out[id(disk)] = _int(_sub(disk, "boot").get("order"))
    return out


# --- stages -------------------------------------------------------------------------------------

def managed_pr(ctx: Ctx, cmd: Command) -> None:
    """-object pr-manager-helper for the domain's managed reservations helper, when a disk uses it."""
    chains = _chains(ctx)
    used = any(blockdev.pr_manager_alias(img) == blockdev.MANAGED_PR_ALIAS
               for images in chains.values() for img in images if img.type in ("file", "block"))
    if not used:
        return
    path = f"{platform.domain_lib_dir(ctx)}/{blockdev.MANAGED_PR_ALIAS}.sock"
    props = {"qom-type": "pr-manager-helper", "id": blockdev.MANAGED_PR_ALIAS, "path": path}
    cmd.add("-object", object_arg(ctx, props))


def disks(ctx: Ctx, cmd: Command) -> None:
    """The floppy controller's boot options, then every disk's nodes and front end in libvirt's order."""
    ordered = ordered_disks(ctx)
    chains = _chains(ctx)
    boot = _boot_indexes(ctx, ordered)
    _floppy_controller(ctx, cmd, ordered, boot)
    for disk in ordered:
        # A transient disk sharing its backing image is attached after start.
        if disk.find("transient") is not None and disk.find("transient").get("shareBacking") == "yes":
            continue
        _disk(ctx, cmd, disk, chains[id(disk)], boot.get(id(disk), 0))


def _floppy_controller(ctx: Ctx, cmd: Command, ordered: list[etree._Element], boot: dict[int, int]) -> None:
    floppies = [d for d in ordered if _bus(d) == "fdc"]
    if not floppies:
        return
    index = {"A": 0, "B": 0}
    for disk in floppies:
        unit = _int(_sub(disk, "address").get("unit"))
        index["B" if unit else "A"] = boot.get(id(disk), 0)
    if is_q35(ctx.machine):
        # Q35 has no built-in floppy controller: libvirt adds one.
        props = {"driver": "isa-fdc"}
        for drive in ("A", "B"):
            if index[drive]:
                props[f"bootindex{drive}"] = index[drive]
        cmd.add("-device", device_arg(ctx, props))
        return
    for drive in ("A", "B"):
        if index[drive]:
            cmd.add("-global", f"isa-fdc.bootindex{drive}={index[drive]}")


def _disk(ctx: Ctx, cmd: Command, disk: etree._Element, images: list[Image], bootindex: int) -> None:
    bus = _bus(disk)
    top = images[0]
    if top.type == "vhostuser":
        _vhost_user_chardev(ctx, cmd, disk)
    elif bus == "sd":
        cmd.add("-drive", _sd_drive(ctx, disk, top))
        return
    elif not top.empty:
        for img in images:
            _fd_args(ctx, cmd, img)
        for img in reversed(images):
            if img.empty:
                continue
            for opt, value in blockdev.image_args(ctx, img):
                cmd.add(opt, value)
        if _copy_on_read(disk):
            cmd.add("-blockdev", to_json({"driver": "copy-on-read", "node-name": _cor_node(disk),
                                                   "file": top.format_node, "discard": "unmap"}))
    # An s390 PCI address puts a zpci device first (qemuCommandAddExtDevice).
    add_device(ctx, cmd, device_props(ctx, disk, top, bootindex), disk)


def _fd_args(ctx: Ctx, cmd: Command, img: Image) -> None:
    """-add-fd for an image opened from passed file descriptors (<source fdgroup>)."""
    fds = img.extra.get("fds")
    if not fds:
        return
    for i, fd in enumerate(fds):  # type: ignore[arg-type]
        cmd.add("-add-fd", f"set={img.extra['fdset']},fd={fd},opaque={img.storage_node}{i}")


def _copy_on_read(disk: etree._Element) -> bool:
    return _sub(disk, "driver").get("copy_on_read") == "on"


def _cor_node(disk: etree._Element) -> str:
    return f"libvirt-CoR-{_sub(disk, 'target').get('dev', '')}"


def top_node(disk: etree._Element, top: Image) -> str | None:
    """The node a disk's device reads: the copy-on-read layer, the top format node, or none when empty."""
    if top.empty:
        return None
    return _cor_node(disk) if _copy_on_read(disk) else top.format_node


def _vhost_user_chardev(ctx: Ctx, cmd: Command, disk: etree._Element) -> None:
    src = _sub(disk, "source")
    opts = f"socket,id=chr-vu-{_alias(disk)},path={src.get('path', '').replace(',', ',,')}"
    reconnect = src.find("reconnect")
    if reconnect is not None and reconnect.get("enabled") == "yes":
        opts += f",reconnect={_int(reconnect.get('timeout'))}"
    cmd.add("-chardev", opts)


def _sd_drive(ctx: Ctx, disk: etree._Element, top: Image) -> str:
    """-drive if=sd: SD cards have no -device form."""
    parts = []
    if top.is_local and top.path:
        parts.append("file=" + ("fat:" if top.type == "dir" else "") + top.path.replace(",", ",,"))
    elif not top.empty and top.type == "network":
        raise InputError(ctx.path, disk.sourceline, "an SD card from a network source cannot be built yet")
    if top.format and top.type != "dir":
        parts.append(f"format={top.format}")
    idx = disk_index(_sub(disk, "target").get("dev", ""))
    parts.append(f"if=sd,index={idx if idx is not None else -1}")
    if top.readonly:
        parts.append("readonly=on")
    if not top.empty:
        drv = _sub(disk, "driver")
        cache = drv.get("cache")
        if cache and cache != "default":
            parts.append(f"cache={cache}")
        if drv.get("copy_on_read") in ("on", "off"):
            parts.append(f"copy-on-read={drv.get('copy_on_read')}")
        if top.discard:
            parts.append(f"discard={top.discard}")
        zeroes = blockdev._detect_zeroes(top)
        if zeroes:
            parts.append(f"detect-zeroes={zeroes}")
        if top.io:
            parts.append(f"aio={top.io}")
    return ",".join(parts)


# --- the front end ------------------------------------------------------------------------------

def _driver_name(ctx: Ctx, disk: etree._Element, top: Image) -> str | None:
    bus, device = _bus(disk), disk.get("device", "disk")
    if bus in ("ide", "sata"):
        return "ide-cd" if device == "cdrom" else "ide-hd"
    if bus == "scsi":
        if device == "lun":
            return "scsi-block"
        return "scsi-cd" if device == "cdrom" else "scsi-hd"
    if bus == "usb":
        return "usb-storage"
    if bus == "fdc":
        return "floppy"
    if bus == "virtio":
        return None
    raise InputError(ctx.path, disk.sourceline, f"unsupported disk bus '{bus}' with device setup")


def _wwn(ctx: Ctx, disk: etree._Element) -> int | None:
    text = disk.findtext("wwn")
    if not text:
        return None
    try:
        return int(text, 16)
    except ValueError:
        raise InputError(ctx.path, disk.sourceline, f"Failed to parse wwn '{text}' as number") from None


def _error_policies(drv: etree._Element) -> tuple[str | None, str | None]:
    wpolicy = drv.get("error_policy")
    rpolicy = drv.get("rerror_policy")
    wpolicy = None if wpolicy == "default" else wpolicy
    rpolicy = None if rpolicy == "default" else rpolicy
    if wpolicy == "enospace":
        # QEMU spells it enospc, and only for writes.
        return "enospc", rpolicy
    return wpolicy, rpolicy or wpolicy


def device_props(ctx: Ctx, disk: etree._Element, top: Image, bootindex: int) -> dict[str, object]:
    """The -device properties of a disk's front end (qemuBuildDiskDeviceProps)."""
    bus, device = _bus(disk), disk.get("device", "disk")
    drv = _sub(disk, "driver")
    target = _sub(disk, "target")
    props: dict[str, object] = {}
    vpd_id = None
    if bus == "virtio":
        props = virtio_props(ctx, disk, "vhost-user-blk" if top.type == "vhostuser" else "virtio-blk",
                             model=disk.get("model"))
        iothread = _int(drv.get("iothread"))
        scsi = None
        if top.type != "vhostuser" and ctx.has("virtio-blk-pci.scsi"):
            if device == "lun":
                scsi = True
            elif not ctx.has("virtio-blk-pci.scsi.default.disabled"):
                scsi = False
        for key, value in (("iothread", f"iothread{iothread}" if iothread else None),
                           ("ioeventfd", _switch(drv.get("ioeventfd"))),
                           ("event_idx", _switch(drv.get("event_idx"))), ("scsi", scsi),
                           ("num-queues", _int(drv.get("queues")) or None),
                           ("queue-size", _int(drv.get("queue_size")) or None)):
            if value is not None:
                props[key] = value
    else:
        props["driver"] = _driver_name(ctx, disk, top)
        if bus == "scsi" and device != "lun":
            # QEMU used the -drive name as the VPD device id when no serial was set.
            vpd_id = disk.findtext("serial") or f"drive-{_alias(disk)}"
    props.update(address_props(ctx, disk, bus))
    removable = None
    if bus == "usb" and ctx.has("usb-storage.removable"):
        removable = target.get("removable") == "on"
    write_cache = None
    cache = _effective_cache(disk, top)
    if cache and device != "lun":
        write_cache = "on" if CACHE_FLAGS[cache][0] else "off"
    serial = disk.findtext("serial")
    if serial:
        serial = serial.replace(" ", "\\ ")
    geometry = _sub(disk, "geometry")
    blockio = _sub(disk, "blockio")
    trans = geometry.get("trans")
    wpolicy, rpolicy = _error_policies(drv)
    later: list[tuple[str, object]] = [
        ("device_id", vpd_id),
        ("share-rw", True if disk.find("shareable") is not None else None),
        ("drive", None if top.type == "vhostuser" else top_node(disk, top)),
        ("chardev", f"chr-vu-{_alias(disk)}" if top.type == "vhostuser" else None),
        ("id", _alias(disk)),
        ("bootindex", bootindex if device != "floppy" and bootindex else None),
        ("logical_block_size", _int(blockio.get("logical_block_size")) or None),
        ("physical_block_size", _int(blockio.get("physical_block_size")) or None),
        ("wwn", _wwn(ctx, disk)),
        ("rotation_rate", _int(target.get("rotation_rate")) or None),
        ("vendor", disk.findtext("vendor") or None),
        ("product", disk.findtext("product") or None),
        ("removable", removable),
        ("write-cache", write_cache),
        ("cyls", _int(geometry.get("cyls")) or None),
        ("heads", _int(geometry.get("heads")) or None),
        ("secs", _int(geometry.get("secs")) or None),
        ("bios-chs-trans", trans if trans and trans != "default" else None),
        ("serial", serial or None),
        ("werror", wpolicy),
        ("rerror", rpolicy),
    ]
    for key, value in later:
        if value is not None:
            props[key] = value
    return props


def _effective_cache(disk: etree._Element, top: Image) -> str | None:
    cache = _sub(disk, "driver").get("cache")
    if cache in (None, "default"):
        # A shared, writable disk is opened uncached (qemuDomainPrepareDiskCachemode).
        if disk.find("shareable") is not None and not top.readonly and top.type != "vhostuser":
            return "none"
        return None
    return cache if cache in CACHE_FLAGS else None


def _switch(value: str | None) -> bool | None:
    return {"on": True, "off": False}.get(value or "")
