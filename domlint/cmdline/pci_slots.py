"""PCI slots as libvirt 1.2.8 assigns them: the slots each machine type reserves, then the rest in order,
with a dry run that adds PCI bridges when bus 0 fills up."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from ..machine import is_i440fx, is_q35
from ..record import record, replace
from . import devices
from .address import (
    BUS_MODELS,
    EITHER_IF_CONFIG,
    FUNCTION_LAST,
    HOTPLUG,
    PCI,
    PCI_BUS_LAST,
    PCIE,
    SLOT_LAST,
    TYPES,
    USB2_COMPANIONS,
    USB_EITHER,
    PCIAddr,
    kind,
    model_of,
    pci_of,
    set_pci,
)
from .context import Ctx, Unassignable, child

Element = etree._Element




@record
class _Bus:
    model: str
    flags: int
    min_slot: int = 1
    max_slot: int = SLOT_LAST

    def __post_init__(self) -> None:
        self.slots = [0] * (SLOT_LAST + 1)


class PCIAddressSet:
    """The PCI buses of a domain and which functions of which slots are taken."""

    def __init__(self, ctx: Ctx, nbuses: int, dry_run: bool) -> None:
        self.ctx = ctx
        self.dry_run = dry_run
        self.buses: list[_Bus] = []
        for i in range(nbuses):
            self.buses.append(self._bus("pci-root" if i == 0 else "pci-bridge", None))
        self.last = PCIAddr()
        self.last_flags = 0

    def _bus(self, model: str, el: Element | None) -> _Bus:
        if not model:
            raise self.error(el, "a PCI controller needs a model (pci-root, pcie-root, pci-bridge...)", "pci-controller")
        if model not in BUS_MODELS:
            raise self.error(el, f"PCI controller model {model!r} cannot hold devices", "pci-controller")
        return _Bus(model, BUS_MODELS[model])

    def setmodel_of(self, idx: int, model: str, el: Element) -> None:
        """Give bus idx the model of the controller that provides it."""
        self.buses[idx] = self._bus(model, el)

    def error(self, el: Element | None, message: str, problem: str) -> InputError:
        """An InputError about a device's address, pointing at its line, with the kind of problem for the rules."""
        return Unassignable(self.ctx.path, el, problem, message)

    # -- checks

    def compatible(self, addr: PCIAddr, dev_flags: int, from_config: bool,
                   el: Element | None, report: bool) -> bool:
        """Whether a device with these flags can sit on addr's bus."""
        bus_flags = self.buses[addr.bus].flags
        mask = TYPES | (EITHER_IF_CONFIG if from_config else 0)
        if not dev_flags & bus_flags & mask:
            if report:
                need = "a standard PCI slot" if dev_flags & PCI else "a PCI Express slot"
                raise self.error(el, f"PCI address {addr}: the device needs {need}, "
                                     f"which bus {addr.bus:#04x} does not offer", "pci-slot-type")
            return False
        if dev_flags & HOTPLUG and not bus_flags & HOTPLUG:
            if report:
                raise self.error(el, f"PCI address {addr}: the device needs a hot-pluggable slot, "
                                     f"which bus {addr.bus:#04x} does not offer", "pci-slot-type")
            return False
        return True

    def validate(self, addr: PCIAddr, flags: int, from_config: bool, el: Element | None) -> None:
        """Raise InputError unless addr exists and suits a device with these flags."""
        if not self.buses:
            raise self.error(el, f"PCI address {addr}: this machine has no PCI bus", "no-pci-bus")
        if addr.domain != 0:
            raise self.error(el, f"PCI address {addr}: only PCI domain 0 exists", "pci-range")
        if addr.bus >= len(self.buses):
            raise self.error(el, f"PCI address {addr}: the highest PCI bus is {len(self.buses) - 1}", "pci-range")
        self.compatible(addr, flags, from_config, el, report=True)
        bus = self.buses[addr.bus]
        if addr.slot < bus.min_slot:
            raise self.error(el, f"PCI address {addr}: the slot must be at least {bus.min_slot}", "pci-range")
        if addr.slot > bus.max_slot:
            raise self.error(el, f"PCI address {addr}: the slot must be at most {bus.max_slot}", "pci-range")
        if addr.function > FUNCTION_LAST:
            raise self.error(el, f"PCI address {addr}: the function must be at most {FUNCTION_LAST}", "pci-range")

    def in_use(self, addr: PCIAddr) -> bool:
        """True when any function of addr's slot is taken."""
        return bool(self.buses[addr.bus].slots[addr.slot])

    # -- reservations

    def grow(self, addr: PCIAddr, flags: int, el: Element | None) -> int:
        """On a dry run, add pci-bridge buses up to addr's bus; return how many were added."""
        add = addr.bus - len(self.buses) + 1
        if add <= 0:
            return 0
        if addr.bus > PCI_BUS_LAST:
            # Bus numbers are 8 bits wide: libvirt would try to add bridges up to it and fail.
            raise self.error(el, f"PCI bus {addr.bus} cannot exist: a PCI domain has buses 0 to {PCI_BUS_LAST} only",
                             "pci-range")
        if not flags & PCI:
            raise self.error(el, "a new PCI bus can only be added for a device that takes a standard PCI slot",
                             "pci-slot-type")
        for _ in range(add):
            self.buses.append(self._bus("pci-bridge", el))
        return add

    def reserve(self, addr: PCIAddr, flags: int, whole_slot: bool, from_config: bool,
                el: Element | None) -> None:
        """Take one function of a slot, or the whole slot."""
        if self.dry_run:
            self.grow(addr, flags, el)
        self.validate(addr, flags, from_config, el)
        bus = self.buses[addr.bus]
        if whole_slot:
            if bus.slots[addr.slot]:
                raise self.error(el, f"PCI slot {addr} is used twice "
                                     "(the device on function 0 may need multifunction='on')", "pci-taken")
            bus.slots[addr.slot] = 0xFF
        else:
            if bus.slots[addr.slot] & (1 << addr.function):
                raise self.error(el, f"PCI address {addr} is used twice", "pci-taken")
            bus.slots[addr.slot] |= 1 << addr.function

    def reserve_slot(self, addr: PCIAddr, flags: int, el: Element | None = None) -> None:
        """Take a whole slot for an address libvirt chose."""
        self.reserve(addr, flags, True, False, el)

    def next_slot(self, flags: int, el: Element | None) -> PCIAddr:
        """The first free slot after the last one handed out (libvirt's search, quirks included)."""
        start = self.last if flags == self.last_flags else PCIAddr()
        if not self.buses:
            raise self.error(el, "no PCI bus is available for this device", "no-pci-bus")
        bus, slot = start.bus, start.slot + 1
        while bus < len(self.buses):
            if self.compatible(PCIAddr(0, bus, slot), flags, False, el, report=False):
                while slot <= SLOT_LAST:
                    if not self.buses[bus].slots[slot]:
                        return PCIAddr(0, bus, slot)
                    slot += 1
                slot = 1
            # An incompatible bus keeps the slot number the search had reached.
            bus += 1
        if self.dry_run:
            found = PCIAddr(0, bus, slot)
            self.grow(found, flags, el)
            return found
        if flags == self.last_flags:
            for bus in range(0, self.last.bus + 1):
                if not self.compatible(PCIAddr(0, bus, 1), flags, False, el, report=False):
                    continue
                for slot in range(1, SLOT_LAST + 1):
                    if not self.buses[bus].slots[slot]:
                        return PCIAddr(0, bus, slot)
        raise self.error(el, "no free PCI slot is left for this device", "pci-full")

    def reserve_next(self, el: Element, flags: int) -> PCIAddr:
        """Give a device the next free slot (written into it, except on a dry run)."""
        addr = self.next_slot(flags, el)
        self.reserve_slot(addr, flags, el)
        if not self.dry_run:
            set_pci(el, addr)
        self.last, self.last_flags = addr, flags
        return addr


