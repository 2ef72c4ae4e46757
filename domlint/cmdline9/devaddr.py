"""The parts of a -device libvirt 9.0 builds the same way for every family.

MINIMAL stand-ins for the address family's `address.py` (qemuBuildDeviceAddressProps)
and for the virtio model names (qemuBuildVirtioDevProps), written for disks and
filesystems until the shared helpers land; the lead folds them.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..cmdline.context import Ctx
from ..errors import InputError
from ..machine import is_i440fx, is_q35
from ..values import parse_int
from .props import Props, to_json, to_keyval

# SCSI controller models whose bus takes scsi-id only (no channel, no lun).
_SCSI_NARROW = frozenset(("lsilogic", "ncr53c90", "dc390", "am53c974"))


def _int(text: str | None, base: int = 0) -> int:
    return parse_int(text or "0", base) or 0


def device_arg(ctx: Ctx, props: Props) -> str:
    """A -device value: JSON when QEMU takes JSON -device (device.json+hotplug), else driver,key=value."""
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


def _pci_bus(ctx: Ctx, bus: int, el: etree._Element) -> str:
    for ctl in ctx.devices.iterfind("controller"):
        if ctl.get("type") == "pci" and _int(ctl.get("index"), 10) == bus:
            alias = _alias(ctl)
            model = ctl.get("model")
            if alias is None or alias.startswith("ua-"):
                if model == "pci-root" and not ctx.machine.startswith("pseries"):
                    return "pci.0"
                if model == "pcie-root":
                    return "pcie.0"
            if alias is None:
                break
            target = ctl.find("target")
            if model == "pci-root" and ctx.machine.startswith("pseries") and target is not None \
                    and _int(target.get("index"), 10) > 0:
                return f"{alias}.0"
            return alias
    raise InputError(ctx.path, el.sourceline, f"Could not find PCI controller with index '{bus}' "
                                              "required for the device's address")


def _drive_props(ctx: Ctx, el: etree._Element, addr: etree._Element, disk_bus: str | None) -> Props:
    ctrl, bus, target, unit = (_int(addr.get(k), 10) for k in ("controller", "bus", "target", "unit"))
    if disk_bus == "ide":
        name = "ide" if is_i440fx(ctx.machine) and ctx.arch in ("i686", "x86_64") else \
            _alias(controller(ctx, "ide", ctrl)) or f"ide{ctrl}"
        return {"bus": f"{name}.{bus}", "unit": unit}
    if disk_bus == "sata":
        name = "ide" if is_q35(ctx.machine) and ctrl == 0 else _alias(controller(ctx, "sata", ctrl)) or f"sata{ctrl}"
        return {"bus": f"{name}.{unit}"}
    if disk_bus == "fdc":
        return {"unit": unit}
    if disk_bus == "scsi":
        ctl = controller(ctx, "scsi", ctrl)
        if ctl is None:
            raise InputError(ctx.path, el.sourceline, f"unable to find a SCSI controller for idx={ctrl}")
        name = _alias(ctl) or f"scsi{ctrl}"
        if scsi_model(ctx, ctl) in _SCSI_NARROW:
            return {"bus": f"{name}.{bus}", "scsi-id": unit}
        return {"bus": f"{name}.0", "channel": bus, "scsi-id": target, "lun": unit}
    raise InputError(ctx.path, el.sourceline, f"address type drive is not supported for bus '{disk_bus}'")


def address_props(ctx: Ctx, el: etree._Element, disk_bus: str | None = None) -> Props:
    """The properties that place a device on its bus, from its <address> (qemuBuildDeviceAddressProps)."""
    addr = el.find("address")
    if addr is None:
        return {}
    atype = addr.get("type")
    if atype == "pci":
        bus, slot, function = (_int(addr.get(k)) for k in ("bus", "slot", "function"))
        props: Props = {"bus": _pci_bus(ctx, bus, el)}
        multi = addr.get("multifunction")
        if multi in ("on", "off"):
            props["multifunction"] = multi == "on"
        props["addr"] = f"{slot:#x}.{function:#x}" if function else f"{slot:#x}"
        acpi = el.find("acpi")
        if acpi is not None and _int(acpi.get("index"), 10):
            props["acpi-index"] = _int(acpi.get("index"), 10)
        return props
    if atype == "usb":
        bus = _int(addr.get("bus"), 10)
        name = _alias(controller(ctx, "usb", bus)) or ("usb" if bus == 0 else f"usb{bus}")
        props = {"bus": f"{name}.0"}
        port = addr.get("port")
        if port:
            props["port"] = port
        return props
    if atype == "ccw":
        cssid, ssid, devno = (_int(addr.get(k)) for k in ("cssid", "ssid", "devno"))
        return {"devno": f"{cssid:x}.{ssid:x}.{devno:04x}"}
    if atype == "drive":
        return _drive_props(ctx, el, addr, disk_bus)
    if atype == "spapr-vio":
        reg = addr.get("reg")
        return {"reg": _int(reg)} if reg else {}
    return {}


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
