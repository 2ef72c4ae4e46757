"""Device addresses as libvirt 9.0 reads and prints them, and the -device properties they give.

Addresses are written into the normalised domain as <address> elements (the
`prepare` step assigns the missing ones), aliases as <alias name=.../>; every
family reads them back through `props`, which turns a device's address into
the properties libvirt 9.0 adds to its -device (bus/addr for PCI, bus/port
for USB, devno for ccw, reg for spapr-vio, iobase/irq for ISA...).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..cmdline.address import PCIAddr, pci_attrs
from ..cmdline.context import Ctx
from ..cmdline.devices import hostdevs, videos
from ..errors import InputError
from ..values import parse_int

Element = etree._Element
Props = dict[str, Any]

# --------------------------------------------------------------------------- machines


def is_x86(ctx: Ctx) -> bool:
    """An i686 or x86_64 guest."""
    return ctx.arch in ("i686", "x86_64")


def is_q35(ctx: Ctx) -> bool:
    """A Q35 machine (q35, pc-q35-*)."""
    m = ctx.machine
    return is_x86(ctx) and (m == "q35" or m.startswith("pc-q35-"))


def is_i440fx(ctx: Ctx) -> bool:
    """An i440FX machine (pc, pc-0.*, pc-1.*, pc-i440fx-*, rhel*)."""
    m = ctx.machine
    return is_x86(ctx) and (m == "pc" or m.startswith(("pc-0.", "pc-1.", "pc-i440fx-", "rhel")))


def is_arm_virt(ctx: Ctx) -> bool:
    """An ARM 'virt' machine."""
    m = ctx.machine
    return ctx.arch in ("armv6l", "armv7l", "aarch64") and (m == "virt" or m.startswith("virt-"))


def is_riscv_virt(ctx: Ctx) -> bool:
    """A RISC-V 'virt' machine."""
    m = ctx.machine
    return ctx.arch in ("riscv32", "riscv64") and (m == "virt" or m.startswith("virt-"))


def is_pseries(ctx: Ctx) -> bool:
    """A ppc64 pSeries machine."""
    m = ctx.machine
    return ctx.arch in ("ppc64", "ppc64le") and (m == "pseries" or m.startswith("pseries-"))


def is_s390_ccw(ctx: Ctx) -> bool:
    """An s390 s390-ccw* machine."""
    return ctx.arch in ("s390", "s390x") and ctx.machine.startswith("s390-ccw")


def has_builtin_ide(ctx: Ctx) -> bool:
    """Machines whose first IDE controller is built in (QEMU calls it 'ide')."""
    return is_i440fx(ctx) or ctx.machine in ("malta", "sun4u", "g3beige")


def pci_multibus(ctx: Ctx) -> bool:
    """Whether QEMU names the root bus pci.0 (else just 'pci'): virQEMUCapsHasPCIMultiBus."""
    return (is_x86(ctx) or ctx.arch in ("ppc", "ppc64", "ppc64le", "s390", "s390x")
            or is_arm_virt(ctx) or is_riscv_virt(ctx))


# --------------------------------------------------------------------------- numbers


def c_uint(text: str | None, default: int = 0, base: int = 0) -> int:
    """An unsigned number as libvirt reads it (base 0: 0x hex, 0 octal, else decimal); ValueError if not one."""
    if text is None or text.strip() == "":
        return default
    value = parse_int(text, base)
    if value is None or value < 0:
        raise ValueError(text)
    return value


def num(el: Element | None, attr: str, default: int = 0, base: int = 0) -> int:
    """An unsigned attribute, or default when absent or unreadable (the rules report unreadable ones)."""
    if el is None:
        return default
    try:
        return c_uint(el.get(attr), default, base)
    except ValueError:
        return default


def index(ctl: Element) -> int:
    """A controller's index (decimal, as libvirt reads it)."""
    return num(ctl, "index", 0, 10)


# --------------------------------------------------------------------------- device lists


