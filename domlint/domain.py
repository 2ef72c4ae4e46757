"""Normalising a domain: the defaults libvirt 1.2.8 fills in when it parses one.

Rules and the emitter both see the result, so a rule never has to re-derive
a default (a disk's bus from its target name, say). Elements added here are
appended after their siblings, so the XPath of every source element stays the
same, and they carry the source line of the element that implied them.
"""

from __future__ import annotations

import re

from lxml import etree

from .host import Host
from .parse import Document

# Target-name prefixes and the bus libvirt derives from them.
_BUS_BY_PREFIX = (("hd", "ide"), ("sd", "scsi"), ("vd", "virtio"), ("xvd", "xen"), ("ubd", "uml"))
_DISK_NAME = re.compile(r"^(?:fd|hd|vd|sd|xvd|ubd)([a-z]+)$")
# Units per controller for drive addresses derived from the target index:
# bus -> (units per bus, buses per controller).
_DRIVE_LAYOUT = {"ide": (2, 2), "scsi": (7, 1), "sata": (6, 1), "fdc": (2, 1)}
_I440FX = re.compile(r"^(pc|pc-0\..*|pc-1\..*|pc-i440.*|rhel.*)$")


def disk_index(dev: str) -> int | None:
    """The index libvirt derives from a disk target name ('hdc' is 2, 'sdaa' is 26), or None."""
    m = _DISK_NAME.match(dev)
    if not m:
        return None
    idx = 0
    for ch in m.group(1):
        idx = idx * 26 + (ord(ch) - ord("a") + 1)
    return idx - 1


def is_i440fx(machine: str) -> bool:
    """True for machine types built on the i440FX chipset."""
    return bool(_I440FX.match(machine))


def is_q35(machine: str) -> bool:
    """True for q35 machine types."""
    return machine == "q35" or machine.startswith("pc-q35")


