"""What libvirt 9.0 settles before it builds the command line: implicit devices, addresses, aliases.

Each step owns one concern; the order is libvirt's: the post-parse defaults
that depend on QEMU's capabilities (normalisation already added the rest),
address assignment (qemuDomainAssignAddresses), then the aliases of
qemuProcessPrepareDomain. Everything is written into the domain, so every
family reads the same <address>, <alias> and controller models.
"""

from __future__ import annotations

from lxml import etree

from ..cmdline.context import Ctx
from . import address as A
from . import alias, buses, pci

Element = etree._Element

# --------------------------------------------------------------------------- adding devices


def _append(ctx: Ctx, el: Element, before: Element | None = None) -> Element:
    """Put a device libvirt adds itself into the domain, after the ones already there (or before one)."""
    if before is not None:
        before.addprevious(el)
    else:
        ctx.devices.append(el)
    ctx.implied.add(el)
    return el


def add_controller(ctx: Ctx, ctype: str, idx: int, model: str | None, before: Element | None = None) -> Element:
    """Add <controller type= index= model=> as libvirt's virDomainDefAddController does (at the end of its list)."""
    attrs = {"type": ctype, "index": str(idx)}
    if model:
        attrs["model"] = model
    return _append(ctx, etree.Element("controller", attrs), before)


def _add_hub(ctx: Ctx) -> Element:
    return _append(ctx, etree.Element("hub", {"type": "usb"}))


def _add_usb(ctx: Ctx, model: str, before: Element | None) -> None:
    """USB controller 0, with the three UHCI companions of an ICH9 EHCI (virDomainDefAddUSBController)."""
    add_controller(ctx, "usb", 0, model, before)
    if model == "ich9-ehci1":
        for comp, port in (("ich9-uhci1", 0), ("ich9-uhci2", 2), ("ich9-uhci3", 4)):
            ctl = add_controller(ctx, "usb", 0, comp, before)
            etree.SubElement(ctl, "master", {"startport": str(port)})


def implicit_devices(ctx: Ctx) -> None:
    """The controllers and inputs libvirt adds for the machine that depend on QEMU's capabilities."""
    if A.is_q35(ctx) and A.controller(ctx, "usb", 0) is None:
        model = next((m for flag, m in (("qemu-xhci", "qemu-xhci"), ("nec-usb-xhci", "nec-xhci"),
                                        ("ich9-usb-ehci1", "ich9-ehci1")) if ctx.has(flag)), None)
        if model:
            # It comes before the SATA controller and PCIe root normalisation added for the machine.
            first = next((c for c in ctx.devices.iterfind("controller") if c in ctx.implied
                          and (c.get("type"), A.index(c)) in (("sata", 0), ("pci", 0))), None)
            _add_usb(ctx, model, first)
    pci_root = A.controller(ctx, "pci", 0)
    if pci_root is None:
        gpex = (A.is_arm_virt(ctx) or A.is_riscv_virt(ctx)) and ctx.has("gpex-pcihost")
        zpci = ctx.arch in ("s390", "s390x") and ctx.has("zpci")
        if gpex:
            add_controller(ctx, "pci", 0, "pcie-root")
        elif zpci:
            add_controller(ctx, "pci", 0, "pci-root")
    _pseries_inputs(ctx)


def _pseries_inputs(ctx: Ctx) -> None:
    """ppc64 guests with graphics get a USB keyboard, and a USB mouse unless they have a USB tablet."""
    if ctx.arch not in ("ppc64", "ppc64le") or ctx.devices.find("graphics") is None:
        return
    inputs = list(ctx.devices.iterfind("input"))
    has = {(i.get("type"), i.get("bus")) for i in inputs}
    for kind in ("keyboard", "mouse"):
        if kind == "mouse" and ("tablet", "usb") in has:
            continue
        if (kind, "usb") not in has:
            after = list(ctx.devices.iterfind("input"))
            el = etree.Element("input", {"type": kind, "bus": "usb"})
            if after:
                after[-1].addnext(el)
                ctx.implied.add(el)
            else:
                _append(ctx, el)


