"""Device addresses as libvirt 1.2.8 reads and writes them: numbers, PCI addresses, the -device suffix.

Assignment itself lives beside this module: `assign` (the order), `pci_slots`
(PCI slots and bridges), `vio_ccw` (spapr-vio, s390 ccw, virtio-mmio).
Addresses are written into the domain as <address> elements, so every family
reads them the same way; `suffix` turns one into the ',bus=...,addr=...'
part of a -device string.
"""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

from ..errors import InputError
from ..record import record
from ..values import parse_int
from . import devices
from .command import c_str
from .context import Ctx, child

Element = etree._Element

# How a device may be connected to a PCI bus, and what a bus offers (libvirt's connect flags).
HOTPLUG = 1
PCI = 4
PCIE = 8
EITHER_IF_CONFIG = 16
TYPES = PCI | PCIE
SLOT_LAST = 31
FUNCTION_LAST = 7

# Default spapr-vio registers, as QEMU numbers them.
VIO_NET = 0x1000
VIO_SCSI = 0x2000
VIO_NVRAM = 0x3000
VIO_SERIAL = 0x30000000
VIO_STEP = 0x1000
# virtio-ccw devices live in channel subsystem 0xfe.
CCW_CSSID = 0xFE
CCW_DEVNO_MAX = 0xFFFF

# SCSI controller models QEMU can provide.
SCSI_MODELS = ("lsilogic", "virtio-scsi", "ibmvscsi", "lsisas1078")
BUS_MODELS = {
    "pci-root": HOTPLUG | PCI,
    "pci-bridge": HOTPLUG | PCI,
    "pcie-root": PCIE | EITHER_IF_CONFIG,
    "dmi-to-pci-bridge": PCI,
}
USB2_COMPANIONS = {"ich9-ehci1": 7, "ich9-uhci1": 0, "ich9-uhci2": 1, "ich9-uhci3": 2}
USB_EITHER = ("ehci", "ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3", "vt82c686b-uhci")


def c_uint(text: str | None, default: int = 0, base: int = 0) -> int:
    """An unsigned number as libvirt reads it (base 0: 0x hex, 0 octal, else decimal); ValueError if not one."""
    if text is None or text.strip() == "":
        return default
    value = parse_int(text, base)
    if value is None or value < 0:
        raise ValueError(text)
    return value


def number(ctx: Ctx, el: Element | None, attr: str, default: int = 0) -> int:
    """An unsigned attribute read as libvirt reads it; InputError naming the line when it is not a number."""
    if el is None:
        return default
    try:
        return c_uint(el.get(attr), default)
    except ValueError:
        raise InputError(ctx.path, el.sourceline, f"{el.tag} {attr}='{el.get(attr)}' is not a number") from None


PCI_BUS_LAST = 0xFF

# Numeric attributes of each address type.
_NUMERIC = {"pci": ("domain", "bus", "slot", "function"), "drive": ("controller", "bus", "target", "unit"),
            "ccw": ("cssid", "ssid", "devno"), "spapr-vio": ("reg",), "usb": ("bus",),
            "virtio-serial": ("controller", "bus", "port"), "ccid": ("controller", "slot")}
# The base libvirt reads each address type's numbers in: C prefixes for PCI and
# ccw, hexadecimal for spapr-vio registers, decimal for the rest.
BASE = {"pci": 0, "ccw": 0, "spapr-vio": 16}


def address_numbers(addr: Element, kind: str) -> tuple[int, ...]:
    """The numbers of an <address> of one type, read in that type's base (ValueError if one is not a number)."""
    base = BASE.get(kind, 10)
    return tuple(c_uint(addr.get(attr), 0, base) for attr in _NUMERIC[kind])


def check_numbers(ctx: Ctx) -> None:
    """Raise InputError, naming the line, for a device address whose numbers libvirt could not read."""
    for dev in ctx.devices:
        if not isinstance(dev.tag, str):
            continue
        addr = child(dev, "address")
        if addr is None:
            continue
        kind = addr.get("type", "")
        for attr in _NUMERIC.get(kind, ()):
            try:
                c_uint(addr.get(attr), 0, BASE.get(kind, 10))
            except ValueError:
                raise InputError(ctx.path, addr.sourceline,
                                 f"<address type='{addr.get('type')}'>: {attr}='{addr.get(attr)}' "
                                 "is not a number") from None


@record(frozen=True)
class PCIAddr:
    """One PCI address; multi is 'on', 'off' or None (unset)."""

    domain: int = 0
    bus: int = 0
    slot: int = 0
    function: int = 0
    multi: str | None = None

    def __str__(self) -> str:
        return f"{self.domain:04x}:{self.bus:02x}:{self.slot:02x}.{self.function:x}"


def kind(el: Element) -> str | None:
    """The type of an element's own <address>, or None when it has none."""
    addr = child(el, "address")
    return addr.get("type") if addr is not None else None


def pci_of(el: Element) -> PCIAddr | None:
    """An element's PCI address, or None."""
    addr = child(el, "address")
    if addr is None or addr.get("type") != "pci":
        return None
    get = addr.get
    return _pci_addr(get("domain"), get("bus"), get("slot"), get("function"), get("multifunction"))


@lru_cache(maxsize=1024)
def _pci_addr(domain: str | None, bus: str | None, slot: str | None, function: str | None,
              multi: str | None) -> PCIAddr:
    # Assignment reads the same few spellings over and over (each device twice, for the dry run).
    return PCIAddr(c_uint(domain), c_uint(bus), c_uint(slot), c_uint(function), multi)


