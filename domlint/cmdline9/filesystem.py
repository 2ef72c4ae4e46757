"""Filesystem passthrough as libvirt 9.0 builds it: -fsdev + virtio-9p, or a vhost-user-fs chardev + device.

Filesystems come in the domain's order. A 9p share is an -fsdev (the host
side: backend, security model, write policy, path) and a virtio-9p device that
exports it under its mount tag; a virtiofs share is a UNIX socket chardev to
virtiofsd and a vhost-user-fs device.
"""

from __future__ import annotations

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import InputError
from ..values import parse_int
from . import platform
from .address import props as address_props
from .address import virtio_props
from .props import add_device

_ABSENT = etree.Element("absent")
# <filesystem accessmode> as the local backend's security_model.
_SECURITY_MODEL = {"passthrough": "passthrough", "mapped": "mapped", "squash": "none"}
_MULTIDEVS = ("remap", "forbid", "warn")


def _sub(el: etree._Element, tag: str) -> etree._Element:
    found = el.find(tag)
    return found if found is not None else _ABSENT


def _alias(el: etree._Element) -> str:
    found = el.find("alias")
    return found.get("name", "") if found is not None else ""


def fsdev_arg(ctx: Ctx, fs: etree._Element) -> str:
    """The -fsdev value of a 9p share (qemuBuildFSStr)."""
    drv = _sub(fs, "driver")
    kind = drv.get("type") or "default"
    parts: list[str] = []
    if kind in ("default", "path"):
        parts.append("local")
        # libvirt fills in passthrough when the domain names no access mode.
        mode = fs.get("accessmode") or "passthrough"
        if mode in _SECURITY_MODEL:
            parts.append(f"security_model={_SECURITY_MODEL[mode]}")
        multidevs = fs.get("multidevs")
        if multidevs in _MULTIDEVS:
            parts.append(f"multidevs={multidevs}")
        for attr in ("fmode", "dmode"):
            text = fs.get(attr) or ""
            value = int(text, 8) if text and all(c in "01234567" for c in text) else 0
            if value:
                parts.append(f"{attr}={value:04o}")
    elif kind == "handle":
        parts.append("handle")
    wrpolicy = drv.get("wrpolicy")
    if wrpolicy and wrpolicy != "default":
        parts.append(f"writeout={wrpolicy}")
    parts.append(f"id=fsdev-{_alias(fs)}")
    parts.append("path=" + (_sub(fs, "source").get("dir") or "").replace(",", ",,"))
    if fs.find("readonly") is not None:
        parts.append("readonly")
    return ",".join(parts)


def _ninep(ctx: Ctx, cmd: Command, fs: etree._Element) -> None:
    alias = _alias(fs)
    cmd.add("-fsdev", fsdev_arg(ctx, fs))
    props = virtio_props(ctx, fs, "virtio-9p", model=fs.get("model"))
    props.update({"id": alias, "fsdev": f"fsdev-{alias}", "mount_tag": _sub(fs, "target").get("dir", "")})
    props.update(address_props(ctx, fs))
    add_device(ctx, cmd, props, fs)


def socket_path(ctx: Ctx, fs: etree._Element) -> str:
    """virtiofsd's socket: the one the domain names, else ALIAS-fs.sock in the domain's directory."""
    given = _sub(fs, "source").get("socket")
    if given:
        return given
    return f"{platform.domain_lib_dir(ctx)}/{_alias(fs)}-fs.sock"


def _virtiofs(ctx: Ctx, cmd: Command, fs: etree._Element) -> None:
    alias = _alias(fs)
    chardev = f"chr-vu-{alias}"
    cmd.add("-chardev", f"socket,id={chardev},path={socket_path(ctx, fs).replace(',', ',,')}")
    props = virtio_props(ctx, fs, "vhost-user-fs", model=fs.get("model"))
    props.update({"id": alias, "chardev": chardev})
    queue = parse_int(_sub(fs, "driver").get("queue") or "0", 10) or 0
    if queue:
        props["queue-size"] = queue
    props["tag"] = _sub(fs, "target").get("dir", "")
    boot = parse_int(_sub(fs, "boot").get("order") or "0", 10) or 0
    if boot:
        props["bootindex"] = boot
    props.update(address_props(ctx, fs))
    add_device(ctx, cmd, props, fs)


def filesystems(ctx: Ctx, cmd: Command) -> None:
    """-fsdev / -chardev + -device for each <filesystem>, in the domain's order."""
    for fs in ctx.devices.iterfind("filesystem"):
        kind = _sub(fs, "driver").get("type") or "default"
        if kind in ("default", "path", "handle"):
            _ninep(ctx, cmd, fs)
        elif kind == "virtiofs":
            _virtiofs(ctx, cmd, fs)
        elif kind not in ("loop", "nbd", "ploop"):
            raise InputError(ctx.path, fs.sourceline, f"QEMU has no filesystem driver '{kind}'")