# --------------------------------------------------------------------------- PCI assignment


def _device_flags(el: Element) -> int:
    """How a device with a written address may connect (qemuCollectPCIAddress)."""
    tag = el.tag
    if tag == "controller":
        ctype, model = el.get("type"), model_of(el)
        if ctype == "pci":
            return {"pci-bridge": PCI, "dmi-to-pci-bridge": PCIE}.get(model or "", HOTPLUG | PCI)
        if ctype == "sata":
            return PCI | PCIE
        if ctype == "usb":
            if model in USB_EITHER:
                return PCI | EITHER_IF_CONFIG
            if model == "nec-xhci":
                return PCI | PCIE
        return HOTPLUG | PCI
    if tag == "sound" and el.get("model") in ("ich6", "ich9"):
        return PCI | EITHER_IF_CONFIG
    if tag == "video":
        return PCI | PCIE
    return HOTPLUG | PCI


def _piix3_builtin(el: Element, addr: PCIAddr) -> bool:
    """The PIIX3's own IDE (0:0:1.1) and USB (0:0:1.2) functions, which need no reservation."""
    if el.tag != "controller" or (addr.domain, addr.bus, addr.slot) != (0, 0, 1) or devices.index(el) != 0:
        return False
    if el.get("type") == "ide":
        return addr.function == 1
    return el.get("type") == "usb" and model_of(el) in (None, "piix3-uhci") and addr.function == 2


