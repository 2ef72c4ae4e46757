"""Attribute readers the devices and graphics families share: aliases, numbers, tristates, <rom>.

Addresses, virtio names and zpci devices come from `address`, every -device and
-object is written by `props`.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..cmdline.context import Ctx
from ..errors import InputError
from . import address

Element = etree._Element
Props = dict[str, Any]


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


_TRISTATE = {"on": True, "yes": True, "off": False, "no": False}


def tristate(value: str | None) -> bool | None:
    """A tristate value (on/off or yes/no) as True/False, None when absent or anything else."""
    return _TRISTATE.get(value or "")


def onoff(el: Element | None, attr: str) -> bool | None:
    """A tristate attribute (on/off or yes/no) as True/False, None when absent."""
    return tristate(el.get(attr)) if el is not None else None


def switch(value: bool | None) -> str | None:
    """True/False as QEMU's on/off, None left unset."""
    return None if value is None else ("on" if value else "off")


# --------------------------------------------------------------------------- <rom>


def rom_props(ctx: Ctx, el: Element) -> Props:
    """rombar/romfile from a device's <rom>."""
    rom = el.find("rom")
    if rom is None:
        return {}
    enabled, bar, romfile = onoff(rom, "enabled"), onoff(rom, "bar"), rom.get("file")
    if enabled is None and bar is None and romfile is None:
        return {}
    if address.address_type(el) != "pci":
        raise InputError(ctx.path, rom.sourceline, "ROM tuning is only supported for PCI devices")
    if enabled is False:
        return {"romfile": ""}
    out: Props = {}
    if bar is not None:
        out["rombar"] = 1 if bar else 0
    if romfile is not None:
        out["romfile"] = romfile
    return out
