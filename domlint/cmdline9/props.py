"""QEMU option values as libvirt 9.0 writes them: JSON objects, or the older key=value form.

Families build an ordered dict of properties once and hand it to one writer
here: `add_device` (-device), `add_object` (-object) or `netdev_arg` (-netdev).
Whether it is printed as JSON (``-device '{...}'``) or as ``key=value,...``
depends only on the capabilities, and that choice is made here and nowhere
else, as libvirt makes it in qemuBuild{Device,Object,Netdev}CommandlineFromJSON.
-blockdev, -audiodev and -compat are always JSON (`to_json`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from . import address

Props = dict[str, Any]
# How key=value writes one array property: its key=value parts, or None for the plain fallback
# (the key once per member), as libvirt's virQEMUBuildCommandLineJSONArray* helpers do.
ArrayWriter = Callable[[str, list[Any]], list[str] | None]


def to_json(props: Props) -> str:
    """Compact JSON with keys in insertion order, as libvirt's JSON writer prints them."""
    return json.dumps(props, separators=(",", ":"), ensure_ascii=False)


def _keyval_value(value: Any) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value).replace(",", ",,")


def to_keyval(props: Props, first: str | None = None, array: ArrayWriter | None = None) -> str:
    """key=value pairs; `first` names a key whose value is written bare at the front (e.g. the driver).

    `array` writes array properties its own way; without it, or where it declines,
    the key is repeated once per member.
    """
    parts: list[str] = []
    if first is not None and first in props:
        parts.append(_keyval_value(props[first]))
    for key, value in props.items():
        if key == first or value is None:
            continue
        if isinstance(value, list):
            special = array(key, value) if array is not None else None
            parts.extend(special if special is not None else (f"{key}={_keyval_value(v)}" for v in value))
        elif isinstance(value, dict):
            parts.extend(f"{key}.{k}={_keyval_value(v)}" for k, v in value.items())
        else:
            parts.append(f"{key}={_keyval_value(value)}")
    return ",".join(parts)


def compact(props: Props) -> Props:
    """The properties without the ones left unset (None), keeping order."""
    return {k: v for k, v in props.items() if v is not None}


# --------------------------------------------------------------------------- array forms


def number_ranges(values: list[int]) -> list[str]:
    """Sorted distinct numbers as libvirt's bitmap runs: '0-3', '5'."""
    nums = sorted(set(values))
    out: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(f"{nums[i]}-{nums[j]}" if j > i else str(nums[i]))
        i = j + 1
    return out


def bitmap_ranges(key: str, values: list[Any]) -> list[str] | None:
    """Numbers as bitmap ranges (host-nodes=0-3,host-nodes=5); None unless every member is a number."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    return [f"{key}={r}" for r in number_ranges(values)]


def objects_str(key: str, values: list[Any]) -> list[str] | None:
    """An array of {'str': ...} objects as the key repeated with each string (netdev's guestfwd)."""
    if not all(isinstance(v, dict) and list(v) == ["str"] for v in values):
        return None
    return [f"{key}={v['str']}" for v in values]


# --------------------------------------------------------------------------- the writers

_QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"


def _override_value(prop: etree._Element) -> object:
    kind, value = prop.get("type"), prop.get("value")
    if kind in ("signed", "unsigned"):
        return int(value or "0", 10)
    if kind == "bool":
        return value == "true"
    return value or ""


def apply_overrides(ctx: Ctx, props: Props) -> Props:
    """A copy of a device's properties with <qemu:override> applied: each named one removed, then re-added last."""
    alias = props.get("id")
    if not alias:
        return props
    out = dict(props)
    for dev in ctx.root.iterfind(f"{{{_QEMU_NS}}}override/{{{_QEMU_NS}}}device"):
        if dev.get("alias") != alias:
            continue
        for prop in dev.iterfind(f"{{{_QEMU_NS}}}frontend/{{{_QEMU_NS}}}property"):
            name = prop.get("name") or ""
            out.pop(name, None)
            if prop.get("type") != "remove":
                out[name] = _override_value(prop)
    return out


def device_arg(ctx: Ctx, props: Props) -> str:
    """One -device value after <qemu:override>: JSON with device.json+hotplug, else driver,key=value."""
    props = apply_overrides(ctx, compact(props))
    if ctx.has("device.json+hotplug"):
        return to_json(props)
    return to_keyval(props, first="driver")


def object_arg(ctx: Ctx, props: Props) -> str:
    """One -object value: JSON with object.qapified, else qom-type,key=value with number arrays as ranges."""
    props = compact(props)
    if ctx.has("object.qapified"):
        return to_json(props)
    return to_keyval(props, first="qom-type", array=bitmap_ranges)


def netdev_arg(ctx: Ctx, props: Props) -> str:
    """One -netdev value: JSON with netdev.json, else type,key=value with {'str'} arrays flattened."""
    props = compact(props)
    if ctx.has("netdev.json"):
        return to_json(props)
    return to_keyval(props, first="type", array=objects_str)


def zpci_arg(ctx: Ctx, el: etree._Element) -> list[str]:
    """['-device', zpci] an s390 PCI device puts in front of its own -device (qemuCommandAddExtDevice), else []."""
    ext = address.zpci_props(el)
    return [] if ext is None else ["-device", device_arg(ctx, ext)]


def add_device(ctx: Ctx, cmd: Command, props: Props, el: etree._Element | None = None) -> None:
    """-device for a device's properties, preceded by its zpci device on s390 (pass el for that)."""
    if el is not None:
        add_zpci(ctx, cmd, el)
    cmd.add("-device", device_arg(ctx, props))


def add_zpci(ctx: Ctx, cmd: Command, el: etree._Element) -> None:
    """The zpci -device of an s390 PCI device, where the device's own -device does not follow at once."""
    ext = zpci_arg(ctx, el)
    if ext:
        cmd.add(*ext)


def add_object(ctx: Ctx, cmd: Command, props: Props) -> None:
    """-object for an object's properties."""
    cmd.add("-object", object_arg(ctx, props))