def _collect(ctx: Ctx, addrs: PCIAddressSet) -> None:
    """Reserve every PCI address the domain already names."""
    for el in devices.iterate(ctx):
        addr = pci_of(el)
        if addr is None:
            continue
        if _piix3_builtin(el, addr):
            if addrs.buses and not addrs.buses[0].flags & PCI:
                raise addrs.error(el, "the PIIX3's built-in IDE and USB controllers need bus 0 to be PCI",
                                  "pci-slot-type")
            continue
        whole = addr.function == 0 and addr.multi != "on"
        addrs.reserve(addr, _device_flags(el), whole, True, el)


def _address_set(ctx: Ctx, nbuses: int, dry_run: bool) -> PCIAddressSet:
    addrs = PCIAddressSet(ctx, nbuses, dry_run)
    for ctl in devices.controllers(ctx):
        if ctl.get("type") != "pci":
            continue
        idx = devices.index(ctl)
        if idx >= nbuses:
            raise addrs.error(ctl, f"PCI controller index {idx} has no bus", "pci-range")
        addrs.setmodel_of(idx, model_of(ctl) or "", ctl)
    _collect(ctx, addrs)
    return addrs


def _fixed(ctx: Ctx, addrs: PCIAddressSet, el: Element, want: PCIAddr, what: str) -> None:
    """Put a built-in controller at its fixed address, or check a written one is that address."""
    have = pci_of(el)
    if have is None:
        set_pci(el, want)
    elif (have.domain, have.bus, have.slot, have.function) != (want.domain, want.bus, want.slot, want.function):
        raise addrs.error(el, f"the {what} must have PCI address {want.domain}:{want.bus}:"
                              f"{want.slot:x}.{want.function}", "pci-fixed")


def _primary_video(ctx: Ctx, addrs: PCIAddressSet, slot: int, flags: int) -> None:
    """Put the primary video card where QEMU will look for it (slot 2 on pc, slot 1 on q35)."""
    usable = ctx.has("device-video-primary")
    videos = devices.videos(ctx)
    want = PCIAddr(0, 0, slot, 0)
    if videos:
        video = videos[0]
        have = pci_of(video)
        if have is None:
            addrs.validate(want, flags, False, video)
            if addrs.in_use(want):
                if not usable:
                    raise addrs.error(video, f"PCI address {want} is taken, and this QEMU needs it "
                                             "for the primary video card", "pci-taken")
                addrs.reserve_next(video, flags)
            else:
                addrs.reserve_slot(want, flags, video)
                set_pci(video, want)
        elif not usable and (have.domain, have.bus, have.slot, have.function) != (0, 0, slot, 0):
            raise addrs.error(video, f"the primary video card must have PCI address 0:0:{slot}.0", "pci-fixed")
    elif addrs.buses and not usable and not addrs.in_use(want):
        # Keep the slot QEMU would give a video card added later.
        addrs.reserve_slot(want, flags)


