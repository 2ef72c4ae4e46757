"""Controllers as libvirt 9.0 builds them: -global for PCI holes, -device per controller, USB hubs."""

from __future__ import annotations

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import InputError
from ..values import parse_size
from . import address as A
from . import devutil
from . import props as P
from .props import Props

Element = etree._Element

# QEMU's device for each USB controller model.
USB_DRIVERS = {
    "piix3-uhci": "piix3-usb-uhci", "piix4-uhci": "piix4-usb-uhci", "ehci": "usb-ehci",
    "ich9-ehci1": "ich9-usb-ehci1", "ich9-uhci1": "ich9-usb-uhci1", "ich9-uhci2": "ich9-usb-uhci2",
    "ich9-uhci3": "ich9-usb-uhci3", "vt82c686b-uhci": "vt82c686b-usb-uhci", "pci-ohci": "pci-ohci",
    "nec-xhci": "nec-usb-xhci", "qusb1": "qusb1", "qusb2": "qusb2", "qemu-xhci": "qemu-xhci",
}
# QEMU's device for the SCSI controller models that are not virtio.
SCSI_DRIVERS = {"lsilogic": "lsi", "ibmvscsi": "spapr-vscsi", "lsisas1068": "mptsas1068", "lsisas1078": "megasas",
                "vmpvscsi": "pvscsi", "am53c974": "am53c974", "dc390": "dc-390"}
VIRTIO_SCSI = ("virtio-scsi", "virtio-transitional", "virtio-non-transitional")
# The order controller types appear in (qemuBuildControllersCommandLine); CCID comes after the hubs.
TYPE_ORDER = ("pci", "usb", "scsi", "ide", "sata", "virtio-serial")


def _int(el: Element | None, attr: str, default: int = -1) -> int:
    return A.num(el, attr, default, 10) if el is not None and el.get(attr) is not None else default


def _put(props: Props, key: str, value: object) -> None:
    """Set a property unless the value is unset (None)."""
    if value is not None:
        props[key] = value


# --------------------------------------------------------------------------- -global


def global_controllers(ctx: Ctx, cmd: Command) -> None:
    """-global i440FX-pcihost / q35-pcihost.pci-hole64-size for a root controller's <pcihole64>."""
    for ctl in A.controllers(ctx):
        hole = ctl.find("pcihole64")
        if ctl.get("type") != "pci" or hole is None:
            continue
        size = parse_size((hole.text or "").strip(), hole.get("unit")) or 0
        host = {"pci-root": "i440FX-pcihost", "pcie-root": "q35-pcihost"}.get(ctl.get("model") or "")
        if host is None:
            raise InputError(ctx.path, ctl.sourceline, "64-bit PCI hole setting is only for root PCI controllers")
        cmd.add("-global", f"{host}.pci-hole64-size={-(-size // 1024)}K")


# --------------------------------------------------------------------------- -device per controller


def skip(ctx: Ctx, ctl: Element) -> bool:
    """Controllers the machine has built in (qemuBuildSkipController)."""
    ctype, model, idx = ctl.get("type"), ctl.get("model"), A.index(ctl)
    if ctype == "pci" and (model == "pcie-root" or (model == "pci-root" and not A.is_pseries(ctx))):
        return True
    if ctype == "sata" and idx == 0 and A.is_q35(ctx):
        return True
    if ctype == "ide" and idx == 0 and A.has_builtin_ide(ctx):
        return True
    builtin_esp = ctx.arch == "sparc" or (ctx.arch in ("mips64", "mips64el") and ctx.machine == "magnum")
    return ctype == "scsi" and idx == 0 and model == "ncr53c90" and builtin_esp


def forbid_legacy_usb(ctx: Ctx) -> bool:
    """Machines that must never get -usb (q35, ARM and RISC-V virt)."""
    return A.is_q35(ctx) or A.is_arm_virt(ctx) or A.is_riscv_virt(ctx)


def _usb_master_alias(ctx: Ctx, ctl: Element) -> str | None:
    for other in A.controllers(ctx):
        if other.get("type") == "usb" and A.index(other) == A.index(ctl) and other.find("master") is None:
            return A.alias_of(other)
    return None


def usb_props(ctx: Ctx, ctl: Element) -> Props:
    """A USB controller's device: model, ports for both speeds, and its master bus for a companion."""
    model = ctl.get("model")
    if model is None:
        raise InputError(ctx.path, ctl.sourceline, "no model provided for USB controller")
    props: Props = {"driver": USB_DRIVERS.get(model, model)}
    ports = _int(ctl, "ports")
    if ports >= 0:
        props["p2"] = ports
        props["p3"] = ports
    master = ctl.find("master")
    if master is not None:
        alias = _usb_master_alias(ctx, ctl)
        if alias is None:
            raise InputError(ctx.path, ctl.sourceline, "masterbus not found")
        props["masterbus"] = f"{alias}.0"
        props["firstport"] = A.num(master, "startport", 0, 10)
    else:
        props["id"] = A.alias_of(ctl)
    return props


def scsi_props(ctx: Ctx, ctl: Element) -> Props:
    """A SCSI controller's device: virtio-scsi with its queue and iothread tuning, or the HBA's driver."""
    model = ctl.get("model")
    alias = A.alias_of(ctl)
    if model in VIRTIO_SCSI:
        props = A.virtio_props(ctx, ctl, "virtio-scsi", model)
        drv = ctl.find("driver")
        iothread = _int(drv, "iothread", 0)
        _put(props, "iothread", f"iothread{iothread}" if iothread > 0 else None)
        props["id"] = alias
        for attr, key in (("queues", "num_queues"), ("cmd_per_lun", "cmd_per_lun"), ("max_sectors", "max_sectors")):
            value = _int(drv, attr, 0)
            if value > 0:
                props[key] = value
        _put(props, "ioeventfd", devutil.onoff(drv, "ioeventfd"))
        return props
    driver = SCSI_DRIVERS.get(model or "")
    if driver is None:
        raise InputError(ctx.path, ctl.sourceline, f"Unsupported controller model: {model}")
    return {"driver": driver, "id": alias}