def _sub(parent: etree._Element, tag: str, line: int | None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    el.sourceline = line or parent.sourceline
    return el


def _child(parent: etree._Element, tag: str, line: int | None = None) -> etree._Element:
    found = parent.find(tag)
    return found if found is not None else _sub(parent, tag, line)


def normalise(doc: Document, host: Host) -> Document:
    """Fill in libvirt's parse-time defaults, in place; return doc."""
    root = doc.root
    _os_defaults(root, host)
    devices = _child(root, "devices")
    _disk_defaults(devices)
    _input_defaults(root, devices)
    _numa_defaults(root)
    _net_defaults(root, devices)
    _controller_defaults(root, devices)
    return doc


def _os_defaults(root: etree._Element, host: Host) -> None:
    os_el = _child(root, "os")
    type_el = os_el.find("type")
    if type_el is None:
        type_el = _sub(os_el, "type", os_el.sourceline)
        type_el.text = "hvm"
    arch = type_el.get("arch") or host.default_arch()
    type_el.set("arch", arch)
    emulator = root.findtext("devices/emulator")
    guest = host.guest(arch, emulator, root.get("type"))
    machine = type_el.get("machine")
    if not machine and guest is not None and guest.machines:
        machine = guest.machines[0]
    if machine and guest is not None and (not emulator or guest.emulator == emulator):
        machine = guest.aliases.get(machine, machine)
    if machine:
        type_el.set("machine", machine)


def _disk_defaults(devices: etree._Element) -> None:
    for disk in devices.iterfind("disk"):
        disk.set("type", disk.get("type") or "file")
        device = disk.get("device") or "disk"
        disk.set("device", device)
        target = disk.find("target")
        if target is None:
            continue
        dev = target.get("dev") or ""
        if not target.get("bus"):
            bus = "fdc" if device == "floppy" else next(
                (b for p, b in _BUS_BY_PREFIX if dev.startswith(p)), "ide")
            target.set("bus", bus)
        bus = target.get("bus", "")
        if bus in _DRIVE_LAYOUT and disk.find("address") is None:
            idx = disk_index(dev)
            if idx is not None:
                units, buses = _DRIVE_LAYOUT[bus]
                per_ctrl = units * buses
                _sub(disk, "address", disk.sourceline, type="drive",
                     controller=str(idx // per_ctrl), bus=str((idx % per_ctrl) // units),
                     target="0", unit=str(idx % units))


def _input_defaults(root: etree._Element, devices: etree._Element) -> None:
    os_type = root.findtext("os/type") or "hvm"
    x86 = root.find("os/type").get("arch") in ("i686", "x86_64")
    for inp in devices.iterfind("input"):
        if inp.get("bus"):
            continue
        if os_type != "hvm":
            inp.set("bus", "xen")
        elif x86 and inp.get("type") in ("mouse", "keyboard"):
            inp.set("bus", "ps2")
        else:
            inp.set("bus", "usb")


def _numa_defaults(root: etree._Element) -> None:
    # A cell without an id takes its position, as libvirt stores cells by id.
    for pos, cell in enumerate(root.iterfind("cpu/numa/cell")):
        if cell.get("id") is None:
            cell.set("id", str(pos))


def _net_defaults(root: etree._Element, devices: etree._Element) -> None:
    arch = root.find("os/type").get("arch", "")
    machine = root.find("os/type").get("machine", "")
    if arch in ("s390", "s390x"):
        default = "virtio"
    elif arch in ("armv7l", "aarch64"):
        default = {"versatilepb": "smc91c111", "virt": "virtio"}.get(machine, "lan9118")
    else:
        default = "rtl8139"
    for iface in devices.iterfind("interface"):
        if iface.get("type") != "hostdev" and iface.find("model") is None:
            _sub(iface, "model", iface.sourceline, type=default)


def _has_controller(devices: etree._Element, ctype: str, index: int) -> bool:
    return any(c.get("type") == ctype and c.get("index", "0") == str(index)
               for c in devices.iterfind("controller"))


def _add_controller(devices: etree._Element, ctype: str, index: int, line: int | None,
                    model: str | None = None) -> None:
    if not _has_controller(devices, ctype, index):
        attrs = {"type": ctype, "index": str(index)}
        if model:
            attrs["model"] = model
        _sub(devices, "controller", line, **attrs)


def _controller_defaults(root: etree._Element, devices: etree._Element) -> None:
    for ctrl in devices.iterfind("controller"):
        if ctrl.get("index") is None:
            ctrl.set("index", "0")
    # Controllers the disks' drive addresses need.
    for bus in ("scsi", "fdc", "ide", "sata"):
        highest = -1
        line = None
        for disk in devices.iterfind("disk"):
            addr, target = disk.find("address"), disk.find("target")
            if target is None or target.get("bus") != bus or addr is None or addr.get("type") != "drive":
                continue
            try:
                ctl = int(addr.get("controller", "0"), 0)
            except ValueError:
                continue
            if ctl > highest:
                highest, line = ctl, disk.sourceline
        for i in range(highest + 1):
            _add_controller(devices, bus, i, line)
    # virtio-serial controllers for virtio channels and consoles.
    for chr_el in list(devices.iterfind("channel")) + list(devices.iterfind("console")):
        target = chr_el.find("target")
        if target is None or target.get("type") != "virtio":
            continue
        addr = chr_el.find("address")
        idx = addr.get("controller", "0") if addr is not None and addr.get("type") == "virtio-serial" else "0"
        if idx.isdigit():
            _add_controller(devices, "virtio-serial", int(idx), chr_el.sourceline)
    for card in devices.iterfind("smartcard"):
        _add_controller(devices, "ccid", 0, card.sourceline)
    for hd in devices.iterfind("hostdev"):
        if hd.get("type") == "scsi":
            _add_controller(devices, "scsi", 0, hd.sourceline)
    _machine_controllers(root, devices)


def _machine_controllers(root: etree._Element, devices: etree._Element) -> None:
    type_el = root.find("os/type")
    arch, machine = type_el.get("arch", ""), type_el.get("machine", "")
    line = type_el.sourceline
    add_usb, sata, pci_root, pcie_root = True, False, False, False
    if arch in ("i686", "x86_64"):
        if machine == "isapc":
            add_usb = False
        elif is_q35(machine):
            pcie_root, add_usb, sata = True, False, True
        elif is_i440fx(machine):
            pci_root = True
    elif arch in ("armv7l", "aarch64"):
        add_usb = False
    elif arch in ("ppc64", "alpha", "ppc", "ppcemb", "sh4", "sh4eb"):
        pci_root = True
    if arch in ("s390", "s390x"):
        for ctrl in devices.iterfind("controller"):
            if ctrl.get("type") == "usb" and ctrl.get("model") is None and ctrl.find("address") is None:
                ctrl.set("model", "none")
    if add_usb:
        _add_controller(devices, "usb", 0, line)
    if sata:
        _add_controller(devices, "sata", 0, line)
    if pci_root:
        _add_controller(devices, "pci", 0, line, "pci-root")
    if pcie_root:
        _add_controller(devices, "pci", 0, line, "pcie-root")
        _add_controller(devices, "pci", 1, line, "dmi-to-pci-bridge")
        _add_controller(devices, "pci", 2, line, "pci-bridge")
    if devices.find("memballoon") is None and arch not in ("armv7l", "aarch64"):
        _sub(devices, "memballoon", line, model="virtio")