def _piix3_slots(ctx: Ctx, addrs: PCIAddressSet) -> None:
    for ctl in devices.controllers(ctx):
        if devices.index(ctl) != 0:
            continue
        if ctl.get("type") == "ide":
            _fixed(ctx, addrs, ctl, PCIAddr(0, 0, 1, 1), "primary IDE controller")
        elif ctl.get("type") == "usb" and model_of(ctl) in (None, "piix3-uhci"):
            _fixed(ctx, addrs, ctl, PCIAddr(0, 0, 1, 2), "PIIX3 USB controller")
    flags = HOTPLUG | PCI
    if addrs.buses:
        addrs.reserve_slot(PCIAddr(0, 0, 1), flags)
    _primary_video(ctx, addrs, 2, flags)


def _q35_slots(ctx: Ctx, addrs: PCIAddressSet) -> None:
    flags = PCIE
    for ctl in devices.controllers(ctx):
        if ctl.get("type") == "sata" and devices.index(ctl) == 0:
            _fixed(ctx, addrs, ctl, PCIAddr(0, 0, 0x1F, 2), "primary SATA controller")
        elif (ctl.get("type") == "pci" and model_of(ctl) == "dmi-to-pci-bridge"
              and kind(ctl) is None):
            # Its usual place on real hardware, when free; anywhere otherwise.
            want = PCIAddr(0, 0, 0x1E)
            if not addrs.in_use(want):
                addrs.reserve(want, flags, True, False, ctl)
                set_pci(ctl, want)
    if addrs.buses:
        # The ISA bridge (function 0) and SMBus (function 3) a q35 always has.
        addrs.reserve(PCIAddr(0, 0, 0x1F, 0, "on"), flags, False, False, None)
        addrs.reserve(PCIAddr(0, 0, 0x1F, 3), flags, False, False, None)
    _primary_video(ctx, addrs, 1, flags)


def _is_usb2(ctl: Element) -> bool:
    return ctl.get("type") == "usb" and model_of(ctl) in USB2_COMPANIONS


def _assign_slots(ctx: Ctx, addrs: PCIAddressSet) -> None:
    """Give every PCI device without an address a slot, in libvirt's order (qemuAssignDevicePCISlots)."""
    machine = ctx.machine
    if is_i440fx(machine):
        _piix3_slots(ctx, addrs)
    if is_q35(machine):
        _q35_slots(ctx, addrs)

    ctls = devices.controllers(ctx)
    for ctl in ctls:
        if ctl.get("type") != "pci" or kind(ctl) is not None:
            continue
        if model_of(ctl) not in ("pci-root", "pcie-root"):
            addrs.reserve_next(ctl, _device_flags(ctl))

    flags = HOTPLUG | PCI
    for fs in devices.tagged(ctx, "filesystem"):
        if kind(fs) is None:
            addrs.reserve_next(fs, flags)
    for net in devices.nets(ctx):
        if net.get("type") != "hostdev" and kind(net) is None:
            addrs.reserve_next(net, flags)
    for sound in devices.tagged(ctx, "sound"):
        if kind(sound) is None and sound.get("model") not in ("sb16", "pcspk", "usb"):
            addrs.reserve_next(sound, flags)

    for pos, ctl in enumerate(ctls):
        ctype = ctl.get("type")
        if ctype in ("pci", "fdc", "ccid") or (ctype == "usb" and model_of(ctl) == "none"):
            continue
        if ctype == "ide" and devices.index(ctl) == 0:
            continue
        if kind(ctl) is not None:
            continue
        if _is_usb2(ctl):
            _usb2_companion(addrs, ctls, pos, flags)
        else:
            addrs.reserve_next(ctl, flags)

    for disk in devices.disks(ctx):
        target = child(disk, "target")
        if target is None or target.get("bus") != "virtio":
            continue
        atype = kind(disk)
        if atype in ("pci", "virtio-s390", "ccw"):
            continue
        if atype is not None:
            raise addrs.error(disk, f"a virtio disk takes a PCI address, not {atype!r}", "pci-fixed")
        addrs.reserve_next(disk, flags)

    for hd in devices.hostdevs(ctx):
        if kind(hd) is None and devices.is_subsystem(hd) and devices.subsys_type(hd) == "pci":
            addrs.reserve_next(hd, flags)

    balloon = devices.first(ctx, "memballoon")
    if balloon is not None and balloon.get("model") == "virtio" and kind(balloon) is None:
        addrs.reserve_next(balloon, flags)
    for rng in devices.tagged(ctx, "rng"):
        if rng.get("model") == "virtio" and kind(rng) is None:
            addrs.reserve_next(rng, flags)
    watchdog = devices.first(ctx, "watchdog")
    if watchdog is not None and watchdog.get("model") != "ib700" and kind(watchdog) is None:
        addrs.reserve_next(watchdog, flags)

    videos = devices.videos(ctx)
    if videos and kind(videos[0]) is None:
        addrs.reserve_next(videos[0], flags)
    for video in videos[1:]:
        model = child(video, "model")
        if model is None or model.get("type") != "qxl":
            raise addrs.error(video, "only qxl can be a secondary video card", "pci-fixed")
        if kind(video) is None:
            addrs.reserve_next(video, flags)