def _insert_sorted(items: list[Element], key: Any) -> list[Element]:
    """Order items as libvirt's *InsertPreAlloced helpers insert them one by one (group, index, master)."""
    out: list[tuple[tuple[str, int, bool], Element]] = []
    for item in items:
        k = key(item)
        at = -1
        for pos in range(len(out) - 1, -1, -1):
            other = out[pos][0]
            if other[0] != k[0]:
                continue
            if k[1] == -1:
                # No index yet: right after the last one of its type.
                at = pos + 1
                break
            if other[1] > k[1]:
                at = pos
            elif not k[2] and other[2] and other[1] == k[1]:
                # A USB master goes before a companion of the same index.
                at = pos
            elif at == -1:
                at = pos + 1
        if at == -1:
            out.append((k, item))
        else:
            out.insert(at, (k, item))
    return [item for _, item in out]


def unindexed_controllers(ctx: Ctx) -> set[Element]:
    """The controllers the domain wrote without an index (normalisation has given them one since).

    libvirt's parser lists such a controller after the others of its type, in
    document order, before it numbers it. The original XML comes from
    ctx.state['source_xml'] (bytes, set by make_ctx).
    """
    cached = ctx.state.get("unindexed_controllers")
    if cached is not None:
        return cached
    out: set[Element] = set()
    data = ctx.state.get("source_xml")
    if data:
        try:
            original = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            original = None
        lines: dict[int, list[bool]] = {}
        if original is not None:
            for el in original.iterfind("devices/controller"):
                lines.setdefault(el.sourceline or 0, []).append(el.get("index") is None)
        for ctl in ctx.devices.iterfind("controller"):
            found = lines.get(ctl.sourceline or -1)
            if found and ctl not in ctx.implied and found.pop(0):
                out.add(ctl)
    ctx.state["unindexed_controllers"] = out
    return out


def controllers(ctx: Ctx) -> list[Element]:
    """The controllers as libvirt 9.0 lists them: written ones sorted by type and index, then added ones."""
    present = tuple(ctx.devices.iterfind("controller"))
    cached = ctx.state.get("_address_controllers")
    # Indexes never change once normalised; only added controllers invalidate the list.
    if cached is not None and cached[0] == present:
        return list(cached[1])
    written: list[Element] = []
    added: list[Element] = []
    for ctl in present:
        (added if ctl in ctx.implied else written).append(ctl)
    unindexed = unindexed_controllers(ctx)

    def key(ctl: Element) -> tuple[str, int, bool]:
        return ctl.get("type", ""), -1 if ctl in unindexed else index(ctl), ctl.find("master") is not None

    result = _insert_sorted(written, key) + added
    ctx.state["_address_controllers"] = (present, result)
    return list(result)


def controller(ctx: Ctx, ctype: str, idx: int) -> Element | None:
    """The first controller of a type and index (virDomainControllerFind)."""
    for ctl in controllers(ctx):
        if ctl.get("type") == ctype and index(ctl) == idx:
            return ctl
    return None


def alias_of(el: Element | None) -> str | None:
    """The alias of a device element, or None."""
    if el is None:
        return None
    a = el.find("alias")
    return a.get("name") if a is not None else None


def is_user_alias(name: str | None) -> bool:
    """A user-given alias ('ua-' prefix)."""
    return bool(name) and name.startswith("ua-")  # type: ignore[union-attr]


def controller_alias(ctx: Ctx, ctype: str, idx: int, el: Element | None = None) -> str:
    """The alias of the controller of a type and index; InputError when there is none (libvirt fails too)."""
    ctl = controller(ctx, ctype, idx)
    name = alias_of(ctl)
    if name is None:
        raise InputError(ctx.path, el.sourceline if el is not None else None,
                         f"Could not find {ctype} controller with index {idx} required for device")
    return name


# --------------------------------------------------------------------------- PCI


def pci_of(el: Element) -> PCIAddr | None:
    """An element's PCI address, or None."""
    addr = el.find("address")
    if addr is None or addr.get("type") != "pci":
        return None
    return PCIAddr(num(addr, "domain"), num(addr, "bus"), num(addr, "slot"), num(addr, "function"),
                   addr.get("multifunction"))


