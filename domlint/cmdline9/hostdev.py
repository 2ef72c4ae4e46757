"""Host devices as libvirt 9.0 passes them through (qemuBuildHostdevCommandLine): PCI, USB, SCSI, vhost-scsi, mdev.

<interface type='hostdev'> is one of them: libvirt keeps it in its host device
list (ahead of the <hostdev> elements, as it parses interfaces first) and the
interface itself adds nothing to the command line.
"""

from __future__ import annotations

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import HostFactMissing, InputError
from . import address as A
from . import devutil
from . import props as P
from .hostfacts import host_fd
from .props import to_json

Element = etree._Element

MDEV_DRIVERS = {"vfio-pci": "vfio-pci", "vfio-ccw": "vfio-ccw", "vfio-ap": "vfio-ap"}


def host_devices(ctx: Ctx) -> list[Element]:
    """The subsystem devices of libvirt's host device list (hostdev interfaces first, then <hostdev>s)."""
    return [h for h in A.hostdevs(ctx) if h.get("mode", "subsystem") == "subsystem"]


def _subsys_type(dev: Element) -> str:
    return "pci" if dev.tag == "interface" else dev.get("type", "")


def _boot_index(ctx: Ctx, dev: Element) -> int | None:
    return devutil.uint(ctx, dev.find("boot"), "order", 0) or None


def _network_boot_index(ctx: Ctx) -> int:
    """The position of 'network' in <os><boot dev=...> (1-based, the last one counts), 0 without one."""
    index = 0
    for i, boot in enumerate(ctx.root.iterfind("os/boot")):
        if boot.get("dev") == "network":
            index = i + 1
    return index


def _effective_boot_index(ctx: Ctx, dev: Element, devs: list[Element]) -> int | None:
    """A PCI device's boot index: <boot order>, or with <os><boot dev='network'/> the network boot slot
    for the first hostdev interface when the domain's first interface is one (qemuProcessPrepareDeviceBootorder)."""
    if ctx.root.find("os/boot") is None:
        return _boot_index(ctx, dev)
    first_net = ctx.devices.find("interface")
    if first_net is None or first_net.get("type") != "hostdev" or dev.tag != "interface":
        return None
    first_hostdev_net = next((d for d in devs if d.tag == "interface" and A.address_type(d) != "unassigned"),
                             None)
    return (_network_boot_index(ctx) or None) if dev is first_hostdev_net else None


def _pci_host(ctx: Ctx, dev: Element) -> str:
    addr = dev.find("source/address")
    if addr is None:
        raise InputError(ctx.path, dev.sourceline, "PCI host device without a source address")
    return (f"{devutil.uint(ctx, addr, 'domain', 0, 0):04x}:{devutil.uint(ctx, addr, 'bus', 0, 0):02x}:"
            f"{devutil.uint(ctx, addr, 'slot', 0, 0):02x}.{devutil.uint(ctx, addr, 'function', 0, 0):x}")


def pci_props(ctx: Ctx, dev: Element, bootindex: int | None = None) -> P.Props:
    """vfio-pci with the host address, boot index, failover pair, guest address and ROM settings."""
    backend = dev.find("driver")
    name = backend.get("name") if backend is not None else None
    if name not in (None, "vfio"):
        raise InputError(ctx.path, dev.sourceline, f"invalid PCI passthrough type '{name}'")
    teaming = dev.find("teaming")
    pair = None
    if teaming is not None and teaming.get("type") == "transient":
        pair = teaming.get("persistent")
    return {"driver": "vfio-pci", "host": _pci_host(ctx, dev), "id": devutil.alias(dev),
            "bootindex": bootindex, "failover_pair_id": pair,
            **A.props(ctx, dev), **devutil.rom_props(ctx, dev)}


