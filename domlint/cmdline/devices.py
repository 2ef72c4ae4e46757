"""libvirt's device lists, in the order libvirt 1.2.8 keeps them.

The normalised domain keeps source elements in document order and appends
implied ones; libvirt instead sorts disks and controllers as it parses them,
lists type='hostdev' interfaces among the host devices, drops implicit PS/2
inputs and puts the primary video first. Address assignment, aliases and
every family that loops over a device list read the lists from here, so
their order agrees with libvirt's everywhere.

While ctx.lists is on (from address assignment onwards, when the set of
devices is fixed but for the bridges assignment adds) each list is found
once and shared: callers must not change the lists they are given.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..domain import disk_index
from ..values import parse_int
from ..walk import children_by_tag
from .context import Ctx, child

Element = etree._Element


def _sorted(items: list[Element], keys: list[tuple[str, int]]) -> list[Element]:
    """Order items the way libvirt's *InsertPreAlloced helpers insert them one by one.

    Each key is (group, index): an item goes after the last one of its group,
    or before the first later one of its group that has a higher index;
    an item of a new group goes at the end.
    """
    out: list[tuple[tuple[str, int], Element]] = []
    for key, item in zip(keys, items, strict=True):
        at = -1
        for pos in range(len(out) - 1, -1, -1):
            other = out[pos][0]
            if other[0] == key[0]:
                if other[1] > key[1]:
                    at = pos
                elif at == -1:
                    at = pos + 1
        if at == -1:
            out.append((key, item))
        else:
            out.insert(at, (key, item))
    return [item for _, item in out]


def forget(ctx: Ctx) -> None:
    """Drop the lists ctx keeps (a device was added)."""
    if ctx.lists is not None:
        ctx.lists.clear()


def _by_tag(ctx: Ctx) -> dict[Any, list[Element]]:
    return children_by_tag(ctx.devices)


def tagged(ctx: Ctx, tag: str) -> list[Element]:
    """The <devices> children of one tag, in document order (from one pass over them while ctx keeps lists)."""
    if ctx.lists is None:
        return list(ctx.devices.iterfind(tag))
    return ctx.kept("by-tag", _by_tag).get(tag) or []


def first(ctx: Ctx, tag: str) -> Element | None:
    """The first <devices> child of one tag, or None."""
    if ctx.lists is None:
        return ctx.devices.find(tag)
    found = tagged(ctx, tag)
    return found[0] if found else None


def _disk_key(disk: Element) -> tuple[str, int]:
    target = child(disk, "target")
    if target is None:
        return "", -1
    idx = disk_index(target.get("dev", ""))
    return target.get("bus", ""), -1 if idx is None else idx


def disks(ctx: Ctx) -> list[Element]:
    """The disks, grouped by bus and sorted by target index within a bus, as libvirt stores them."""
    return ctx.kept("disks", _disks)


def _disks(ctx: Ctx) -> list[Element]:
    found = tagged(ctx, "disk")
    return _sorted(found, [_disk_key(d) for d in found])


def index(ctl: Element) -> int:
    """A controller's index (decimal, as libvirt reads it; 0 when unreadable, which the rules report)."""
    value = parse_int(ctl.get("index") or "0", 10)
    return value if value is not None and value >= 0 else 0


def controllers(ctx: Ctx) -> list[Element]:
    """The controllers: written ones sorted by type and index, then implied ones in the order libvirt adds them."""
    return ctx.kept("controllers", _controllers)


def _controllers(ctx: Ctx) -> list[Element]:
    written: list[Element] = []
    implied: list[Element] = []
    for ctl in tagged(ctx, "controller"):
        (implied if ctl in ctx.implied else written).append(ctl)
    return _sorted(written, [(c.get("type", ""), index(c)) for c in written]) + implied


def controller(ctx: Ctx, ctype: str, number: int) -> Element | None:
    """The last controller of a type and index (libvirt's lookups keep the last match)."""
    return ctx.kept("controller", _controller_lookup).get((ctype, number))