def set_address(el: Element, attrs: dict[str, str]) -> Element:
    """Replace an element's <address> (or add one) with these attributes."""
    old = el.find("address")
    new = etree.Element("address", attrs)
    if old is not None:
        # Keep sub-elements such as <zpci> (libvirt keeps them beside the new numbers).
        for child in old:
            new.append(child)
        new.tail = old.tail
        el.replace(old, new)
    else:
        el.append(new)
    return new


def set_pci(el: Element, addr: PCIAddr) -> None:
    """Write a PCI address into an element (9.0's set_address keeps its sub-elements)."""
    set_address(el, pci_attrs(addr))


def pci_bus_name(ctx: Ctx, bus: int, el: Element | None = None) -> str:
    """QEMU's name of PCI bus `bus`: the providing controller's alias (qemuBuildDeviceAddressPCIGetBus)."""
    ctl = controller(ctx, "pci", bus)
    name = alias_of(ctl)
    if ctl is None or name is None:
        raise InputError(ctx.path, el.sourceline if el is not None else None,
                         f"Could not find PCI controller with index '{bus}' required for device")
    model = ctl.get("model")
    if is_user_alias(name):
        # A built-in root bus cannot be renamed; QEMU keeps its own name.
        if not is_pseries(ctx) and model == "pci-root":
            name = "pci.0" if pci_multibus(ctx) else "pci"
        elif model == "pcie-root":
            name = "pcie.0"
    # A spapr-pci-host-bridge's bus is called after it, plus '.0' (not the implicit PHB).
    if model == "pci-root" and is_pseries(ctx) and num(ctl.find("target"), "index", 0, 10) > 0:
        return f"{name}.0"
    return name


def _pci_props(ctx: Ctx, el: Element) -> Props:
    pci = pci_of(el)
    assert pci is not None
    addr = f"{pci.slot:#x}.{pci.function:#x}" if pci.function else f"{pci.slot:#x}"
    out: Props = {"bus": pci_bus_name(ctx, pci.bus, el)}
    if pci.multi in ("on", "off"):
        out["multifunction"] = pci.multi == "on"
    out["addr"] = addr
    acpi = num(el.find("acpi"), "index", 0, 10)
    if acpi:
        out["acpi-index"] = acpi
    return out


# --------------------------------------------------------------------------- other buses


def usb_port_str(port: str | None) -> str:
    """A USB port path as libvirt prints it: '1', '1.2', up to the first 0 ('' when unset)."""
    out: list[str] = []
    for part in (port or "").split(".")[:4]:
        n = parse_int(part, 10) if part else None
        if not n or n < 0:
            break
        out.append(str(n))
    return ".".join(out)


def ccw_str(cssid: int, ssid: int, devno: int) -> str:
    """A ccw device number as QEMU spells it: fe.0.0001."""
    return f"{cssid:x}.{ssid:x}.{devno:04x}"


def drive_numbers(el: Element) -> tuple[int, int, int, int] | None:
    """controller, bus, target, unit of an element's drive address (decimal), or None."""
    addr = el.find("address")
    if addr is None or addr.get("type") != "drive":
        return None
    return tuple(num(addr, k, 0, 10) for k in ("controller", "bus", "target", "unit"))  # type: ignore[return-value]


# SCSI controller models whose bus takes scsi-id and no channel/lun (an "old" SCSI HBA).
_SCSI_OLD = ("lsilogic", "ncr53c90", "dc390", "am53c974")


def _drive_props(ctx: Ctx, el: Element, bus: str | None) -> Props:
    ctrl, dbus, target, unit = drive_numbers(el) or (0, 0, 0, 0)
    if bus is None:
        # libvirt takes the bus of a disk, and SCSI for anything else with a drive address.
        tgt = el.find("target") if el.tag == "disk" else None
        bus = (tgt.get("bus") if tgt is not None else None) if el.tag == "disk" else "scsi"
    if bus == "ide":
        name = "ide" if has_builtin_ide(ctx) else controller_alias(ctx, "ide", ctrl, el)
        return {"bus": f"{name}.{dbus}", "unit": unit}
    if bus == "sata":
        name = "ide" if is_q35(ctx) and ctrl == 0 else controller_alias(ctx, "sata", ctrl, el)
        return {"bus": f"{name}.{unit}"}
    if bus == "fdc":
        return {"unit": unit}
    if bus == "scsi":
        ctl = controller(ctx, "scsi", ctrl)
        if ctl is None or alias_of(ctl) is None:
            raise InputError(ctx.path, el.sourceline, f"unable to find a SCSI controller for idx={ctrl}")
        if ctl.get("model") in _SCSI_OLD:
            return {"bus": f"{alias_of(ctl)}.{dbus}", "scsi-id": unit}
        return {"bus": f"{alias_of(ctl)}.0", "channel": dbus, "scsi-id": target, "lun": unit}
    raise InputError(ctx.path, el.sourceline, f"address type drive is not supported for bus '{bus}'")


