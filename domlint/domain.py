"""Normalising a domain: the defaults libvirt 1.2.8 fills in when it parses one.

Rules and the emitter both see the result, so a rule never has to re-derive
a default (a disk's bus from its target name, say). Elements added here are
appended after their siblings, so the XPath of every source element stays the
same, and they carry the source line of the element that implied them.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from . import numbers
from .caps import Caps
from .errors import InputError
from .host import Host
from .machine import is_i440fx, is_q35
from .parse import Document
from .target import Target, resolve
from .values import LazyPattern, is_digits, parse_int, within_limit
from .walk import Walk

# Target-name prefixes and the bus libvirt derives from them.
_BUS_BY_PREFIX = (("hd", "ide"), ("sd", "scsi"), ("vd", "virtio"), ("xvd", "xen"), ("ubd", "uml"))
_DISK_NAME = LazyPattern(r"^(?:fd|hd|vd|sd|xvd|ubd)([a-z]+)$")
# Units per controller for drive addresses derived from the target index:
# bus -> (units per bus, buses per controller).
_DRIVE_LAYOUT = {"ide": (2, 2), "scsi": (7, 1), "sata": (6, 1), "fdc": (2, 1)}


def disk_index(dev: str) -> int | None:
    """The index libvirt derives from a disk target name ('hdc' is 2, 'sdaa' is 26), or None."""
    m = _DISK_NAME.match(dev)
    if not m:
        return None
    idx = 0
    for ch in m.group(1):
        idx = idx * 26 + (ord(ch) - ord("a") + 1)
    return idx - 1


# The walk of the domain being normalised (walk.py): the steps find devices through it, and
# record in it what they add and set, so the engine's facts need no second walk. Set only
# while normalise runs (steps keep their (root, devices, host) signature).
_walk: Walk | None = None
# root.find('os/type') of the domain being normalised, once found (the steps ask for it some
# seven times). Only _os_type makes an os type, and it forgets this when it does.
_found_os_type: etree._Element | None = None


def _sub(parent: etree._Element, tag: str, line: int | None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrs or None)
    el.sourceline = line or parent.sourceline
    if _walk is not None:
        _walk.made(el, parent, tag, attrs)
    return el


def _set(el: etree._Element, name: str, value: str) -> None:
    """Set an attribute, recorded in the walk."""
    # Most defaults are set where the domain wrote them already (a disk's type): a get costs a
    # quarter of a set, and the walk holds every attribute the tree has.
    if el.get(name) == value:
        return
    if _walk is not None:
        _walk.set(el, name, value)
    else:
        el.set(name, value)


def _append(parent: etree._Element, el: etree._Element) -> None:
    """Append an element (with everything under it), recorded in the walk."""
    parent.append(el)
    if _walk is not None:
        _walk.added(el)


def _devices(devices: etree._Element, tag: str) -> list[etree._Element]:
    """The devices of one kind, in document order, from the walk's index (a copy: steps add devices as they go)."""
    walk = _walk
    if walk is not None and devices is walk.devices:
        found = walk.by_tag.get(tag)
        return list(found) if found else []
    return _kids(devices, tag)


def _first(devices: etree._Element, tag: str) -> etree._Element | None:
    """The first device of one kind, from the walk's index."""
    walk = _walk
    if walk is not None and devices is walk.devices:
        found = walk.by_tag.get(tag)
        return found[0] if found else None
    return _kid(devices, tag)


def _kid(el: etree._Element, tag: str) -> etree._Element | None:
    """el.find(tag) for a plain tag: el's first child named tag, or None.

    ElementPath's find costs some 2 us a call, most of a step's time; this loop a quarter of it.
    """
    if not len(el):
        return None
    child = el[0]
    while child is not None:
        if child.tag == tag:
            return child
        child = child.getnext()
    return None


def _kids(el: etree._Element, tag: str) -> list[etree._Element]:
    """el.findall(tag) for a plain tag: el's children named tag, in document order."""
    out = []
    if len(el):
        child = el[0]
        while child is not None:
            if child.tag == tag:
                out.append(child)
            child = child.getnext()
    return out


def _top(root: etree._Element, tag: str) -> list[etree._Element]:
    """The children of the domain root named tag, in document order (from the walk's index while normalising)."""
    if _walk is not None and root is _walk.root:
        return _walk.top.get(tag) or []
    return _kids(root, tag)


def _os_type_el(root: etree._Element) -> etree._Element | None:
    """root.find('os/type'): the first <type> of the first <os> that has one, or None."""
    global _found_os_type
    walked = _walk is not None and root is _walk.root
    if walked and _found_os_type is not None:
        return _found_os_type
    for os_el in _top(root, "os"):
        type_el = _kid(os_el, "type")
        if type_el is not None:
            if walked:
                _found_os_type = type_el
            return type_el
    return None