def set_address(el: Element, attrs: dict[str, str]) -> Element:
    """Replace an element's <address> (or add one) with these attributes."""
    old = child(el, "address")
    new = etree.Element("address", attrs)
    new.sourceline = old.sourceline if old is not None else el.sourceline
    if old is not None:
        new.tail = old.tail
        el.replace(old, new)
    else:
        el.append(new)
    return new


def pci_attrs(addr: PCIAddr) -> dict[str, str]:
    """The attributes of a PCI <address>, formatted as libvirt stores them (1.2.8 and 9.0 alike)."""
    attrs = {"type": "pci", "domain": f"0x{addr.domain:04x}", "bus": f"0x{addr.bus:02x}",
             "slot": f"0x{addr.slot:02x}", "function": f"0x{addr.function:x}"}
    if addr.multi:
        attrs["multifunction"] = addr.multi
    return attrs


def set_pci(el: Element, addr: PCIAddr) -> None:
    """Write a PCI address into an element, formatted as libvirt stores it."""
    set_address(el, pci_attrs(addr))


def set_type(el: Element, atype: str) -> None:
    set_address(el, {"type": atype})


def model_of(el: Element) -> str | None:
    return el.get("model")


def vio_reg(el: Element) -> int | None:
    """The spapr-vio register an element's address names, or None."""
    addr = child(el, "address")
    if addr is None or addr.get("type") != "spapr-vio" or addr.get("reg") is None:
        return None
    try:
        return c_uint(addr.get("reg"), 0, BASE["spapr-vio"])
    except ValueError:
        return None


def ccw_of(el: Element) -> tuple[int, int, int] | None:
    """The (cssid, ssid, devno) an element's ccw address names, or None."""
    addr = child(el, "address")
    if addr is None or addr.get("type") != "ccw" or addr.get("devno") is None:
        return None
    try:
        return c_uint(addr.get("cssid")), c_uint(addr.get("ssid")), c_uint(addr.get("devno"))
    except ValueError:
        return None


def ccw_str(cssid: int, ssid: int, devno: int) -> str:
    """A ccw device number as QEMU spells it: fe.0.0001."""
    return f"{cssid:x}.{ssid:x}.{devno:04x}"


def scsi_model(ctx: Ctx, model: str | None, el: Element | None = None) -> str:
    """The SCSI controller model libvirt settles on when none (or 'auto') is given."""
    if model and model != "auto":
        if model not in SCSI_MODELS:
            raise InputError(ctx.path, el.sourceline if el is not None else None,
                             f"QEMU has no SCSI controller of model '{model}'")
        return model
    if ctx.arch == "ppc64" and ctx.machine == "pseries":
        return "ibmvscsi"
    if ctx.has("lsi"):
        return "lsilogic"
    if ctx.has("virtio-scsi-pci"):
        return "virtio-scsi"
    raise InputError(ctx.path, el.sourceline if el is not None else None,
                     "no SCSI controller model fits this QEMU")


def scsi_controller_model(ctx: Ctx, index: int, device: Element) -> str:
    """The model of SCSI controller `index` a device sits on (libvirt's default when it names none)."""
    ctl = devices.controller(ctx, "scsi", index)
    return scsi_model(ctx, ctl.get("model") if ctl is not None else None, ctl if ctl is not None else device)


# --------------------------------------------------------------------------- -device suffix


def usb_bus_id(index: int) -> str:
    """QEMU's id for USB bus index (usb, usb1, ...)."""
    return "usb" if index == 0 else f"usb{index}"


def _multibus(ctx: Ctx) -> bool:
    """Whether the root PCI bus is called pci.0 rather than pci."""
    if ctx.has("pci-multibus"):
        return True
    if ctx.arch in ("ppc", "ppc64"):
        version = int(ctx.host.raw.get("qemu_version") or 0)
        machine = ctx.machine
        return (version >= 2000000 or (version >= 1006000 and machine == "ppce500")
                or (version >= 1004000 and machine == "prep")
                or (version >= 1001000 and machine == "bamboo") or machine == "mpc8544ds")
    return False


def pci_bus_alias(ctx: Ctx, bus: int, el: Element) -> str:
    """The alias of the PCI controller providing a bus."""
    ctl = None
    for c in devices.controllers(ctx):
        if c.get("type") == "pci" and devices.index(c) == bus:
            ctl = c
            break
    if ctl is None:
        raise InputError(ctx.path, el.sourceline, f"no PCI controller provides bus {bus}")
    alias = child(ctl, "alias")
    if alias is not None and alias.get("name"):
        return alias.get("name")
    return f"pcie.{bus}" if model_of(ctl) == "pcie-root" else f"pci.{bus}"


def suffix(ctx: Ctx, el: Element) -> str:
    """The ',bus=...,addr=...' part of a -device string for an element's <address>."""
    addr = child(el, "address")
    if addr is None:
        return ""
    atype = addr.get("type")
    if atype == "pci":
        pci = pci_of(el)
        assert pci is not None
        alias = pci_bus_alias(ctx, pci.bus, el)
        out = f",bus={alias}" if pci.bus != 0 or _multibus(ctx) else ",bus=pci"
        if pci.multi in ("on", "off"):
            out += f",multifunction={pci.multi}"
        out += f",addr={pci.slot:#x}"
        if pci.function:
            out += f".{pci.function:#x}"
        return out
    if atype == "usb":
        bus = c_uint(addr.get("bus"), 0, 10)
        # A USB address without a port is printed as libvirt's printf prints NULL.
        return f",bus={usb_bus_id(bus)}.0,port={c_str(addr.get('port'))}"
    if atype == "spapr-vio":
        reg = vio_reg(el)
        return f",reg={reg:#x}" if reg is not None else ""
    if atype == "ccw":
        ccw = ccw_of(el)
        return f",devno={ccw_str(*ccw)}" if ccw is not None else ""
    return ""