def props(ctx: Ctx, el: Element, bus: str | None = None) -> Props:
    """The -device properties libvirt 9.0 derives from an element's <address> (qemuBuildDeviceAddressProps).

    `bus` names the disk bus of a drive address when the element is not a <disk>
    with a <target bus=...>. No address, or a type QEMU needs nothing for: {}.
    """
    addr = el.find("address")
    if addr is None:
        return {}
    atype = addr.get("type")
    if atype == "pci":
        return _pci_props(ctx, el)
    if atype == "usb":
        name = controller_alias(ctx, "usb", num(addr, "bus", 0, 10), el)
        return {"bus": f"{name}.0", "port": usb_port_str(addr.get("port"))}
    if atype == "spapr-vio":
        if addr.get("reg") is None:
            return {}
        return {"reg": num(addr, "reg", 0, 16)}
    if atype == "ccw":
        return {"devno": ccw_str(num(addr, "cssid"), num(addr, "ssid"), num(addr, "devno"))}
    if atype == "isa":
        out = {"iobase": num(addr, "iobase")}
        irq = num(addr, "irq")
        if irq:
            out["irq"] = irq
        return out
    if atype == "dimm":
        out = {"slot": num(addr, "slot", 0, 10)}
        base = num(addr, "base")
        if base:
            out["addr"] = base
        return out
    if atype == "drive":
        return _drive_props(ctx, el, bus)
    if atype == "virtio-serial":
        name = controller_alias(ctx, "virtio-serial", num(addr, "controller", 0, 10), el)
        return {"bus": f"{name}.{num(addr, 'bus', 0, 10)}", "nr": num(addr, "port", 0, 10)}
    return {}


# --------------------------------------------------------------------------- every device, in libvirt's order


def console_is_serial_compat(ctx: Ctx, idx: int, console: Element) -> bool:
    """Console 0 of an HVM guest with a serial (or no) target type: libvirt's copy of serial 0."""
    target = console.find("target")
    ttype = target.get("type") if target is not None else None
    os_type = (ctx.root.findtext("os/type") or "hvm").strip()
    return idx == 0 and ttype in (None, "serial") and os_type == "hvm"


def all_devices(ctx: Ctx, all_consoles: bool = False) -> list[tuple[str, Element]]:
    """(kind, element) for every device with an address, in virDomainDeviceInfoIterate's order.

    A type='hostdev' interface appears twice, as 'net' and as 'hostdev' (libvirt
    shares one device info between the two lists).
    """
    from ..cmdline import devices as dev128

    dev = ctx.devices
    present = (all_consoles, *dev)
    cached = ctx.state.get("_address_all_devices")
    # Only adding or removing devices changes the list (addresses and aliases do not).
    if cached is not None and cached[0] == present:
        return list(cached[1])
    out: list[tuple[str, Element]] = [("disk", d) for d in dev128.disks(ctx)]
    out += [("net", n) for n in dev.iterfind("interface")]
    out += [("sound", s) for s in dev.iterfind("sound")]
    out += [("hostdev", h) for h in hostdevs(ctx)]
    out += [("video", v) for v in videos(ctx)]
    out += [("controller", c) for c in controllers(ctx)]
    out += [("smartcard", s) for s in dev.iterfind("smartcard")]
    out += [("serial", s) for s in dev.iterfind("serial")]
    out += [("parallel", s) for s in dev.iterfind("parallel")]
    out += [("channel", s) for s in dev.iterfind("channel")]
    for i, cons in enumerate(dev.iterfind("console")):
        if all_consoles or not console_is_serial_compat(ctx, i, cons):
            out.append(("console", cons))
    out += [("input", s) for s in dev.iterfind("input")]
    out += [("filesystem", s) for s in dev.iterfind("filesystem")]
    for tag in ("watchdog", "memballoon"):
        out += [(tag, s) for s in dev.iterfind(tag)][:1]
    out += [("rng", s) for s in dev.iterfind("rng")]
    out += [("nvram", s) for s in dev.iterfind("nvram")][:1]
    for tag in ("hub", "shmem", "tpm", "panic", "memory", "redirdev"):
        out += [(tag, s) for s in dev.iterfind(tag)]
    for tag in ("iommu", "vsock"):
        out += [(tag, s) for s in dev.iterfind(tag)][:1]
    ctx.state["_address_all_devices"] = (present, out)
    return list(out)


