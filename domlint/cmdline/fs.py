"""Filesystem passthrough: -fsdev (the host side) plus -device virtio-9p-pci (the guest's 9p mount)."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from . import address, alias
from .command import Command
from .context import Ctx

# libvirt's <driver type> as QEMU's -fsdev backend (loop and nbd have none).
_FSDEV_DRIVER = {None: "local", "default": "local", "path": "local", "handle": "handle"}
# <filesystem accessmode> as the local backend's security_model.
_SECURITY_MODEL = {"passthrough": "passthrough", "mapped": "mapped", "squash": "none"}


def _driver(fs: etree._Element) -> etree._Element:
    drv = fs.find("driver")
    return drv if drv is not None else etree.Element("driver")


def fsdev_str(ctx: Ctx, fs: etree._Element) -> str:
    """The -fsdev argument: backend, security model, write policy, id, host path, read-only."""
    if fs.get("type", "mount") != "mount":
        raise InputError(ctx.path, fs.sourceline, "QEMU can pass through only filesystems of type 'mount'")
    drv = _driver(fs)
    kind = drv.get("type")
    backend = _FSDEV_DRIVER.get(kind)
    if backend is None:
        raise InputError(ctx.path, fs.sourceline, f"QEMU has no filesystem driver '{kind}'")
    opts = [backend]
    mode = fs.get("accessmode", "passthrough")
    if kind in (None, "default", "path"):
        opts.append(f"security_model={_SECURITY_MODEL.get(mode, mode)}")
    wrpolicy = drv.get("wrpolicy")
    if wrpolicy and wrpolicy != "default":
        opts.append(f"writeout={wrpolicy}")
    src = fs.find("source")
    opts.append(f"id=fsdev-{alias.name(fs) or ''}")
    opts.append(f"path={src.get('dir', '') if src is not None else ''}")
    if fs.find("readonly") is not None:
        opts.append("readonly")
    return ",".join(opts)


def fs_dev_str(ctx: Ctx, fs: etree._Element) -> str:
    """The -device virtio-9p-pci argument that exports an -fsdev to the guest under its mount tag."""
    name = alias.name(fs) or ""
    target = fs.find("target")
    tag = target.get("dir", "") if target is not None else ""
    return f"virtio-9p-pci,id={name},fsdev=fsdev-{name},mount_tag={tag}" + address.suffix(ctx, fs)


def filesystems(ctx: Ctx, cmd: Command) -> None:
    """Append -fsdev and its virtio-9p-pci device for each <filesystem> (QEMU with -fsdev only)."""
    if not ctx.has("fsdev"):
        return
    for fs in ctx.devices.iterfind("filesystem"):
        cmd.add("-fsdev", fsdev_str(ctx, fs), "-device", fs_dev_str(ctx, fs))
