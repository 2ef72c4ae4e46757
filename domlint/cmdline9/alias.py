"""Device aliases as libvirt 9.0 names devices (qemuAssignDeviceAliases).

Aliases are written into the domain as <alias name=.../> children; families
read them with `name(el)`. A definition keeps only user aliases ('ua-' and
[A-Za-z0-9_-]); every other device gets libvirt's own name.
"""

from __future__ import annotations

import re

from lxml import etree

from ..cmdline import devices as dev128
from ..cmdline.context import Ctx
from ..domain import disk_index
from . import address

Element = etree._Element

_USER_ALIAS = re.compile(r"ua-[A-Za-z0-9_-]*")


def name(el: Element | None) -> str | None:
    """The alias of a device element, or None."""
    return address.alias_of(el)


def set_name(el: Element, alias: str) -> None:
    """Give a device its alias, replacing any it has."""
    old = el.find("alias")
    if old is not None:
        old.attrib.clear()
        old.set("name", alias)
        return
    etree.SubElement(el, "alias", {"name": alias})


def _give(el: Element, alias: str) -> None:
    """Name a device unless it already has an alias (a user alias)."""
    if name(el) is None:
        set_name(el, alias)


def _index_after(items: list[Element], prefix: str) -> int:
    """One past the highest N among aliases 'prefixN' (qemuDomainDeviceAliasIndex over a list)."""
    best = 0
    for el in items:
        alias = name(el)
        if alias and alias.startswith(prefix):
            rest = alias[len(prefix):]
            # virStrToLong_i: optional sign and digits, nothing after.
            if re.fullmatch(r"[+-]?\d+", rest):
                best = max(best, int(rest) + 1)
    return best


def keep_user_aliases(ctx: Ctx) -> None:
    """Drop every alias a definition may not carry (libvirt parses inactive XML: only 'ua-' aliases)."""
    for el in ctx.devices.iter("alias"):
        parent = el.getparent()
        if parent is None or parent.getparent() is not ctx.devices:
            continue
        if not _USER_ALIAS.fullmatch(el.get("name") or ""):
            parent.remove(el)


# --------------------------------------------------------------------------- per device type


def disk_alias(ctx: Ctx, disk: Element) -> str:
    """A disk's alias: bus + drive numbers (scsi: with target unless lsilogic), else bus-diskN."""
    target = disk.find("target")
    bus = target.get("bus", "") if target is not None else ""
    nums = address.drive_numbers(disk)
    if nums is None:
        idx = disk_index(target.get("dev", "") if target is not None else "")
        return f"{bus}-disk{-1 if idx is None else idx}"
    ctrl, dbus, tgt, unit = nums
    if bus == "scsi":
        ctl = address.controller(ctx, "scsi", ctrl)
        if ctl is None or ctl.get("model") != "lsilogic":
            return f"{bus}{ctrl}-{dbus}-{tgt}-{unit}"
    return f"{bus}{ctrl}-{dbus}-{unit}"


def controller_alias(ctx: Ctx, ctl: Element) -> str:
    """A controller's own alias (qemuAssignDeviceControllerAlias)."""
    ctype, idx = ctl.get("type", ""), address.index(ctl)
    model = ctl.get("model")
    if ctype == "pci":
        if not address.pci_multibus(ctx):
            return "pci"
        return f"pcie.{idx}" if model == "pcie-root" else f"pci.{idx}"
    if ctype == "ide" and idx == 0 and address.has_builtin_ide(ctx):
        return "ide"
    if ctype == "sata" and idx == 0 and address.is_q35(ctx):
        return "ide"
    if ctype == "usb" and idx == 0:
        return "usb"
    if ctype == "scsi" and idx == 0 and model == "ncr53c90":
        return "scsi"
    return f"{ctype}{idx}"


def _net_is_hostdev(net: Element) -> bool:
    return net.get("type") == "hostdev"


def _memory(ctx: Ctx, mems: list[Element]) -> None:
    prefixes = {"dimm": "dimm", "nvdimm": "nvdimm", "virtio-pmem": "virtiopmem", "virtio-mem": "virtiomem",
                "sgx-epc": "epc"}
    for mem in mems:
        prefix = prefixes.get(mem.get("model", ""))
        if prefix is None or name(mem) is not None:
            continue
        if prefix in ("dimm", "nvdimm"):
            addr = mem.find("address")
            slot = address.num(addr, "slot", 0, 10) if addr is not None and addr.get("type") == "dimm" else 0
            set_name(mem, f"{prefix}{slot}")
        else:
            set_name(mem, f"{prefix}{_index_after(mems, prefix)}")


def assign(ctx: Ctx) -> None:
    """Give every device its alias, in libvirt 9.0's order, in place."""
    dev = ctx.devices
    for disk in dev128.disks(ctx):
        _give(disk, disk_alias(ctx, disk))
    nets = list(dev.iterfind("interface"))
    hostdevs = list(dev.iterfind("hostdev"))
    for net in nets:
        if name(net) is not None:
            continue
        if _net_is_hostdev(net):
            set_name(net, f"hostdev{max(_index_after(hostdevs, 'hostdev'), _index_after(nets, 'hostdev'))}")
        else:
            set_name(net, f"net{_index_after(nets, 'net')}")
    fss = list(dev.iterfind("filesystem"))
    for fs in fss:
        _give(fs, f"fs{_index_after(fss, 'fs')}")
    for i, el in enumerate(dev.iterfind("sound")):
        _give(el, f"sound{i}")
    for hd in hostdevs:
        if name(hd) is None:
            set_name(hd, f"hostdev{max(_index_after(hostdevs, 'hostdev'), _index_after(nets, 'hostdev'))}")
    for i, el in enumerate(dev.iterfind("redirdev")):
        _give(el, f"redir{i}")
    for i, el in enumerate(dev128.videos(ctx)):
        _give(el, f"video{i}")
    for ctl in address.controllers(ctx):
        _give(ctl, controller_alias(ctx, ctl))
    for i, el in enumerate(dev.iterfind("input")):
        _give(el, f"input{i}")
    for tag in ("parallel", "serial", "channel", "console"):
        for i, el in enumerate(dev.iterfind(tag)):
            _give(el, f"{tag}{i}")
    for tag, prefix in (("hub", "hub"), ("shmem", "shmem"), ("smartcard", "smartcard")):
        for i, el in enumerate(dev.iterfind(tag)):
            _give(el, f"{prefix}{i}")
    watchdog = dev.find("watchdog")
    if watchdog is not None:
        _give(watchdog, "watchdog0")
    balloon = dev.find("memballoon")
    if balloon is not None and balloon.get("model") != "none":
        _give(balloon, "balloon0")
    rngs = list(dev.iterfind("rng"))
    for rng in rngs:
        _give(rng, f"rng{_index_after(rngs, 'rng')}")
    for i, el in enumerate(dev.iterfind("tpm")):
        _give(el, f"tpm{i}")
    _memory(ctx, list(dev.iterfind("memory")))
    vsock = dev.find("vsock")
    if vsock is not None:
        _give(vsock, "vsock0")
    iommu = dev.find("iommu")
    if iommu is not None:
        _give(iommu, "iommu0")