def address_type(el: Element) -> str | None:
    """The type of an element's <address>, or None when it has none."""
    addr = el.find("address")
    return addr.get("type") if addr is not None else None


def pci_wanted(el: Element) -> bool:
    """No address yet, or a PCI address with domain, bus and slot all 0 (virDeviceInfoPCIAddressIsWanted)."""
    addr = el.find("address")
    if addr is None:
        return True
    return addr.get("type") == "pci" and not (num(addr, "domain") or num(addr, "bus") or num(addr, "slot"))


def pci_present(el: Element) -> bool:
    """A PCI address that names a domain, bus or slot."""
    addr = el.find("address")
    return addr is not None and addr.get("type") == "pci" and not pci_wanted(el)


def set_type(el: Element, atype: str) -> None:
    """Give an address-less device an address of a type with no numbers yet."""
    set_address(el, {"type": atype})


# --------------------------------------------------------------------------- properties shared by device families

_VIRTIO_SUFFIX = {"pci": "pci", "virtio-mmio": "device", "ccw": "ccw"}
_VIRTIO_OPTIONS = (("iommu", "iommu_platform"), ("ats", "ats"), ("packed", "packed"), ("page_per_vq", "page-per-vq"))


def virtio_props(ctx: Ctx, el: Element, base: str, model: str | None = None, bus_suffix: bool = True) -> Props:
    """{driver: base-pci|-ccw|-device[-transitional], virtio options} as qemuBuildVirtioDevProps gives them.

    `model` is the device's virtio model (virtio, virtio-transitional,
    virtio-non-transitional), its model attribute when not given; the options
    come from its <driver> element.
    """
    model = el.get("model") if model is None else model
    atype = address_type(el)
    suffix = _VIRTIO_SUFFIX.get(atype or "")
    if suffix is None:
        raise InputError(ctx.path, el.sourceline, f"Unexpected address type for '{base}'")
    driver = f"{base}-{suffix}" if bus_suffix else base
    if model == "virtio-transitional" and ctx.has("virtio-pci-non-transitional"):
        driver += "-transitional"
    elif model == "virtio-non-transitional":
        # A transitional device without QEMU's own is a plain one on conventional PCI, which
        # behaves the same; a non-transitional one cannot be had (qemuBuildVirtioDevGetConfig).
        if not ctx.has("virtio-pci-non-transitional"):
            raise InputError(ctx.path, el.sourceline, "virtio non-transitional model not supported for this qemu")
        driver += "-non-transitional"
    out: Props = {"driver": driver}
    drv = el.find("driver")
    for attr, key in _VIRTIO_OPTIONS:
        value = drv.get(attr) if drv is not None else None
        if value in ("on", "off"):
            out[key] = value == "on"
    return out


def zpci_props(el: Element) -> Props | None:
    """The zpci device QEMU needs in front of an s390 PCI device (qemuCommandAddExtDevice), or None."""
    zpci = el.find("address/zpci")
    if zpci is None or address_type(el) != "pci":
        return None
    uid, fid = num(zpci, "uid"), num(zpci, "fid")
    return {"driver": "zpci", "uid": uid, "fid": fid, "target": alias_of(el), "id": f"zpci{uid}"}