def pci_props(ctx: Ctx, ctl: Element) -> Props | None:
    """A PCI controller's device (None for the implicit pSeries PHB)."""
    model = ctl.get("model")
    name_el = ctl.find("model")
    name = name_el.get("name") if name_el is not None else None
    target = ctl.find("target")
    alias = A.alias_of(ctl)
    if model == "pci-root" and name == "spapr-pci-host-bridge" and _int(target, "index") == 0:
        return None
    if name is None:
        raise InputError(ctx.path, ctl.sourceline, f"PCI controller model '{model}' has no QEMU device name")
    node = _node(target)
    props: Props = {"driver": name}
    if model == "pci-bridge":
        props.update({"chassis_nr": _int(target, "chassisNr"), "id": alias})
    elif model in ("pci-expander-bus", "pcie-expander-bus"):
        props.update({"bus_nr": _int(target, "busNr"), "id": alias})
        _put(props, "numa_node", node)
    elif model in ("dmi-to-pci-bridge", "pcie-switch-upstream-port", "pcie-to-pci-bridge"):
        props["id"] = alias
    elif model in ("pcie-root-port", "pcie-switch-downstream-port"):
        props.update({"port": A.num(target, "port", -1), "chassis": _int(target, "chassis"), "id": alias})
        _put(props, "hotplug", devutil.onoff(target, "hotplug"))
    elif model == "pci-root":
        props.update({"index": _int(target, "index"), "id": alias})
        _put(props, "numa_node", node)
    else:
        raise InputError(ctx.path, ctl.sourceline, "Unsupported PCI Express root controller")
    return props


def _node(target: Element | None) -> int | None:
    node = target.find("node") if target is not None else None
    if node is None or not (node.text or "").strip().isdigit():
        return None
    return int(node.text.strip())


def controller_props(ctx: Ctx, ctl: Element) -> Props | None:
    """The -device properties of one controller, its address included (qemuBuildControllerDevProps)."""
    ctype = ctl.get("type")
    props: Props | None
    if ctype == "scsi":
        props = scsi_props(ctx, ctl)
    elif ctype == "virtio-serial":
        props = A.virtio_props(ctx, ctl, "virtio-serial", ctl.get("model"))
        props["id"] = A.alias_of(ctl)
        for attr, key in (("ports", "max_ports"), ("vectors", "vectors")):
            value = _int(ctl, attr)
            if value >= 0:
                props[key] = value
    elif ctype == "ccid":
        props = {"driver": "usb-ccid", "id": A.alias_of(ctl)}
    elif ctype == "sata":
        props = {"driver": "ahci", "id": A.alias_of(ctl)}
    elif ctype == "usb":
        props = usb_props(ctx, ctl)
    elif ctype == "pci":
        props = pci_props(ctx, ctl)
    else:
        raise InputError(ctx.path, ctl.sourceline, f"Unsupported controller type: {ctype}")
    if props is None:
        return None
    props.update(A.props(ctx, ctl))
    return props


def _by_type(ctx: Ctx, cmd: Command, ctype: str) -> None:
    for ctl in A.controllers(ctx):
        if ctl.get("type") != ctype:
            continue
        target = ctl.find("target")
        hotplug = devutil.onoff(target, "hotplug")
        if ctype == "pci" and ctl.get("model") == "pci-root" and A.index(ctl) == 0 and hotplug is not None:
            cmd.add("-global", f"PIIX4_PM.acpi-root-pci-hotplug={'on' if hotplug else 'off'}")
        if skip(ctx, ctl):
            continue
        model = ctl.get("model")
        if ctype == "usb" and (model == "none" or (model is None and not forbid_legacy_usb(ctx))):
            continue
        props = controller_props(ctx, ctl)
        if props is not None:
            P.add_device(ctx, cmd, props, ctl)


def _legacy_usb(ctx: Ctx, cmd: Command) -> None:
    """-usb when no USB controller has a model QEMU can create with -device (and the machine allows it)."""
    legacy = usb = 0
    for ctl in A.controllers(ctx):
        if ctl.get("type") != "usb":
            continue
        model = ctl.get("model")
        if model == "none":
            return
        if model is None:
            legacy += 1
        else:
            usb += 1
    if legacy > 1:
        raise InputError(ctx.path, None, "Multiple legacy USB controllers are not supported")
    if usb == 0 and not forbid_legacy_usb(ctx) and ctx.arch not in ("s390", "s390x"):
        cmd.add("-usb")


def controllers(ctx: Ctx, cmd: Command) -> None:
    """-device for PCI, USB, SCSI, IDE, SATA and virtio-serial controllers, in that order; then -usb."""
    for ctype in TYPE_ORDER:
        _by_type(ctx, cmd, ctype)
    _legacy_usb(ctx, cmd)


def hubs(ctx: Ctx, cmd: Command) -> None:
    """-device usb-hub for every hub."""
    for hub in ctx.devices.iterfind("hub"):
        props: Props = {"driver": "usb-hub", "id": A.alias_of(hub)}
        props.update(A.props(ctx, hub))
        P.add_device(ctx, cmd, props, hub)


def ccid_controllers(ctx: Ctx, cmd: Command) -> None:
    """-device usb-ccid: CCID controllers sit on USB, so they come after the hubs."""
    _by_type(ctx, cmd, "ccid")
