"""Helpers the devices and graphics families share: writing -device/-object, addresses, aliases, virtio names.

Addresses come from the address family (`address.py`); the virtio device name,
-device/-object writing and the zpci companion device are shared by several
families and live here until the lead folds them into one place.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import InputError
from . import address
from . import props as props9

Element = etree._Element
Props = dict[str, Any]


# --------------------------------------------------------------------------- writing


def device(ctx: Ctx, cmd: Command, props: Props) -> None:
    """-device as JSON when QEMU takes JSON there (device.json+hotplug), else as driver,key=value."""
    props = _overridden(ctx, props9.compact(props))
    if ctx.has("device.json+hotplug"):
        cmd.add("-device", props9.to_json(props))
    else:
        cmd.add("-device", props9.to_keyval(props, first="driver"))


def qom_object(ctx: Ctx, cmd: Command, props: Props) -> None:
    """-object as JSON when QEMU's object-add is QAPIfied (object.qapified), else as type,key=value."""
    props = props9.compact(props)
    if ctx.has("object.qapified"):
        cmd.add("-object", props9.to_json(props))
    else:
        cmd.add("-object", _keyval_bitmaps(props, first="qom-type"))


def _keyval_bitmaps(props: Props, first: str) -> str:
    """key=value where a list of numbers is written as ranges (host-nodes=0-3), as libvirt writes -object."""
    out: Props = {}
    extra: list[str] = []
    for key, value in props.items():
        if isinstance(value, list) and all(isinstance(v, int) for v in value):
            extra.append(_bitmap(key, value))
            out[key] = None
        else:
            out[key] = value
    text = props9.to_keyval({k: v for k, v in out.items() if v is not None or k == first}, first=first)
    return ",".join([text, *[e for e in extra if e]]) if extra else text


def _bitmap(key: str, values: list[int]) -> str:
    parts: list[str] = []
    nums = sorted(set(values))
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(f"{key}={nums[i]}-{nums[j]}" if j > i else f"{key}={nums[i]}")
        i = j + 1
    return ",".join(parts)


QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"


def _overridden(ctx: Ctx, props: Props) -> Props:
    """The properties after <qemu:override><qemu:device alias=...><qemu:frontend> replaced or removed some."""
    alias = props.get("id")
    if not alias:
        return props
    for dev in ctx.root.iterfind(f"{{{QEMU_NS}}}override/{{{QEMU_NS}}}device"):
        if dev.get("alias") != alias:
            continue
        for prop in dev.iterfind(f"{{{QEMU_NS}}}frontend/{{{QEMU_NS}}}property"):
            name = prop.get("name")
            props.pop(name, None)
            ptype, value = prop.get("type"), prop.get("value")
            if ptype == "remove" or name is None:
                continue
            props[name] = _override_value(ptype, value)
    return props


def _override_value(ptype: str | None, value: str | None) -> Any:
    if ptype == "unsigned" or ptype == "signed":
        return int(value or "0")
    if ptype == "bool":
        return value == "true"
    return value or ""


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
    addr = el.find("address")
    if addr is None or addr.get("type") != "pci":
        return
    zpci = addr.find("zpci")
    if zpci is None:
        return
    uid = uint(ctx, zpci, "uid", 0, 0)
    device(ctx, cmd, {"driver": "zpci", "uid": uid, "fid": uint(ctx, zpci, "fid", 0, 0),
                      "target": alias(el), "id": f"zpci{uid}"})


# --------------------------------------------------------------------------- virtio


_IMPL = {"pci": "pci", "virtio-mmio": "device", "ccw": "ccw"}


def virtio_driver(ctx: Ctx, el: Element, base: str, model: str | None = None, bus_suffix: bool = True) -> str:
    """The virtio device's driver name: base, -pci/-device/-ccw by address, -(non-)transitional by model."""
    atype = address_type(el) or "pci"
    # Address assignment gives virtio devices only these types; anything else reads as PCI.
    impl = _IMPL.get(atype, "pci")
    name = f"{base}-{impl}" if bus_suffix else base
    model = el.get("model") if model is None else model
    if model in ("virtio-transitional", "virtio-non-transitional"):
        if atype != "pci":
            raise InputError(ctx.path, el.sourceline, "virtio (non-)transitional models are not supported "
                             f"for address type={atype}")
        if ctx.has("virtio-pci-non-transitional"):
            name += "-transitional" if model == "virtio-transitional" else "-non-transitional"
        elif model == "virtio-non-transitional":
            raise InputError(ctx.path, el.sourceline, "virtio non-transitional model not supported for this qemu")
    return name


def virtio_options(el: Element) -> Props:
    """iommu_platform/ats/packed/page-per-vq from a device's <driver>."""
    drv = el.find("driver")
    return {"iommu_platform": onoff(drv, "iommu"), "ats": onoff(drv, "ats"), "packed": onoff(drv, "packed"),
            "page-per-vq": onoff(drv, "page_per_vq")}


def virtio_props(ctx: Ctx, el: Element, base: str, model: str | None = None, bus_suffix: bool = True) -> Props:
    """The driver and virtio options every virtio device starts with (qemuBuildVirtioDevProps)."""
    return {"driver": virtio_driver(ctx, el, base, model, bus_suffix), **virtio_options(el)}


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
