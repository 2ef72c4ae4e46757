"""The parts of a -device libvirt 9.0 builds the same way for every family.

Written for disks and filesystems until shared helpers land (the lead folds
them): the virtio model names and options (qemuBuildVirtioDevProps), the
-device writer with <qemu:override> properties (qemuBuildDeviceCommandlineFromJSON);
addresses come from the address family's `address.props`.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..cmdline.context import Ctx
from ..errors import InputError
from ..values import parse_int
from . import address
from .props import Props, to_json, to_keyval

# SCSI controller models whose bus takes scsi-id only (no channel, no lun).
_SCSI_NARROW = frozenset(("lsilogic", "ncr53c90", "dc390", "am53c974"))


def _int(text: str | None, base: int = 0) -> int:
    return parse_int(text or "0", base) or 0


_QEMU_NS = "{http://libvirt.org/schemas/domain/qemu/1.0}"


def _override_value(prop: etree._Element) -> Any:
    kind, value = prop.get("type"), prop.get("value", "")
    if kind == "remove":
        return None
    if kind in ("signed", "unsigned"):
        return parse_int(value, 10)
    if kind == "bool":
        return value == "true"
    return value


def apply_overrides(ctx: Ctx, props: Props) -> Props:
    """The properties after the domain's <qemu:override> for the device's id: each one removed, then re-added last."""
    alias = props.get("id")
    if not alias:
        return props
    out = dict(props)
    for dev in ctx.root.iterfind(f"{_QEMU_NS}override/{_QEMU_NS}device"):
        if dev.get("alias") != alias:
            continue
        for prop in dev.iterfind(f"{_QEMU_NS}frontend/{_QEMU_NS}property"):
            name = prop.get("name", "")
            out.pop(name, None)
            value = _override_value(prop)
            if value is not None:
                out[name] = value
    return out


def device_arg(ctx: Ctx, props: Props) -> str:
    """A -device value: JSON when QEMU takes JSON -device (device.json+hotplug), else driver,key=value."""
    props = apply_overrides(ctx, props)
    if ctx.has("device.json+hotplug"):
        return to_json(props)
    return to_keyval(props, first="driver")


def _alias(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    found = el.find("alias")
    return found.get("name") if found is not None else None


def controller(ctx: Ctx, ctype: str, index: int) -> etree._Element | None:
    """The first controller of a type and index (virDomainControllerAliasFind's match)."""
    for ctl in ctx.devices.iterfind("controller"):
        if ctl.get("type") == ctype and _int(ctl.get("index"), 10) == index:
            return ctl
    return None


def scsi_model(ctx: Ctx, ctl: etree._Element | None) -> str:
    """A SCSI controller's model, with libvirt's default (qemuDomainGetSCSIControllerModel)."""
    model = ctl.get("model") if ctl is not None else None
    if model and model != "default":
        return model
    if ctx.machine.startswith("pseries"):
        return "ibmvscsi"
    if ctx.arch.startswith("s390"):
        return "virtio-scsi"
    if ctx.has("lsi"):
        return "lsilogic"
    if ctx.has("virtio-scsi-pci"):
        return "virtio-scsi"
    return "ncr53c90"


def address_props(ctx: Ctx, el: etree._Element, disk_bus: str | None = None) -> Props:
    """The properties that place a device on its bus, from its <address> (the address family's `props`)."""
    return address.props(ctx, el, disk_bus)


def virtio_model(ctx: Ctx, el: etree._Element, base: str) -> str:
    """The QEMU device of a virtio device: base name, transport suffix, (non-)transitional (qemuBuildVirtioDevGetConfig)."""
    addr = el.find("address")
    atype = addr.get("type") if addr is not None else None
    if atype in (None, "virtio-s390"):
        # Not addressed (yet): the transport libvirt would have given it.
        atype = "ccw" if ctx.arch.startswith("s390") else "pci"
    suffix = {"pci": "pci", "virtio-mmio": "device", "ccw": "ccw"}.get(atype or "")
    if suffix is None:
        raise InputError(ctx.path, el.sourceline, f"Unexpected address type for '{base}'")
    name = f"{base}-{suffix}"
    model = el.get("model")
    if atype == "pci" and model == "virtio-transitional" and ctx.has("virtio-pci-non-transitional"):
        name += "-transitional"
    elif atype == "pci" and model == "virtio-non-transitional":
        if not ctx.has("virtio-pci-non-transitional"):
            raise InputError(ctx.path, el.sourceline, "virtio non-transitional model not supported for this qemu")
        name += "-non-transitional"
    return name


def virtio_props(ctx: Ctx, el: etree._Element, base: str) -> Props:
    """driver plus the <driver> virtio options (iommu, ats, packed, page_per_vq) of a virtio device."""
    props: dict[str, Any] = {"driver": virtio_model(ctx, el, base)}
    drv = el.find("driver")
    if drv is not None:
        for attr, key in (("iommu", "iommu_platform"), ("ats", "ats"), ("packed", "packed"),
                          ("page_per_vq", "page-per-vq")):
            value = drv.get(attr)
            if value in ("on", "off"):
                props[key] = value == "on"
    return props