# --------------------------------------------------------------------------- controller models

USB2_COMPANION_PORTS = {"ich9-uhci1": 0, "ich9-uhci2": 2, "ich9-uhci3": 4}


def companion_masters(ctx: Ctx) -> None:
    """An ICH9 UHCI companion written without <master> gets its usual start port (libvirt's parser does this)."""
    for ctl in ctx.devices.iterfind("controller"):
        port = USB2_COMPANION_PORTS.get(ctl.get("model") or "")
        if ctl.get("type") == "usb" and port is not None and ctl.find("master") is None:
            master = etree.Element("master", {"startport": str(port)})
            ctl.insert(0, master)



def usb_default_model(ctx: Ctx, ctl: Element) -> str | None:
    """The USB model libvirt picks for a controller that names none (qemuDomainControllerDefPostParse)."""
    model = "piix3-uhci" if ctx.has("piix3-usb-uhci") else None
    if ctx.arch in ("s390", "s390x"):
        if ctl.find("address") is None:
            model = "none"
    elif ctx.arch in ("ppc64", "ppc64le"):
        abi_update = bool(ctx.setting("parse_abi_update", False))
        if abi_update and ctx.has("qemu-xhci"):
            model = "qemu-xhci"
        elif abi_update and ctx.has("nec-usb-xhci"):
            model = "nec-xhci"
        elif ctx.has("pci-ohci"):
            model = "pci-ohci"
        else:
            model = None
    elif ctx.arch == "aarch64":
        if ctx.has("qemu-xhci"):
            model = "qemu-xhci"
        elif ctx.has("nec-usb-xhci"):
            model = "nec-xhci"
    return model


def scsi_default_model(ctx: Ctx) -> str | None:
    """The SCSI model libvirt picks for a controller that names none (qemuDomainGetSCSIControllerModel)."""
    if A.is_pseries(ctx):
        return "ibmvscsi"
    if ctx.arch in ("s390", "s390x"):
        return "virtio-scsi"
    if ctx.has("lsi"):
        return "lsilogic"
    if ctx.has("virtio-scsi-pci"):
        return "virtio-scsi"
    if ctx.arch == "sparc" or (ctx.arch in ("mips64", "mips64el") and ctx.machine == "magnum"):
        return "ncr53c90"
    return None


def controller_models(ctx: Ctx) -> None:
    """Fill in the USB and SCSI controller models libvirt chooses from QEMU's capabilities."""
    for ctl in A.controllers(ctx):
        if ctl.get("model"):
            continue
        ctype = ctl.get("type")
        model = usb_default_model(ctx, ctl) if ctype == "usb" else \
            scsi_default_model(ctx) if ctype == "scsi" else None
        if model:
            ctl.set("model", model)


# --------------------------------------------------------------------------- steps


def defaults(ctx: Ctx) -> None:
    """The post-parse defaults that need QEMU's capabilities."""
    alias.keep_user_aliases(ctx)
    companion_masters(ctx)
    implicit_devices(ctx)
    controller_models(ctx)


def addresses(ctx: Ctx) -> None:
    """Give every device that needs one an address, in qemuDomainAssignAddresses' order."""
    buses.virtio_serial(ctx, add_controller)
    buses.spapr_vio(ctx)
    buses.s390(ctx)
    buses.virtio_mmio(ctx)
    pci.assign(ctx, add_controller)
    new_domain = not ctx.opts.migrate_from or bool(ctx.setting("parse_abi_update", False))
    buses.usb(ctx, new_domain, _add_hub)
    buses.memory_slots(ctx)


def aliases(ctx: Ctx) -> None:
    """Name every device as libvirt 9.0 does, keeping user aliases ('ua-*')."""
    alias.assign(ctx)


STEPS = (defaults, addresses, aliases)


def prepare(ctx: Ctx) -> None:
    """Run every preparation step in order, in place."""
    for step in STEPS:
        step(ctx)