def _controller_lookup(ctx: Ctx) -> dict[tuple[str | None, int], Element]:
    # Later controllers overwrite earlier ones: the last match wins.
    return {(ctl.get("type"), index(ctl)): ctl for ctl in controllers(ctx)}


def nets(ctx: Ctx) -> list[Element]:
    """The interfaces, in document order."""
    return tagged(ctx, "interface")


def hostdevs(ctx: Ctx) -> list[Element]:
    """The host devices: type='hostdev' interfaces first (they are parsed earlier), then <hostdev>s."""
    return ctx.kept("hostdevs", _hostdevs)


def _hostdevs(ctx: Ctx) -> list[Element]:
    return [n for n in tagged(ctx, "interface") if n.get("type") == "hostdev"] + tagged(ctx, "hostdev")


def is_subsystem(hd: Element) -> bool:
    """True for a host device QEMU is handed directly (mode='subsystem', or a type='hostdev' interface)."""
    return hd.tag == "interface" or hd.get("mode", "subsystem") == "subsystem"


def subsys_type(hd: Element) -> str:
    """pci, usb or scsi: the host bus of a <hostdev> or type='hostdev' <interface> (PCI unless its source says)."""
    if hd.tag == "interface":
        src = hd.find("source/address")
        return src.get("type", "pci") if src is not None else "pci"
    return hd.get("type", "")


def videos(ctx: Ctx) -> list[Element]:
    """The videos, the one marked primary first."""
    return ctx.kept("videos", _videos)


def _videos(ctx: Ctx) -> list[Element]:
    out: list[Element] = []
    for video in tagged(ctx, "video"):
        model = child(video, "model")
        if model is not None and model.get("primary") == "yes":
            out.insert(0, video)
        else:
            out.append(video)
    return out


def inputs(ctx: Ctx) -> list[Element]:
    """The inputs libvirt keeps: PS/2 (hvm) or Xen (other) mice and keyboards are implied, not stored."""
    return ctx.kept("inputs", _inputs)


def _inputs(ctx: Ctx) -> list[Element]:
    hvm = (ctx.root.findtext("os/type") or "hvm").strip() == "hvm"
    implicit_bus = "ps2" if hvm else "xen"
    return [i for i in tagged(ctx, "input")
            if not (i.get("bus") == implicit_bus and i.get("type") in ("mouse", "keyboard"))]


def serial_console(ctx: Ctx, console: Element, position: int) -> bool:
    """True for the first console of an hvm guest when it stands for a serial port."""
    if position != 0 or (ctx.root.findtext("os/type") or "hvm").strip() != "hvm":
        return False
    target = child(console, "target")
    ttype = target.get("type") if target is not None else None
    if ttype is None and ctx.arch in ("s390", "s390x"):
        return False  # an s390 console defaults to virtio
    return ttype in (None, "serial")


def serials(ctx: Ctx) -> list[Element]:
    """The serial ports; with none written, a first console that stands for one becomes serial 0."""
    return ctx.kept("serials", _serials)


def _serials(ctx: Ctx) -> list[Element]:
    found = tagged(ctx, "serial")
    if not found:
        consoles = tagged(ctx, "console")
        if consoles and serial_console(ctx, consoles[0], 0):
            found = [consoles[0]]
    return found


def iterate(ctx: Ctx) -> list[Element]:
    """Every device that has an address, in the order libvirt visits them (virDomainDeviceInfoIterate)."""
    return ctx.kept("iterate", _iterate)


def _iterate(ctx: Ctx) -> list[Element]:
    out = [*disks(ctx), *nets(ctx), *tagged(ctx, "sound"), *tagged(ctx, "hostdev"), *videos(ctx),
           *controllers(ctx), *tagged(ctx, "smartcard"), *serials(ctx), *tagged(ctx, "parallel"),
           *tagged(ctx, "channel")]
    out += [c for pos, c in enumerate(tagged(ctx, "console")) if not serial_console(ctx, c, pos)]
    out += inputs(ctx)
    for tag in ("filesystem", "watchdog", "memballoon", "rng", "nvram", "hub"):
        out += tagged(ctx, tag)
    return out