def _os_type_text(root: etree._Element) -> str | None:
    """root.findtext('os/type'): that element's text ('' for none), or None when there is no such element."""
    type_el = _os_type_el(root)
    return None if type_el is None else type_el.text or ""


def _child(parent: etree._Element, tag: str, line: int | None = None) -> etree._Element:
    found = _kid(parent, tag) if _walk is None or parent is not _walk.root else next(iter(_top(parent, tag)), None)
    return found if found is not None else _sub(parent, tag, line)


class _TooLarge(Exception):
    """A number in the domain would imply more devices than domlint models (values.IMPLIED_LIMIT)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line


def _limited(number: int, line: int | None, what: str) -> int:
    message = within_limit(number, what)
    if message:
        raise _TooLarge(line, message)
    return number


def foreign_hypervisor(doc: Document, target: Target) -> str | None:
    """Why a domain is not judged (it is for a hypervisor other than this target's QEMU driver), or None."""
    kind = doc.root.get("type")
    if kind is None or kind in target.hypervisors:
        return None
    return (f"domain type '{kind}' is not judged: {target.label}'s QEMU driver takes "
            f"{', '.join(repr(h) for h in target.hypervisors)}")


def domain_arch(doc: Document) -> str | None:
    """The guest architecture of a (normalised) domain."""
    type_el = _os_type_el(doc.root)
    return type_el.get("arch") if type_el is not None else None


def guest_arch(doc: Document, host: Host) -> str:
    """The arch a domain runs as before normalisation: its own, else the host's default (what picks its capabilities)."""
    type_el = _os_type_el(doc.root)
    arch = type_el.get("arch") if type_el is not None else None
    return arch or host.default_arch()


def normalise(doc: Document, host: Host, target: Target | str | None = None, caps: Caps | None = None) -> Document:
    """Fill in the target libvirt's parse-time defaults, in place; return doc (InputError for a domain too large to model).

    caps, the capabilities the domain is judged under, supply what the target
    takes from the QEMU binary (its machine types and their aliases).
    """
    global _walk, _found_os_type
    t = resolve(target)
    # One pass over the tree: what number reading, the steps and the engine's select index read.
    walk = doc.walk = Walk(doc.root)
    # libvirt refuses a domain whose numbers it cannot read before it fills in any default.
    if t.raw.get("numbers"):
        numbers.check(doc.root, doc.path, walk=walk)
    _walk, _found_os_type = walk, None
    try:
        return _normalise(doc, host, t, caps)
    except _TooLarge as exc:
        raise InputError(doc.path, exc.line, str(exc)) from None
    finally:
        _walk = _found_os_type = None


def _normalise(doc: Document, host: Host, target: Target, caps: Caps | None) -> Document:
    root = doc.root
    devices = _child(root, "devices")
    written = len(devices)
    for step in target.normalise:
        if step in CAPS_STEPS:
            CAPS_STEPS[step](root, devices, host, caps)
        else:
            STEPS[step](root, devices, host)
    # The emitter needs to know which devices libvirt would have added itself:
    # its lists keep those after the written ones, in the order they are added.
    # The steps only append to <devices> (never insert or remove there): those are its last children.
    doc.implied.extend(devices[written:])
    return doc


def _os_type(root: etree._Element, host: Host) -> tuple[etree._Element, str]:
    """The domain's <os><type> (an hvm one made when missing) with its arch filled in, and that arch."""
    os_el = _child(root, "os")
    type_el = _kid(os_el, "type")
    if type_el is None:
        global _found_os_type
        _found_os_type = None  # a new first os type (in the first <os>, before any other's)
        type_el = _sub(os_el, "type", os_el.sourceline)
        type_el.text = "hvm"
    arch = type_el.get("arch") or host.default_arch()
    _set(type_el, "arch", arch)
    return type_el, arch


def _emulator(root: etree._Element) -> str | None:
    """root.findtext('devices/emulator')."""
    for devices in _top(root, "devices"):
        found = _kid(devices, "emulator")
        if found is not None:
            return found.text or ""
    return None


# host.guest's answers, and the binaries, by (host, arch, emulator, domain type): the same few for every domain.
_GUESTS: dict[tuple[int, str, str | None, str | None], tuple[Any, ...]] = {}


def _guests(host: Host, arch: str, emulator: str | None, domain_type: str | None) -> tuple[Any, Any]:
    """The host's guest entry for a domain, and the emulator binary whose machine aliases it takes."""
    key = (id(host), arch, emulator, domain_type)
    entry = _GUESTS.get(key)
    if entry is None or entry[0] is not host:
        guest = host.guest(arch, emulator, domain_type)
        # Aliases belong to the emulator binary, whatever the domain type: a kvm domain run by the
        # binary that knows 'pc' as an alias gets the machine that alias names.
        binary = next((g for g in host.guests if g.arch == arch and g.emulator == emulator), None) if emulator \
            else guest
        if len(_GUESTS) > 256:
            _GUESTS.clear()
        entry = _GUESTS[key] = (host, guest, binary)
    return entry[1], entry[2]


def _os_defaults(root: etree._Element, host: Host) -> None:
    type_el, arch = _os_type(root, host)
    emulator = _emulator(root)
    guest, binary = _guests(host, arch, emulator, root.get("type"))
    machine = type_el.get("machine")
    if not machine and guest is not None and guest.machines:
        machine = guest.machines[0]
    if machine and binary is not None:
        machine = binary.aliases.get(machine, machine)
    if machine:
        _set(type_el, "machine", machine)


# A binary's machines for one accelerator, looked up by name and by alias (a binary lists some 120:
# filtering and searching them cost more than the rest of the step). Keyed by the machines tuple's id,
# which each entry holds so the id stays its own.
_MACHINE_INDEX: dict[tuple[int, str], tuple[Any, ...]] = {}


def _machine_index(machines: tuple[dict[str, Any], ...], accel: str) -> tuple[Any, ...]:
    """(machines, the default one or None, the first of each name, the first of each alias) for accel."""
    entry = _MACHINE_INDEX.get((id(machines), accel))
    if entry is not None and entry[0] is machines:
        return entry[1:]
    # The binary lists machines per accelerator: KVM's for accelerated domains, TCG's for plain qemu.
    chosen = tuple(m for m in machines if m.get("type", accel) == accel) or machines
    default = next((m for m in chosen if m.get("default") == "yes"), chosen[0]) if chosen else None
    by_name: dict[Any, dict[str, Any]] = {}
    by_alias: dict[Any, dict[str, Any]] = {}
    for m in chosen:
        by_name.setdefault(m.get("name"), m)
        by_alias.setdefault(m.get("alias"), m)
    if len(_MACHINE_INDEX) > 64:
        _MACHINE_INDEX.clear()
    _MACHINE_INDEX[(id(machines), accel)] = (machines, chosen, default, by_name, by_alias)
    return chosen, default, by_name, by_alias


def _machine_from_caps(root: etree._Element, host: Host, caps: Caps | None) -> None:
    """Current libvirt's machine defaults: the binary's preferred machine type, and its aliases resolved."""
    type_el = _os_type_el(root)
    arch = (type_el.get("arch") if type_el is not None else None) or host.default_arch()
    machines = caps.machines if caps is not None and caps.arch in (None, arch) else ()
    accel = "tcg" if root.get("type") in (None, "qemu") else "kvm"
    machines, default, by_name, by_alias = _machine_index(machines, accel)
    if not machines:
        _os_defaults(root, host)  # the binary says nothing: the host's guest list decides
        return
    type_el, arch = _os_type(root, host)
    machine = type_el.get("machine")
    chosen = (by_name.get(machine) or by_alias.get(machine) or {"name": machine}) if machine else default
    _set(type_el, "machine", str(chosen["name"]))


def _disk_defaults(devices: etree._Element) -> None:
    for disk in _devices(devices, "disk"):
        _set(disk, "type", disk.get("type") or "file")
        device = disk.get("device") or "disk"
        _set(disk, "device", device)
        target = _kid(disk, "target")
        if target is None:
            continue
        dev = target.get("dev") or ""
        if not target.get("bus"):
            bus = "fdc" if device == "floppy" else next(
                (b for p, b in _BUS_BY_PREFIX if dev.startswith(p)), "ide")
            _set(target, "bus", bus)
        bus = target.get("bus", "")
        if bus in _DRIVE_LAYOUT and _kid(disk, "address") is None:
            idx = disk_index(dev)
            if idx is not None:
                units, buses = _DRIVE_LAYOUT[bus]
                per_ctrl = units * buses
                _sub(disk, "address", disk.sourceline, type="drive",
                     controller=str(idx // per_ctrl), bus=str((idx % per_ctrl) // units),
                     target="0", unit=str(idx % units))


def _input_defaults(root: etree._Element, devices: etree._Element) -> None:
    type_el = _os_type_el(root)
    os_type = type_el.text or "hvm"
    x86 = type_el.get("arch") in ("i686", "x86_64")
    for inp in _devices(devices, "input"):
        if inp.get("bus"):
            continue
        if os_type != "hvm":
            _set(inp, "bus", "xen")
        elif x86 and inp.get("type") in ("mouse", "keyboard"):
            _set(inp, "bus", "ps2")
        else:
            _set(inp, "bus", "usb")


def _input_defaults_9(root: etree._Element, devices: etree._Element) -> None:
    """libvirt 9.0's default input bus: ps2 for an x86 mouse or keyboard, virtio on s390 and for
    passthrough, none for evdev, else usb (xen for xen guests)."""
    type_el = _os_type_el(root)
    os_type = type_el.text or "hvm"
    arch = type_el.get("arch")
    for inp in _devices(devices, "input"):
        if inp.get("bus"):
            continue
        kind = inp.get("type")
        if os_type in ("xen", "xenpvh"):
            _set(inp, "bus", "xen")
        elif os_type != "hvm":
            continue
        elif kind in ("mouse", "keyboard") and arch in ("i686", "x86_64"):
            _set(inp, "bus", "ps2")
        elif arch in ("s390", "s390x") or kind == "passthrough":
            _set(inp, "bus", "virtio")
        elif kind == "evdev":
            _set(inp, "bus", "none")
        else:
            _set(inp, "bus", "usb")


def _numa_defaults(root: etree._Element) -> None:
    # A cell without an id takes its position, as libvirt stores cells by id.
    cells = [cell for cpu in _top(root, "cpu") for numa in _kids(cpu, "numa") for cell in _kids(numa, "cell")]
    for pos, cell in enumerate(cells):
        if cell.get("id") is None:
            _set(cell, "id", str(pos))


def _net_defaults(root: etree._Element, devices: etree._Element) -> None:
    type_el = _os_type_el(root)
    arch = type_el.get("arch", "")
    machine = type_el.get("machine", "")
    if arch in ("s390", "s390x"):
        default = "virtio"
    elif arch in ("armv7l", "aarch64"):
        default = {"versatilepb": "smc91c111", "virt": "virtio"}.get(machine, "lan9118")
    else:
        default = "rtl8139"
    for iface in _devices(devices, "interface"):
        if iface.get("type") != "hostdev" and _kid(iface, "model") is None:
            _sub(iface, "model", iface.sourceline, type=default)


def _net_defaults_9(root: etree._Element, devices: etree._Element, caps: Caps | None) -> None:
    """libvirt 9.0's default NIC model: by arch and machine, else the first of rtl8139, e1000 and
    virtio the binary offers (rtl8139 when it offers none, or when no capabilities are known)."""
    type_el = _os_type_el(root)
    arch = type_el.get("arch", "")
    machine = type_el.get("machine", "")
    virt = machine == "virt" or machine.startswith("virt-")
    if arch in ("s390", "s390x"):
        default = "virtio"
    elif arch in ("armv6l", "armv7l", "aarch64"):
        default = "smc91c111" if machine == "versatilepb" else "virtio" if virt else "lan9118"
    elif arch in ("riscv32", "riscv64") and virt:
        default = "virtio"
    else:
        offered = caps if caps is not None else frozenset()
        default = next((m for m, cap in (("rtl8139", "rtl8139"), ("e1000", "e1000"), ("virtio", "virtio-net"))
                        if cap in offered), "rtl8139")
    for iface in _devices(devices, "interface"):
        if _kid(iface, "model") is None and iface.get("type") != "hostdev":
            _sub(iface, "model", iface.sourceline, type="virtio" if iface.get("type") == "vdpa" else default)


def _console_defaults(root: etree._Element, devices: etree._Element) -> None:
    """Console target types, and the serial port an HVM guest's first serial console stands for."""
    type_el = _os_type_el(root)
    arch = type_el.get("arch", "")
    consoles = list(_devices(devices, "console"))
    for cons in consoles:
        target = _child(cons, "target", cons.sourceline)
        if not target.get("type"):
            _set(target, "type", "virtio" if arch in ("s390", "s390x") else "serial")
    if not consoles or (type_el.text or "hvm").strip() != "hvm":
        return
    first = consoles[0]
    if _kid(first, "target").get("type") != "serial" or _first(devices, "serial") is not None:
        return
    # Libvirt moves such a console into the serial list, leaving an alias behind.
    serial = _sub(devices, "serial", first.sourceline)
    if first.get("type"):
        _set(serial, "type", first.get("type"))
    for child in first:
        if child.tag in ("source", "protocol"):
            import copy  # only for a console that stands for a serial port

            _append(serial, copy.deepcopy(child))
    _sub(serial, "target", first.sourceline, port="0")
    addr = _kid(first, "address")
    if addr is not None:
        serial.append(addr)


# The video RAM (KiB) libvirt assumes for a video model that gives none.
VIDEO_VRAM_KIB = {"vga": 9216, "cirrus": 9216, "vmvga": 9216, "xen": 4096, "qxl": 65536}


def default_video_model(root: etree._Element) -> str:
    """The model libvirt gives a video device that names none."""
    os_type = (_os_type_text(root) or "hvm").strip()
    if os_type in ("xen", "linux"):
        return "xen"
    type_el = _os_type_el(root)
    if type_el is not None and type_el.get("arch") == "ppc64":
        return "vga"
    return "cirrus"


def _video_defaults(root: etree._Element, devices: etree._Element) -> None:
    # Graphics without any <video> imply one video card of the default type.
    if _first(devices, "graphics") is None or _first(devices, "video") is not None:
        return
    vtype = default_video_model(root)
    video = _sub(devices, "video", _first(devices, "graphics").sourceline)
    _sub(video, "model", video.sourceline, type=vtype, vram=str(VIDEO_VRAM_KIB[vtype]), heads="1")


def default_video_model_9(root: etree._Element) -> str | None:
    """The model libvirt 9.0's QEMU driver gives a video device that names none, where the binary does not decide it.

    ppc64 gets vga; ARM and RISC-V virt machines and s390 get virtio. Elsewhere it is
    cirrus when the QEMU binary has cirrus-vga, else VGA when it has that, else none
    at all (the definition is refused): None, for rules to judge with the capabilities.
    """
    type_el = _os_type_el(root)
    arch = (type_el.get("arch") or "") if type_el is not None else ""
    machine = (type_el.get("machine") or "") if type_el is not None else ""
    if arch in ("ppc64", "ppc64le"):
        return "vga"
    virt = machine == "virt" or machine.startswith("virt-")
    if (virt and arch in ("armv6l", "armv7l", "aarch64", "riscv32", "riscv64")) or arch in ("s390", "s390x"):
        return "virtio"
    return None


def _video_defaults_9(root: etree._Element, devices: etree._Element) -> None:
    # libvirt 9.0: graphics without any <video> imply one video device of the default model.
    graphics = _first(devices, "graphics")
    if graphics is None or _first(devices, "video") is not None:
        return
    vtype = default_video_model_9(root)
    video = _sub(devices, "video", graphics.sourceline)
    if vtype:
        _sub(video, "model", video.sourceline, type=vtype, heads="1")


class _Controllers:
    """The controllers of one domain by (type, index as written), kept as implied ones are added."""

    def __init__(self, devices: etree._Element) -> None:
        self.devices = devices
        self.have = {(c.get("type"), c.get("index", "0")) for c in _devices(devices, "controller")}

    def add(self, ctype: str, index: int, line: int | None, model: str | None = None) -> None:
        """Add controller ctype/index unless the domain has it."""
        if (ctype, str(index)) not in self.have:
            attrs = {"type": ctype, "index": str(index)}
            if model:
                attrs["model"] = model
            _sub(self.devices, "controller", line, **attrs)
            self.have.add((ctype, str(index)))

    def add_upto(self, ctype: str, highest: int, line: int | None) -> None:
        """Controllers of one type with every index from 0 to highest."""
        for i in range(highest + 1):
            self.add(ctype, i, line)


def _controller_defaults(root: etree._Element, devices: etree._Element, machine_controllers: Any = None) -> None:
    for ctrl in _devices(devices, "controller"):
        if ctrl.get("index") is None:
            _set(ctrl, "index", "0")
    # Implied controllers are added in libvirt's order (the emitter relies on it):
    # SCSI controllers for SCSI host devices while parsing, then the machine's own,
    # then those for disks, virtio-serial ports and smartcards. libvirt passes over
    # SCSI host devices once more at the end, but their controllers all exist by then.
    have = _Controllers(devices)
    _hostdev_scsi_controllers(devices, have)
    (machine_controllers or _machine_controllers)(root, devices, have)
    # Controllers the disks' drive addresses need.
    highest: dict[str, tuple[int, int | None]] = {}
    for disk in _devices(devices, "disk"):
        target = _kid(disk, "target")
        bus = target.get("bus") if target is not None else None
        if bus not in ("scsi", "fdc", "ide", "sata"):
            continue
        nums = _drive_numbers(disk)
        if nums is not None and nums[0] > highest.get(bus, (-1, None))[0]:
            highest[bus] = (nums[0], disk.sourceline)
    for bus in ("scsi", "fdc", "ide", "sata"):
        top, line = highest.get(bus, (-1, None))
        if top >= 0:  # (none to add below 0)
            have.add_upto(bus, _limited(top, line, f"{bus} drive address controller"), line)
    # virtio-serial controllers for virtio channels and consoles.
    for chr_el in list(_devices(devices, "channel")) + list(_devices(devices, "console")):
        target = _kid(chr_el, "target")
        if target is None or target.get("type") != "virtio":
            continue
        addr = _kid(chr_el, "address")
        idx = addr.get("controller", "0") if addr is not None and addr.get("type") == "virtio-serial" else "0"
        if is_digits(idx):
            have.add("virtio-serial", int(idx), chr_el.sourceline)
    for card in _devices(devices, "smartcard"):
        have.add("ccid", 0, card.sourceline)


def _drive_numbers(el: etree._Element) -> tuple[int, int, int, int] | None:
    addr = _kid(el, "address")
    if addr is None or addr.get("type") != "drive":
        return None
    # libvirt reads drive address numbers in decimal.
    nums = []
    for k in ("controller", "bus", "target", "unit"):
        n = parse_int(addr.get(k, "0"), 10)
        if n is None or n < 0:
            return None
        nums.append(n)
    return tuple(nums)  # type: ignore[return-value]


def _hostdev_scsi_addresses(devices: etree._Element) -> None:
    """A SCSI host device without an address takes the first free unit of a SCSI controller."""
    if not any(hd.get("type") == "scsi" for hd in _devices(devices, "hostdev")):
        return
    # Units on bus 0, target 0 already taken per controller, by SCSI disks and earlier host devices.
    taken: set[tuple[int, int]] = set()
    for disk in _devices(devices, "disk"):
        target = _kid(disk, "target")
        nums = _drive_numbers(disk)
        if target is not None and target.get("bus") == "scsi" and nums and nums[1:3] == (0, 0):
            taken.add((nums[0], nums[3]))
    written = sorted({int(c.get("index", "0")) for c in _devices(devices, "controller")
                      if c.get("type") == "scsi" and is_digits(c.get("index", "0"))})
    implied: list[int] = []
    for hd in _devices(devices, "hostdev"):
        if hd.get("type") != "scsi":
            continue
        nums = _drive_numbers(hd)
        if nums is None and _kid(hd, "address") is None:
            scsi = written + implied
            # A narrow bus has units 0-6 (7 is the controller's own); with every
            # controller full, the device names one past the last.
            controller, unit = len(scsi), 0
            for idx in scsi:
                free = [u for u in range(7) if (idx, u) not in taken]
                if free:
                    controller, unit = idx, free[0]
                    break
            _sub(hd, "address", hd.sourceline, type="drive", controller=str(controller),
                 bus="0", target="0", unit=str(unit))
            nums = (controller, 0, 0, unit)
        if nums is None:
            continue
        if nums[1:3] == (0, 0):
            taken.add((nums[0], nums[3]))
        # Each host device implies SCSI controllers up to the one it names.
        known = set(written) | set(implied)
        for idx in range(_limited(nums[0], hd.sourceline, "SCSI host device controller") + 1):
            if idx not in known:
                implied.append(idx)
                known.add(idx)


def _hostdev_scsi_controllers(devices: etree._Element, have: _Controllers) -> None:
    # SCSI controllers 0..N for the highest controller a SCSI host device names.
    highest, line = -1, None
    for hd in _devices(devices, "hostdev"):
        if hd.get("type") != "scsi":
            continue
        addr = _kid(hd, "address")
        nums = _drive_numbers(hd) if addr is not None and addr.get("type") == "drive" else (0, 0, 0, 0)
        if nums is None:
            continue
        num = nums[0]
        if num > highest:
            highest, line = num, hd.sourceline
    if highest >= 0:
        have.add_upto("scsi", _limited(highest, line, "SCSI host device controller"), line)


def _machine_controllers(root: etree._Element, devices: etree._Element, have: _Controllers) -> None:
    type_el = _os_type_el(root)
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
    roots = [(0, "pci-root")] * pci_root + [(0, "pcie-root"), (1, "dmi-to-pci-bridge"), (2, "pci-bridge")] * pcie_root
    _add_implied(devices, have, arch, line, add_usb, sata, roots, arch not in ("armv7l", "aarch64"))


def _add_implied(devices: etree._Element, have: _Controllers, arch: str, line: int | None, usb: bool, sata: bool,
                 pci: list[tuple[int, str]], balloon: bool) -> None:
    """Add the controllers a machine implies (USB 0, SATA 0, its PCI root and bridges) and the default balloon."""
    if usb:
        have.add("usb", 0, line)
    if sata:
        have.add("sata", 0, line)
    for index, model in pci:
        have.add("pci", index, line, model)
    # s390 has no USB unless an address asks for it (the implied usb0 included).
    if arch in ("s390", "s390x"):
        for ctrl in _devices(devices, "controller"):
            if ctrl.get("type") == "usb" and ctrl.get("model") is None and _kid(ctrl, "address") is None:
                _set(ctrl, "model", "none")
    if balloon and _first(devices, "memballoon") is None:
        _sub(devices, "memballoon", line, model="virtio")


# libvirt 9.0: USB2 controllers that form one group (an EHCI master and its UHCI companions).
_USB2_MODELS = frozenset({"ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3"})


def _controller_indexes_9(devices: etree._Element) -> None:
    """libvirt 9.0's index for a controller written without one (virDomainAssignControllerIndexes).

    The lowest index no controller of that type uses yet; a USB2 companion right
    after another USB2 controller joins that controller's index, unless a
    controller of its own model already has it. Runs before libvirt adds any
    implied controller.
    """
    ctrls = list(_devices(devices, "controller"))

    def used(ctype: str | None) -> set[int]:
        out = set()
        for c in ctrls:
            n = parse_int(c.get("index", ""), 10) if c.get("type") == ctype else None
            if n is not None:
                out.add(n)
        return out

    for pos, cont in enumerate(ctrls):
        if cont.get("index") is not None:
            continue
        ctype = cont.get("type")
        index: int | None = None
        if ctype == "usb" and cont.get("model") in _USB2_MODELS:
            prev = next((c for c in reversed(ctrls[:pos]) if c.get("type") == "usb"), None)
            if prev is not None and prev.get("model") in _USB2_MODELS:
                index = parse_int(prev.get("index", ""), 10)
                if index is not None and any(
                        c.get("type") == "usb" and c.get("model") == cont.get("model")
                        and parse_int(c.get("index", ""), 10) == index for c in ctrls):
                    index = None
        if index is None:
            taken = used(ctype)
            index = next(i for i in range(len(taken) + 1) if i not in taken)
        _set(cont, "index", str(index))


def _machine_controllers_9(root: etree._Element, devices: etree._Element, have: _Controllers) -> None:
    """The controllers (and memballoon) libvirt 9.0 adds for the machine, as far as they do not depend on QEMU's capabilities.

    Left out because they do: q35's USB controller (qemu-xhci, nec-xhci or
    ich9-ehci1, whichever QEMU has, or none), the pcie-root of ARM and RISC-V
    virt machines (with gpex-pcihost) and the pci-root of s390 (with zpci).
    """
    type_el = _os_type_el(root)
    arch, machine = type_el.get("arch", ""), type_el.get("machine", "")
    line = type_el.sourceline
    add_usb, sata, pci_root, pcie_root, balloon = True, False, False, False, True
    if arch in ("i686", "x86_64"):
        if machine == "isapc":
            add_usb = False
        elif machine == "q35" or machine.startswith("pc-q35-"):
            pcie_root, add_usb, sata = True, False, True
        elif is_i440fx(machine):
            pci_root = True
    elif arch == "armv6l":
        add_usb, balloon = False, False
        pci_root = machine == "versatilepb"
    elif arch in ("armv7l", "aarch64"):
        add_usb, balloon = False, False
    elif arch in ("ppc64", "ppc64le", "alpha", "ppc", "ppcemb", "sh4", "sh4eb", "sparc64"):
        pci_root = True
    elif arch in ("riscv32", "riscv64", "s390", "s390x"):
        add_usb = False
    elif arch == "sparc":
        add_usb, balloon = False, False
    elif arch in ("mips", "mipsel", "mips64", "mips64el"):
        pci_root = machine == "malta"
    _add_implied(devices, have, arch, line, add_usb, sata, [(0, "pci-root")] * pci_root + [(0, "pcie-root")] * pcie_root,
                 balloon)


def _controller_defaults_9(root: etree._Element, devices: etree._Element) -> None:
    _controller_indexes_9(devices)
    _controller_defaults(root, devices, _machine_controllers_9)


def _tpm_version_default(root: etree._Element, devices: etree._Element) -> None:
    """Current libvirt's default version of an emulated TPM: 2.0 for CRB, sPAPR and ARM virt, else 1.2."""
    type_el = _os_type_el(root)
    arm_virt = type_el is not None and type_el.get("arch") in ("armv7l", "aarch64") and \
        (type_el.get("machine") or "").startswith("virt")
    for backend in [b for tpm in _devices(devices, "tpm") for b in _kids(tpm, "backend") if b.get("type") == "emulator"]:
        if not backend.get("version"):
            model = backend.getparent().get("model")
            _set(backend, "version", "2.0" if arm_virt or model in ("tpm-crb", "tpm-spapr") else "1.2")


def _channel_paths(root: etree._Element, devices: etree._Element, host: Host) -> None:
    """libvirt 1.2.8 makes up the socket path of a virtio channel that names none, under its lib dir."""
    lib_dir = (host.raw.get("driver") or {}).get("lib_dir") or "/var/lib/libvirt/qemu"
    name_el = next(iter(_top(root, "name")), None)
    name = None if name_el is None else name_el.text or ""
    for chan in _devices(devices, "channel"):
        if chan.get("type") != "unix":
            continue
        target = _kid(chan, "target")
        if target is None or target.get("type") != "virtio":
            continue
        source = _kid(chan, "source")
        if source is None:
            source = _sub(chan, "source", chan.sourceline)
        if not source.get("path"):
            # printf's NULL spelling where the domain or the channel has no name.
            _set(source, "path", f"{lib_dir}/channel/target/{name if name is not None else '(null)'}."
                               f"{target.get('name') or '(null)'}")
            _set(source, "mode", "bind")


# The normalisation steps a target's target.json may name, in the order it lists them;
# each takes the domain root, its <devices> and the host.
# Attributes domlint itself adds to a normalised domain live in its own namespace.
DL_NS = "https://domlint.invalid/xpath"


# Compiled once: compiling an XPath costs more than evaluating it.
_OS_TYPE_TEXT = etree.XPath("string(os/type[1])", regexp=False)


def _os_type_implied(root: etree._Element) -> None:
    """Mark a domain that names no OS type (libvirt 9.0 reads os/type[1] and refuses an empty one).

    Later steps fill in <os><type>hvm</type></os>; the marker dl:os-type='implied' on <domain> keeps
    what the domain itself said for rules to see.
    """
    # os/type[1] is root.find('os/type'); its string value is its text unless it holds other nodes.
    type_el = _os_type_el(root)
    text = "" if type_el is None else _OS_TYPE_TEXT(root) if len(type_el) else type_el.text
    if not text:
        _set(root, f"{{{DL_NS}}}os-type", "implied")


def _arch_implied(root: etree._Element) -> None:
    """Mark a domain that writes no guest arch (libvirt 1.2.8 then asks the host for a default one).

    The os step fills <type arch=...> from the host; the marker dl:arch='implied' on <domain> keeps
    that the domain itself wrote none (libvirt reads os/type[1]/@arch and takes an empty one as none).
    """
    # string(os/type[1]/@arch): the arch of the first <os>'s first <type> that has one.
    arch = None
    for os_el in _top(root, "os"):
        type_el = _kid(os_el, "type")
        if type_el is not None:
            arch = type_el.get("arch")
            if arch is not None:
                break
    if not arch:
        _set(root, f"{{{DL_NS}}}arch", "implied")


def _disk_target_128(devices: etree._Element) -> None:
    """The <target> libvirt 1.2.8 reads: the first one with a dev (earlier ones without are passed over).

    Its parser takes target attributes from each <target> until one has dev=; the
    bus, tray and removable of that one stand. Dropping the dev-less ones before it
    lets the steps, rules and emitter read target[1] as libvirt does.
    """
    for disk in _devices(devices, "disk"):
        targets = _kids(disk, "target")
        if len(targets) < 2 or targets[0].get("dev") is not None:
            continue
        for target in targets:
            if target.get("dev") is not None:
                break
            disk.remove(target)


STEPS = {
    "os": lambda root, devices, host: _os_defaults(root, host),
    # libvirt 1.2.8: the first <target> with a dev is the disk's target.
    "disk-target-128": lambda root, devices, host: _disk_target_128(devices),
    "disk": lambda root, devices, host: _disk_defaults(devices),
    "input": lambda root, devices, host: _input_defaults(root, devices),
    "input-9.0": lambda root, devices, host: _input_defaults_9(root, devices),
    "numa": lambda root, devices, host: _numa_defaults(root),
    "net": lambda root, devices, host: _net_defaults(root, devices),
    "console": lambda root, devices, host: _console_defaults(root, devices),
    "video": lambda root, devices, host: _video_defaults(root, devices),
    "video-9.0": lambda root, devices, host: _video_defaults_9(root, devices),
    "hostdev-scsi": lambda root, devices, host: _hostdev_scsi_addresses(devices),
    "controller": lambda root, devices, host: _controller_defaults(root, devices),
    "tpm-version": lambda root, devices, host: _tpm_version_default(root, devices),
    "channel-path": lambda root, devices, host: _channel_paths(root, devices, host),
    # libvirt 9.0: indexes for controllers written without one, and 9.0's implied controllers.
    "controller-9.0": lambda root, devices, host: _controller_defaults_9(root, devices),
    "os-type-implied": lambda root, devices, host: _os_type_implied(root),
    # libvirt 1.2.8: whether the domain wrote its arch (before the os step fills it in).
    "arch-implied": lambda root, devices, host: _arch_implied(root),
}

# Steps that also read the capabilities the domain is judged under.
CAPS_STEPS = {
    "machine": lambda root, devices, host, caps: _machine_from_caps(root, host, caps),
    "net-9.0": lambda root, devices, host, caps: _net_defaults_9(root, devices, caps),
}