def usb_props(ctx: Ctx, dev: Element) -> P.Props:
    """usb-host naming the host device (by /dev/bus/usb path when QEMU takes one), with guest reset."""
    src = dev.find("source")
    addr = src.find("address") if src is not None else None
    bus, device = devutil.uint(ctx, addr, "bus", 0), devutil.uint(ctx, addr, "device", 0)
    missing = src is not None and src.get("startupPolicy") == "optional" and addr is None
    hostdevice = hostbus = hostaddr = None
    if not missing:
        if bus == 0 and device == 0:
            bus, device = _usb_by_vendor(ctx, dev, src)
        if ctx.has("usb-host.hostdevice"):
            hostdevice = f"/dev/bus/usb/{bus:03d}/{device:03d}"
        else:
            hostbus, hostaddr = bus or None, device or None
    reset = src.get("guestReset") if src is not None else None
    guest_reset, resets_all = {"off": (False, None), "uninitialized": (True, False),
                               "on": (True, True)}.get(reset or "", (None, None))
    return {"driver": "usb-host", "hostdevice": hostdevice, "hostbus": hostbus, "hostaddr": hostaddr,
            "id": devutil.alias(dev), "bootindex": _boot_index(ctx, dev), "guest-reset": guest_reset,
            "guest-resets-all": resets_all, **A.props(ctx, dev)}


def mdev_props(ctx: Ctx, dev: Element) -> P.Props:
    """vfio-pci/-ccw/-ap on the mediated device's sysfs path (vfio-pci-nohotplug with a ramfb)."""
    model = dev.get("model", "")
    if model not in MDEV_DRIVERS:
        raise InputError(ctx.path, dev.sourceline, f"unknown mediated device model '{model}'")
    ramfb = devutil.onoff(dev, "ramfb") is True
    driver = "vfio-pci-nohotplug" if model == "vfio-pci" and ramfb else MDEV_DRIVERS[model]
    addr = dev.find("source/address")
    uuid = addr.get("uuid") if addr is not None else None
    display = devutil.onoff(dev, "display")
    return {"driver": driver, "id": devutil.alias(dev), "sysfsdev": f"/sys/bus/mdev/devices/{uuid}",
            "display": None if display is None else ("on" if display else "off"),
            "ramfb": True if ramfb else None, "bootindex": _boot_index(ctx, dev),
            **A.props(ctx, dev)}


def vhost_scsi_props(ctx: Ctx, dev: Element) -> P.Props:
    """vhost-scsi-* on the target's WWPN, with the vhost-scsi descriptor libvirt opened."""
    src = dev.find("source")
    fd = host_fd(ctx, "vhost_scsi")
    # No virtio options here: libvirt keeps none for a host device.
    props: P.Props = {"driver": A.virtio_props(ctx, dev, "vhost-scsi", model=dev.get("model") or "")["driver"]}
    props.update({"wwpn": src.get("wwpn") if src is not None else None, "vhostfd": str(fd),
                  "id": devutil.alias(dev), **A.props(ctx, dev)})
    return props


# ---------------------------------------------------------------------------- SCSI


def _storage_id(ctx: Ctx) -> int:
    """The next storage node number, after the disks' (shared with the disk family's counter)."""
    try:
        from .blockdev import next_storage_id
    except ImportError:  # pragma: no cover - the disk family's module not merged yet
        counter = int(ctx.state.get("storage_id", 0)) + 1
        ctx.state["storage_id"] = counter
        return counter
    return next_storage_id(ctx)


def _usb_by_vendor(ctx: Ctx, dev: Element, src: Element | None) -> tuple[int, int]:
    """The bus and device of the one host USB device with the source's vendor and product (virUSBDeviceFindByVendor)."""
    vendor = devutil.uint(ctx, src.find("vendor") if src is not None else None, "id", 0, 0)
    product = devutil.uint(ctx, src.find("product") if src is not None else None, "id", 0, 0)
    listed = ctx.host.raw.get("usb_devices")
    if listed is None:
        raise HostFactMissing(ctx.path, dev.sourceline, f"USB host device {vendor:04x}:{product:04x} is found by "
                              "vendor and product on the host's USB buses", "usb_devices")
    found = [d for d in listed if int(str(d["vendor"]), 0) == vendor and int(str(d["product"]), 0) == product]
    if not found:
        raise InputError(ctx.path, dev.sourceline, f"Did not find USB device {vendor:x}:{product:x}")
    if len(found) > 1:
        raise InputError(ctx.path, dev.sourceline,
                         f"Multiple USB devices for {vendor:x}:{product:x}, use <address> to specify one")
    return int(found[0]["bus"]), int(found[0]["device"])


