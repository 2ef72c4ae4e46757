"""Helpers the devices and graphics families share: writing -device/-object, addresses, aliases, virtio names.

Addresses, -device writing (qemu:override), virtio names and zpci devices come
from the address family's shared helpers (`address.py`), -object writing from the
chardev family's; what is left here drops unset properties and reads attributes.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import InputError
from . import address, chardev
from . import props as props9

Element = etree._Element
Props = dict[str, Any]


# --------------------------------------------------------------------------- writing


def device(ctx: Ctx, cmd: Command, props: Props) -> None:
    """-device as JSON when QEMU takes JSON there (device.json+hotplug), else as driver,key=value."""
    cmd.add("-device", address.device_arg(ctx, props9.compact(props)))


def qom_object(ctx: Ctx, cmd: Command, props: Props) -> None:
    """-object as JSON when QEMU's object-add is QAPIfied (object.qapified), else as type,key=value."""
    cmd.add("-object", chardev.object_arg(ctx, props9.compact(props)))


# --------------------------------------------------------------------------- aliases and numbers


def alias(el: Element, default: str | None = None) -> str | None:
    """A device's alias as preparation assigned it (<alias name=...>), else the default given."""
    found = el.find("alias")
    if found is not None and found.get("name"):
        return found.get("name")
    return default


def uint(ctx: Ctx, el: Element | None, attr: str, default: int = 0, base: int = 10) -> int:
    """An unsigned attribute (0x hex and 0 octal with base 0); InputError when it is not a number."""
    if el is None:
        return default
    text = el.get(attr)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text.strip(), base) if base else _c_int(text.strip())
    except ValueError:
        raise InputError(ctx.path, el.sourceline, f"{el.tag} {attr}='{text}' is not a number") from None
    return value


def _c_int(text: str) -> int:
    if text.lower().startswith("0x"):
        return int(text, 16)
    if len(text) > 1 and text.startswith("0"):
        return int(text, 8)
    return int(text, 10)


def onoff(el: Element | None, attr: str) -> bool | None:
    """A tristate attribute (on/off or yes/no) as True/False, None when absent."""
    if el is None:
        return None
    value = el.get(attr)
    if value in ("on", "yes"):
        return True
    if value in ("off", "no"):
        return False
    return None


# --------------------------------------------------------------------------- addresses


def address_type(el: Element) -> str | None:
    """The type of a device's own <address>, or None."""
    addr = el.find("address")
    return addr.get("type") if addr is not None else None


def address_props(ctx: Ctx, el: Element) -> Props:
    """bus/addr/devno/... of a device's <address> (the address family's qemuBuildDeviceAddressProps)."""
    return address.props(ctx, el)


def ext_device(ctx: Ctx, cmd: Command, el: Element) -> None:
    """The zpci device that goes before an s390 PCI device (its address's <zpci uid fid>)."""
    ext = address.zpci_props(el)
    if ext is not None:
        device(ctx, cmd, ext)


# --------------------------------------------------------------------------- virtio


def virtio_driver(ctx: Ctx, el: Element, base: str, model: str | None = None, bus_suffix: bool = True) -> str:
    """The virtio device's driver name: base, -pci/-device/-ccw by address, -(non-)transitional by model."""
    return str(virtio_props(ctx, el, base, model, bus_suffix)["driver"])


def virtio_props(ctx: Ctx, el: Element, base: str, model: str | None = None, bus_suffix: bool = True) -> Props:
    """The driver and virtio options every virtio device starts with (qemuBuildVirtioDevProps).

    The address family's helper names the device; a non-transitional model QEMU cannot
    give is refused here, as libvirt refuses it.
    """
    model = el.get("model") if model is None else model
    if model == "virtio-non-transitional" and not ctx.has("virtio-pci-non-transitional"):
        raise InputError(ctx.path, el.sourceline, "virtio non-transitional model not supported for this qemu")
    return address.virtio_props(ctx, el, base, model, bus_suffix)


def rom_props(ctx: Ctx, el: Element) -> Props:
    """rombar/romfile from a device's <rom>."""
    rom = el.find("rom")
    if rom is None:
        return {}
    enabled, bar, romfile = onoff(rom, "enabled"), onoff(rom, "bar"), rom.get("file")
    if enabled is None and bar is None and romfile is None:
        return {}
    if address_type(el) != "pci":
        raise InputError(ctx.path, rom.sourceline, "ROM tuning is only supported for PCI devices")
    if enabled is False:
        return {"romfile": ""}
    out: Props = {}
    if bar is not None:
        out["rombar"] = 1 if bar else 0
    if romfile is not None:
        out["romfile"] = romfile
    return out