def _usb2_companion(addrs: PCIAddressSet, ctls: list[Element], pos: int, flags: int) -> None:
    """EHCI and its UHCI companions share one slot, each on its own function."""
    ctl = ctls[pos]
    base = PCIAddr()
    for other in ctls[:pos]:
        if _is_usb2(other) and devices.index(other) == devices.index(ctl):
            base = pci_of(other) or PCIAddr()
            break
    model = model_of(ctl) or ""
    addr = replace(base, function=USB2_COMPANIONS[model])
    if model == "ich9-uhci1":
        addr = replace(addr, multi="on")
    if addr.slot == 0:
        found = addrs.next_slot(flags, ctl)
        addr = replace(addr, bus=found.bus, slot=found.slot)
        addrs.last = replace(addr, function=0, multi=None)
    addrs.reserve(addr, flags, False, False, ctl)
    set_pci(ctl, addr)


def _supports_pci(ctx: Ctx) -> bool:
    return ctx.arch not in ("armv7l", "aarch64") or ctx.machine == "versatilepb"


def _add_bridge(ctx: Ctx, index: int, model: str) -> bool:
    """Add a PCI controller libvirt needs for bus index, unless one exists; True when added."""
    if devices.controller(ctx, "pci", index) is not None:
        return False
    el = etree.SubElement(ctx.devices, "controller", {"type": "pci", "index": str(index), "model": model})
    el.sourceline = ctx.devices.sourceline
    ctx.implied.add(el)
    devices.forget(ctx)
    return True


def assign_pci(ctx: Ctx) -> None:
    """PCI slots for everything that needs one; PCI bridges when bus 0 is full."""
    pci_ctls = [c for c in devices.controllers(ctx) if c.get("type") == "pci"]
    max_idx = max((devices.index(c) for c in pci_ctls), default=-1)
    if max_idx > PCI_BUS_LAST:
        # Only the rules should let this through; buses would be made up to it.
        last = max(pci_ctls, key=lambda c: devices.index(c))
        raise Unassignable(ctx.path, last, "pci-range",
                           f"PCI controller index {max_idx}: a PCI domain has buses 0 to {PCI_BUS_LAST} only")
    nbuses = max_idx + 1
    if nbuses > 0 and ctx.has("pci-bridge"):
        # A dry run first, to learn how many buses the devices need.
        dry = _address_set(ctx, nbuses, True)
        _assign_slots(ctx, dry)
        dry.reserve_next(ctx.devices, PCI)  # room for one more bridge
        i = 1
        while i < len(dry.buses):
            if _add_bridge(ctx, i, dry.buses[i].model):
                dry.reserve_next(ctx.devices, PCI)
            i += 1
        nbuses = len(dry.buses)
    elif max_idx > 0:
        raise Unassignable(ctx.path, pci_ctls[-1], "pci-controller", "this QEMU has no PCI bridges")
    addrs = _address_set(ctx, nbuses, False)
    if _supports_pci(ctx):
        _assign_slots(ctx, addrs)