def scsi_generic_path(ctx: Ctx, dev: Element) -> str:
    """The /dev/sgN a host SCSI address stands for (the host profile's scsi_generic device)."""
    name = ctx.host.raw.get("scsi_generic")
    if not name:
        raise HostFactMissing(ctx.path, dev.sourceline, "which /dev/sg* device a SCSI host device is only the "
                              "host's sysfs says", "scsi_generic")
    return f"/dev/{name}"


def _iscsi_props(ctx: Ctx, cmd: Command, dev: Element, src: Element, node: str) -> P.Props:
    name = src.get("name") or ""
    target, _, lun = name.partition("/")
    host = src.find("host")
    port = host.get("port") if host is not None and host.get("port") else "3260"
    hostname = (host.get("name") if host is not None else None) or ""
    if lun and not lun.isdigit():
        raise InputError(ctx.path, src.sourceline, f"cannot parse target for lunStr '{target}'")
    # A numeric IPv6 address is bracketed in the portal.
    portal = f"[{hostname}]:{port}" if ":" in hostname else f"{hostname}:{port}"
    props: P.Props = {"driver": "iscsi", "portal": portal, "target": target, "lun": int(lun or "0"),
                            "transport": "tcp"}
    auth = src.find("auth")
    if auth is not None:
        from . import secret  # the disk family's secrets (AES under the master key)

        sec = auth.find("secret")
        value = secret.lookup(ctx, "iscsi", sec.get("uuid") if sec is not None else None,
                              sec.get("usage") if sec is not None else None, auth.sourceline)
        alias = secret.alias_for(node)
        P.add_object(ctx, cmd, secret.secret_props(ctx, alias, value))
        props.update({"user": auth.get("username"), "password-secret": alias})
    iqn = src.find("initiator/iqn")
    if iqn is not None:
        props["initiator-name"] = iqn.get("name")
    return props


def scsi(ctx: Ctx, cmd: Command, dev: Element) -> None:
    """The -blockdev of a SCSI host device's backend (host_device on /dev/sgN, or iSCSI), then scsi-generic."""
    node = f"libvirt-{_storage_id(ctx)}-backend"
    src = dev.find("source")
    readonly = dev.find("readonly") is not None
    if src is not None and src.get("protocol") == "iscsi":
        props = _iscsi_props(ctx, cmd, dev, src, node)
    else:
        props = {"driver": "host_device", "filename": scsi_generic_path(ctx, dev)}
    props.update({"node-name": node, "read-only": readonly})
    cmd.add("-blockdev", to_json(props))
    P.add_device(ctx, cmd, {"driver": "scsi-generic", "drive": node, "id": devutil.alias(dev),
                              "bootindex": _boot_index(ctx, dev), **A.props(ctx, dev)})


def hostdevs(ctx: Ctx, cmd: Command) -> None:
    """-device (and for SCSI a -blockdev) for every subsystem host device, hostdev interfaces first."""
    devs = host_devices(ctx)
    for dev in devs:
        stype = _subsys_type(dev)
        if stype == "usb":
            P.add_device(ctx, cmd, usb_props(ctx, dev))
        elif stype == "pci":
            if A.address_type(dev) == "unassigned":
                continue
            P.add_device(ctx, cmd, pci_props(ctx, dev, _effective_boot_index(ctx, dev, devs)), dev)
        elif stype == "scsi":
            scsi(ctx, cmd, dev)
        elif stype == "scsi_host":
            src = dev.find("source")
            if src is not None and src.get("protocol") == "vhost":
                P.add_device(ctx, cmd, vhost_scsi_props(ctx, dev))
        elif stype == "mdev":
            P.add_device(ctx, cmd, mdev_props(ctx, dev))
