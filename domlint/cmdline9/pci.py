"""libvirt 9.0's automatic PCI addresses (qemuDomainAssignPCIAddresses, conf/domain_addr.c).

A device's connect flags say which buses it may sit on (conventional PCI or
PCI Express, which controller types); a bus's flags say what it accepts.
A first "dry run" pass finds how many buses the devices need and which
controllers must be added for them (pcie-root-ports, pci-bridges, a
dmi-to-pci-bridge or pcie-to-pci-bridge...); the second pass gives out
the addresses. Addresses are written into the domain as <address type='pci'>.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from ..cmdline.context import Ctx
from ..errors import InputError
from . import address as A

Element = etree._Element

# Connect flags (virDomainPCIConnectFlags).
AUTOASSIGN = 1 << 0
HOTPLUGGABLE = 1 << 1
INTEGRATED = 1 << 2
AGGREGATE_SLOT = 1 << 3
PCI_DEVICE = 1 << 4
PCIE_DEVICE = 1 << 5
PCIE_ROOT_PORT = 1 << 6
PCIE_SWITCH_UPSTREAM_PORT = 1 << 7
PCIE_SWITCH_DOWNSTREAM_PORT = 1 << 8
DMI_TO_PCI_BRIDGE = 1 << 9
PCI_EXPANDER_BUS = 1 << 10
PCIE_EXPANDER_BUS = 1 << 11
PCI_BRIDGE = 1 << 12
PCIE_TO_PCI_BRIDGE = 1 << 13
TYPES_MASK = (PCI_DEVICE | PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT | PCIE_SWITCH_DOWNSTREAM_PORT | PCIE_ROOT_PORT
              | DMI_TO_PCI_BRIDGE | PCI_EXPANDER_BUS | PCIE_EXPANDER_BUS | PCI_BRIDGE | PCIE_TO_PCI_BRIDGE)
ENDPOINT = PCI_DEVICE | PCIE_DEVICE
SLOT_LAST = 31

# What a PCI controller model plugs in as (virDomainPCIControllerModelToConnectType).
CONTROLLER_CONNECT = {
    "pci-bridge": PCI_BRIDGE, "pci-expander-bus": PCI_EXPANDER_BUS, "pcie-expander-bus": PCIE_EXPANDER_BUS,
    "dmi-to-pci-bridge": DMI_TO_PCI_BRIDGE, "pcie-to-pci-bridge": PCIE_TO_PCI_BRIDGE,
    "pcie-root-port": PCIE_ROOT_PORT | AGGREGATE_SLOT, "pcie-switch-upstream-port": PCIE_SWITCH_UPSTREAM_PORT,
    "pcie-switch-downstream-port": PCIE_SWITCH_DOWNSTREAM_PORT,
}

# What each bus model accepts downstream: flags, whether hotplug applies, first and last slot.
BUS_MODELS: dict[str, tuple[int, bool, int, int]] = {
    "pci-root": (AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | PCI_EXPANDER_BUS, True, 1, SLOT_LAST),
    "pci-bridge": (AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE, True, 1, SLOT_LAST),
    "pci-expander-bus": (AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE, True, 0, SLOT_LAST),
    "pcie-root": (PCIE_DEVICE | PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE | PCIE_EXPANDER_BUS, False, 1, SLOT_LAST),
    "dmi-to-pci-bridge": (PCI_DEVICE | PCI_BRIDGE, False, 0, SLOT_LAST),
    "pcie-to-pci-bridge": (AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE, True, 1, SLOT_LAST),
    "pcie-root-port": (AUTOASSIGN | PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT | PCIE_TO_PCI_BRIDGE, True, 0, 0),
    "pcie-switch-downstream-port": (AUTOASSIGN | PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT | PCIE_TO_PCI_BRIDGE,
                                    True, 0, 0),
    "pcie-switch-upstream-port": (PCIE_SWITCH_DOWNSTREAM_PORT, False, 0, SLOT_LAST),
    "pcie-expander-bus": (PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE, False, 0, SLOT_LAST),
}

USB2_FUNCTIONS = {"ich9-ehci1": (7, None), "ich9-uhci1": (0, "on"), "ich9-uhci2": (1, None), "ich9-uhci3": (2, None)}


class PCIError(InputError):
    """An address libvirt could not give out or accept."""


@dataclass
class Addr:
    """A PCI address being worked on (mutable, like libvirt's struct)."""

    domain: int = 0
    bus: int = 0
    slot: int = 0
    function: int = 0
    multi: str | None = None

    def __str__(self) -> str:
        return f"{self.domain:04x}:{self.bus:02x}:{self.slot:02x}.{self.function:x}"


@dataclass
class Bus:
    """One PCI bus of the address set."""

    model: str | None = None
    flags: int = 0
    min_slot: int = 0
    max_slot: int = SLOT_LAST
    functions: list[int] = field(default_factory=lambda: [0] * (SLOT_LAST + 1))
    aggregate: list[bool] = field(default_factory=lambda: [False] * (SLOT_LAST + 1))
    iso: int = 0
    iso_locked: bool = False

    def set_model(self, model: str, hotplug: bool) -> None:
        """The bus's flags and slots for a controller model (virDomainPCIAddressBusSetModel)."""
        flags, hp, lo, hi = BUS_MODELS[model]
        self.flags = flags | (HOTPLUGGABLE if hp and hotplug else 0)
        self.min_slot, self.max_slot, self.model = lo, hi, model

    def empty(self) -> bool:
        """No function of any slot reserved."""
        return not any(self.functions[s] for s in range(self.min_slot, self.max_slot + 1))

    def full(self) -> bool:
        """Every slot has some function reserved."""
        return all(self.functions[s] for s in range(self.min_slot, self.max_slot + 1))


@dataclass
class Dev:
    """What address assignment knows of one device: its element (None for a placeholder) and flags."""

    el: Element | None
    flags: int
    iso: int = 0


@dataclass
class AddrSet:
    """The buses and their reserved slots (virDomainPCIAddressSet)."""

    ctx: Ctx
    buses: list[Bus]
    dry_run: bool
    multi_roots: bool = False
    pcie_to_pci_bridge: bool = False

    def fail(self, message: str, el: Element | None = None) -> PCIError:
        """An error naming the device's line."""
        return PCIError(self.ctx.path, el.sourceline if el is not None else None, message)

    # ----------------------------------------------------------------- checks

    def compatible(self, addr: Addr, bus_flags: int, dev_flags: int, from_config: bool) -> str | None:
        """None when a device with dev_flags may sit at addr on a bus with bus_flags, else why not."""
        if dev_flags & INTEGRATED:
            if addr.bus != 0:
                return f"The device at PCI address {addr} needs to be an integrated device (bus=0)"
            bus_flags |= AUTOASSIGN
        if from_config:
            if bus_flags & ENDPOINT:
                bus_flags |= ENDPOINT
            if dev_flags & PCI_BRIDGE:
                dev_flags |= PCI_DEVICE
        elif dev_flags & AUTOASSIGN and not bus_flags & AUTOASSIGN:
            return (f"The device at PCI address {addr} was auto-assigned this address, but the PCI controller "
                    f"with index='{addr.bus}' doesn't allow auto-assignment")
        if dev_flags & HOTPLUGGABLE and not bus_flags & HOTPLUGGABLE:
            return (f"The device at PCI address {addr} requires hotplug capability, but the PCI controller "
                    f"with index='{addr.bus}' doesn't support hotplug")
        if not dev_flags & bus_flags & TYPES_MASK:
            return (f"The device at PCI address {addr} cannot be plugged into the PCI controller "
                    f"with index='{addr.bus}'")
        return None

    def validate(self, addr: Addr, flags: int, from_config: bool, el: Element | None) -> None:
        """Raise unless addr exists, fits the device and is in the bus's slot range."""
        if not self.buses:
            raise self.fail("No PCI buses available", el)
        if addr.domain != 0:
            raise self.fail(f"Invalid PCI address {addr}. Only PCI domain 0 is available", el)
        if addr.bus >= len(self.buses):
            raise self.fail(f"Invalid PCI address {addr}. Only PCI buses up to {len(self.buses) - 1} "
                            "are available", el)
        bus = self.buses[addr.bus]
        why = self.compatible(addr, bus.flags, flags, from_config)
        if why:
            raise self.fail(why, el)
        if bus.min_slot and addr.slot < bus.min_slot:
            raise self.fail(f"Invalid PCI address {addr}. slot must be >= {bus.min_slot}", el)
        if addr.slot > bus.max_slot:
            raise self.fail(f"Invalid PCI address {addr}. slot must be <= {bus.max_slot}", el)
        if addr.function > 7:
            raise self.fail(f"Invalid PCI address {addr}. function must be <= 7", el)

    # ----------------------------------------------------------------- growing

    def grow(self, addr: Addr, flags: int, el: Element | None) -> None:
        """Add buses (dry run only) so that addr.bus exists, choosing the controllers that provide them."""
        add = addr.bus - len(self.buses) + 1
        if add <= 0:
            return
        need_dmi = need_pcie_bridge = False
        if flags & PCI_DEVICE:
            if self.multi_roots:
                model = "pci-root"
            else:
                model = "pci-bridge"
                # A pure PCIe topology has nowhere to plug a pci-bridge: add a way in first.
                have_bridge_slot = any(b.flags & PCI_BRIDGE for b in self.buses)
                need_dmi = not have_bridge_slot and not self.pcie_to_pci_bridge
                need_pcie_bridge = not have_bridge_slot and self.pcie_to_pci_bridge
                if (need_dmi or need_pcie_bridge) and add == 1:
                    add += 1
                    addr.bus += 1
        elif flags & (PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT):
            model = "pcie-root-port"
        else:
            # A controller that needs a slot itself cannot be auto-added a bus (virDomainPCIControllerConnectTypeToModel).
            order = ("pcie-root-port", "pcie-switch-upstream-port", "pcie-switch-downstream-port",
                     "dmi-to-pci-bridge", "pci-expander-bus", "pcie-expander-bus", "pci-bridge")
            existing = next((m for m in order if flags & CONTROLLER_CONNECT[m] & TYPES_MASK), None)
            if existing is not None:
                raise self.fail(f"a PCI slot is needed to connect a PCI controller model='{existing}', but none "
                                "is available, and it cannot be automatically added", el)
            raise self.fail(f"Cannot automatically add a new PCI bus for a device with connect flags {flags:02x}", el)
        new = [Bus() for _ in range(add)]
        i = 0
        if need_dmi:
            new[i].set_model("dmi-to-pci-bridge", False)
            i += 1
        if need_pcie_bridge:
            new[i].set_model("pcie-root-port", True)
            # Only the pcie-to-pci-bridge may use this port, not the spare hotplug device.
            new[i].flags = PCIE_TO_PCI_BRIDGE
            i += 1
            new[i].set_model("pcie-to-pci-bridge", True)
            i += 1
        for b in new[i:]:
            b.set_model(model, True)
        self.buses.extend(new)

    # ----------------------------------------------------------------- reserving

    def in_use(self, addr: Addr) -> bool:
        """Whether any function of addr's slot is reserved."""
        return bool(self.buses[addr.bus].functions[addr.slot])

    def reserve(self, addr: Addr, flags: int, iso: int, from_config: bool, el: Element | None) -> None:
        """Reserve one function (virDomainPCIAddressReserveAddrInternal)."""
        if self.dry_run:
            self.grow(addr, flags, el)
        self.validate(addr, flags, from_config, el)
        bus = self.buses[addr.bus]
        if bus.functions[addr.slot] & (1 << addr.function):
            raise self.fail(f"Attempted double use of PCI Address {addr}", el)
        if not bus.functions[addr.slot] and flags & AGGREGATE_SLOT:
            bus.aggregate[addr.slot] = True
        if bus.empty() and not bus.iso_locked:
            bus.iso = iso
        elif bus.iso != iso and from_config:
            bus.iso = 0
        bus.functions[addr.slot] |= 1 << addr.function

    def _find_on_bus(self, bus: Bus, a: Addr, function: int, flags: int) -> bool:
        if self.compatible(a, bus.flags, flags, False) is not None:
            return False
        while a.slot <= bus.max_slot:
            if bus.functions[a.slot] == 0:
                return True
            if flags & AGGREGATE_SLOT and bus.aggregate[a.slot]:
                if not bus.functions[a.slot] & (1 << a.function):
                    return True
                if function == -1:
                    while a.function < 8:
                        if not bus.functions[a.slot] & (1 << a.function):
                            return True
                        a.function += 1
                    a.function = 0
            a.slot += 1
        return False

    def next_addr(self, flags: int, iso: int, function: int, el: Element | None) -> Addr:
        """The first free slot a device fits (virDomainPCIAddressGetNextAddr); grows the set in a dry run."""
        if not self.buses:
            raise self.fail("No PCI buses available", el)
        a = Addr(function=0 if function == -1 else function)
        for strict in (True, False):
            for idx, bus in enumerate(self.buses):
                if strict and bus.iso != iso:
                    continue
                if not strict and (not bus.empty() or bus.iso_locked):
                    continue
                a.bus, a.slot = idx, bus.min_slot
                if self._find_on_bus(bus, a, function, flags):
                    return a
        if self.dry_run:
            a.bus = len(self.buses)
            self.grow(a, flags, el)
            a.slot = self.buses[a.bus].min_slot
            return a
        raise self.fail("No more available PCI slots", el)

    def reserve_next(self, dev: Dev, function: int = -1, flags: int | None = None) -> Addr:
        """Reserve the next free slot for a device and, outside a dry run, give it the address."""
        use = dev.flags if flags is None else flags
        a = self.next_addr(use, dev.iso, function, dev.el)
        self.reserve(a, use, dev.iso, False, dev.el)
        if not self.dry_run and dev.el is not None:
            A.set_pci(dev.el, A.PCIAddr(a.domain, a.bus, a.slot, a.function, a.multi))
        return a


# --------------------------------------------------------------------------- connect flags


def _model(el: Element, child: str | None = None, attr: str = "model") -> str | None:
    node = el.find(child) if child else el
    return node.get(attr) if node is not None else None


def _virtio(model: str | None, pci: int, virtio: int) -> int:
    """Transitional virtio devices only work in conventional PCI slots."""
    return pci if model == "virtio-transitional" else virtio


def host_pci_address(hd: Element) -> str | None:
    """The host PCI address a host device names, as 0000:00:00.0, or None."""
    src = hd.find("source/address")
    if src is None:
        return None
    return (f"{A.num(src, 'domain'):04x}:{A.num(src, 'bus'):02x}:"
            f"{A.num(src, 'slot'):02x}.{A.num(src, 'function'):x}")


def host_pci_device(ctx: Ctx, hd: Element) -> dict | None:
    """What the host profile says of the PCI device behind a host device (`pci_devices`), or None."""
    key = host_pci_address(hd)
    devices = ctx.host.raw.get("pci_devices") or {}
    found = devices.get(key) if key else None
    return found if isinstance(found, dict) else None


def host_is_pcie(ctx: Ctx, hd: Element) -> bool:
    """Whether the host PCI device behind a <hostdev> is PCI Express (libvirt assumes so for unknown ones)."""
    found = host_pci_device(ctx, hd)
    return found is None or bool(found.get("express", True))


def _controller_flags(ctl: Element, pci: int, pcie: int, virtio: int) -> int:
    ctype, model = ctl.get("type"), ctl.get("model")
    if ctype == "pci":
        return CONTROLLER_CONNECT.get(model or "", 0)
    if ctype in ("sata", "ide"):
        return pci
    if ctype == "usb":
        if model in ("nec-xhci", "qemu-xhci"):
            return pcie
        return 0 if model in ("none", "qusb1", "qusb2") else pci
    if ctype == "scsi":
        if model in (None, "ncr53c90"):
            return 0
        return virtio if model in ("virtio-scsi", "virtio-non-transitional") else pci
    if ctype == "virtio-serial":
        return pci if model == "virtio-transitional" else virtio
    return 0


def _hostdev_flags(ctx: Ctx, hd: Element, pci: int, pcie: int, virtio: int) -> int:
    if hd.tag == "interface":
        src = hd.find("source/address")
        stype, mode = (src.get("type", "pci") if src is not None else "pci"), "subsystem"
    else:
        stype, mode = hd.get("type"), hd.get("mode", "subsystem")
    if stype != "mdev" and (mode != "subsystem" or stype not in ("pci", "scsi_host")):
        return 0
    if pci == pcie:
        return pci
    if A.pci_present(hd):
        return pcie
    if stype == "mdev":
        return pcie
    if stype == "scsi_host":
        return _virtio(hd.get("model"), pci, virtio)
    return pcie if host_is_pcie(ctx, hd) else pci


def connect_flags(ctx: Ctx, kind: str, el: Element, pcie: int, virtio: int) -> int:
    """How a device connects to PCI (qemuDomainDeviceCalculatePCIConnectFlags); 0: not a PCI device."""
    pci = PCI_DEVICE | AUTOASSIGN
    if kind == "controller":
        return _controller_flags(el, pci, pcie, virtio)
    if kind == "filesystem":
        driver = _model(el, "driver", "type")
        if driver in (None, "path", "handle"):
            return _virtio(el.get("model"), pci, virtio)
        return virtio if driver == "virtiofs" else 0
    if kind == "net":
        if el.get("type") == "hostdev":
            return 0
        model = _model(el, "model", "type")
        if model == "usb-net":
            return 0
        if model in ("virtio", "virtio-non-transitional"):
            return virtio
        if model == "virtio-transitional":
            return pci
        if model == "e1000e" or model is None:
            return pcie
        return pci
    if kind == "sound":
        return pci if el.get("model") in ("es1370", "ac97", "ich6", "ich9") else 0
    if kind == "disk":
        target = el.find("target")
        if target is None or target.get("bus") != "virtio":
            return 0
        return _virtio(el.get("model"), pci, virtio)
    if kind == "hostdev":
        return _hostdev_flags(ctx, el, pci, pcie, virtio)
    if kind == "memballoon":
        model = el.get("model")
        if model == "virtio-transitional":
            return pci
        return virtio if model in ("virtio", "virtio-non-transitional") else 0
    if kind in ("rng", "vsock"):
        return _virtio(el.get("model"), pci, virtio)
    if kind == "watchdog":
        return pci if el.get("model") == "i6300esb" else 0
    if kind == "video":
        vtype = _model(el, "model", "type")
        if vtype == "virtio":
            return virtio
        if vtype in ("vga", "cirrus", "vmvga", "xen", "vbox", "qxl", "parallels"):
            return pci
        return pcie if vtype == "bochs" else 0
    if kind == "shmem":
        return pci
    if kind == "input":
        return _virtio(el.get("model"), pci, virtio) if el.get("bus") == "virtio" else 0
    if kind == "serial":
        return pci if _model(el, "target", "type") == "pci-serial" else 0
    if kind == "iommu":
        return virtio | INTEGRATED if el.get("model") == "virtio" else 0
    if kind == "memory":
        return virtio if el.get("model") in ("virtio-pmem", "virtio-mem") else 0
    return 0


# --------------------------------------------------------------------------- assignment


@dataclass
class Plan:
    """The per-device flags and isolation groups of one assignment."""

    ctx: Ctx
    flags: dict[Element, int] = field(default_factory=dict)
    iso: dict[Element, int] = field(default_factory=dict)
    pcie_flags: int = 0
    virtio_flags: int = 0

    def dev(self, el: Element) -> Dev:
        """The assignment's view of one device."""
        return Dev(el, self.flags.get(el, 0), self.iso.get(el, 0))


def has_root(ctx: Ctx, model: str) -> bool:
    """Whether PCI controller 0 is of this model (qemuDomainHasPCIRoot / HasPCIeRoot)."""
    ctl = A.controller(ctx, "pci", 0)
    return ctl is not None and ctl.get("model") == model


def supports_pci(ctx: Ctx) -> bool:
    """qemuDomainSupportsPCI: every arch but ARM/RISC-V, where only versatilepb and virt with GPEX have PCI."""
    if ctx.arch not in ("armv6l", "armv7l", "aarch64", "riscv32", "riscv64"):
        return True
    if ctx.machine == "versatilepb":
        return True
    return (A.is_arm_virt(ctx) or A.is_riscv_virt(ctx)) and ctx.has("gpex-pcihost")


def _plan(ctx: Ctx) -> Plan:
    plan = Plan(ctx)
    plan.pcie_flags = (PCIE_DEVICE if has_root(ctx, "pcie-root") else PCI_DEVICE) | AUTOASSIGN
    plan.virtio_flags = plan.pcie_flags if ctx.has("virtio-pci-non-transitional") else PCI_DEVICE | AUTOASSIGN
    for kind, el in A.all_devices(ctx):
        plan.flags[el] = connect_flags(ctx, kind, el, plan.pcie_flags, plan.virtio_flags)
    _isolation(ctx, plan)
    return plan


def _isolation(ctx: Ctx, plan: Plan) -> None:
    """pSeries: host devices get their IOMMU group (+1) as isolation group, so each lands on its own PHB."""
    if not A.is_pseries(ctx):
        return
    for hd in A.hostdevs(ctx):
        if hd.tag == "hostdev" and (hd.get("mode", "subsystem") != "subsystem" or hd.get("type") != "pci"):
            continue
        found = host_pci_device(ctx, hd)
        # Without an IOMMU group (no such device) libvirt leaves the device unisolated.
        if found is not None and found.get("iommu_group") is not None:
            plan.iso[hd] = int(found["iommu_group"]) + 1


def _pci_controllers(ctx: Ctx) -> list[Element]:
    return [c for c in A.controllers(ctx) if c.get("type") == "pci"]


def _hotplug(ctl: Element) -> bool:
    target = ctl.find("target")
    return target is None or target.get("hotplug") != "off"


def _create(ctx: Ctx, plan: Plan, nbuses: int, dry_run: bool) -> AddrSet:
    """The address set: one bus per PCI controller index, then every address the domain already names."""
    addrs = AddrSet(ctx, [Bus() for _ in range(nbuses)], dry_run, multi_roots=A.is_pseries(ctx),
                    pcie_to_pci_bridge=ctx.has("pcie-pci-bridge"))
    has_pcie_root = False
    for ctl in _pci_controllers(ctx):
        idx = A.index(ctl)
        if idx >= nbuses:
            raise addrs.fail(f"Inappropriate new pci controller index {idx} exceeds addrs array length", ctl)
        model = ctl.get("model")
        if model not in BUS_MODELS:
            raise addrs.fail("PCI controller model was not set correctly", ctl)
        addrs.buses[idx].set_model(model, _hotplug(ctl))
        # The implicit PHB of a pSeries guest takes no host devices.
        addrs.buses[idx].iso_locked = A.is_pseries(ctx) and idx == 0
        has_pcie_root = has_pcie_root or model == "pcie-root"
    if nbuses > 0 and addrs.buses[0].model is None:
        addrs.buses[0].set_model("pci-root", True)
    default = "pci-root" if A.is_pseries(ctx) else "pcie-root-port" if has_pcie_root else "pci-bridge"
    for bus in addrs.buses[1:]:
        if bus.model is None:
            bus.set_model(default, True)
    _collect(ctx, plan, addrs)
    return addrs


def _collect(ctx: Ctx, plan: Plan, addrs: AddrSet) -> None:
    """Reserve every PCI address the domain names (qemuDomainCollectPCIAddress)."""
    seen: set[Element] = set()
    for kind, el in A.all_devices(ctx):
        if not A.pci_present(el) or el in seen or (kind == "hostdev" and el.tag == "interface"):
            continue
        seen.add(el)
        p = A.pci_of(el)
        assert p is not None
        flags = plan.flags.get(el, 0) or PCI_DEVICE
        plan.flags[el] = flags
        if kind == "controller" and p.domain == 0 and p.bus == 0 and p.slot == 1:
            ctype, idx, model = el.get("type"), A.index(el), el.get("model")
            # The PIIX3's own IDE (fn 1) and USB (fn 2): reserved with the chipset.
            if (ctype == "ide" and idx == 0 and p.function == 1) or \
                    (ctype == "usb" and idx == 0 and model in (None, "piix3-uhci") and p.function == 2):
                if addrs.buses and not addrs.buses[0].flags & PCI_DEVICE:
                    raise addrs.fail("Bus 0 must be PCI for integrated PIIX3 USB or IDE controllers", el)
                continue
        a = Addr(p.domain, p.bus, p.slot, p.function, p.multi)
        before = a.bus
        addrs.reserve(a, flags, plan.iso.get(el, 0), True, el)
        if a.bus != before:
            A.set_pci(el, A.PCIAddr(a.domain, a.bus, a.slot, a.function, a.multi))


def _chipset_piix3(ctx: Ctx, plan: Plan, addrs: AddrSet) -> None:
    flags = AUTOASSIGN | PCI_DEVICE
    for ctl in A.controllers(ctx):
        ctype, idx, model = ctl.get("type"), A.index(ctl), ctl.get("model")
        if ctype == "ide" and idx == 0:
            want, what = Addr(0, 0, 1, 1), "Primary IDE controller must have PCI address 0:0:1.1"
        elif ctype == "usb" and idx == 0 and model in (None, "piix3-uhci"):
            want, what = Addr(0, 0, 1, 2), "PIIX3 USB controller at index 0 must have PCI address 0:0:1.2"
        else:
            continue
        if A.pci_present(ctl):
            p = A.pci_of(ctl)
            assert p is not None
            if (p.domain, p.bus, p.slot, p.function) != (0, 0, want.slot, want.function):
                raise addrs.fail(what, ctl)
        else:
            A.set_pci(ctl, A.PCIAddr(0, 0, want.slot, want.function))
        if addrs.buses:
            addrs.reserve(Addr(0, 0, want.slot, want.function), flags, 0, True, ctl)
    if addrs.buses:
        addrs.reserve(Addr(0, 0, 1, 0), flags, 0, True, None)
        addrs.reserve(Addr(0, 0, 1, 3), flags, 0, True, None)
    _primary_video(ctx, plan, addrs, 2, flags)


def _primary_video(ctx: Ctx, plan: Plan, addrs: AddrSet, slot: int, flags: int) -> None:
    """The first video goes to the slot QEMU would give the first VGA, when that slot is free."""
    vids = A.videos(ctx)
    if not vids:
        return
    video = vids[0]
    vtype = _model(video, "model", "type")
    if vtype in ("none", "ramfb") or not A.pci_wanted(video):
        return
    want = Addr(0, 0, slot, 0)
    addrs.validate(want, flags, True, video)
    if addrs.in_use(want):
        addrs.reserve_next(plan.dev(video))
    else:
        addrs.reserve(want, flags, 0, True, video)
        A.set_pci(video, A.PCIAddr(0, 0, slot, 0))


def _chipset_q35(ctx: Ctx, plan: Plan, addrs: AddrSet) -> None:
    flags = PCIE_DEVICE
    for ctl in A.controllers(ctx):
        ctype, model = ctl.get("type"), ctl.get("model")
        if ctype == "sata" and A.index(ctl) == 0:
            if A.pci_present(ctl):
                p = A.pci_of(ctl)
                assert p is not None
                if (p.domain, p.bus, p.slot, p.function) != (0, 0, 0x1F, 2):
                    raise addrs.fail("Primary SATA controller must have PCI address 0:0:1f.2", ctl)
            else:
                A.set_pci(ctl, A.PCIAddr(0, 0, 0x1F, 2))
        elif ctype == "usb" and model == "ich9-uhci1" and ctl.find("address") is None:
            # Real Q35 boards have their USB2 controllers at 00:1D.0, then 00:1A.0.
            for slot in (0x1D, 0x1A):
                if not addrs.in_use(Addr(0, 0, slot)):
                    addrs.reserve(Addr(0, 0, slot, 0), flags, 0, True, ctl)
                    A.set_pci(ctl, A.PCIAddr(0, 0, slot, 0, "on"))
                    break
        elif ctype == "pci" and model == "dmi-to-pci-bridge" and ctl.find("address") is None and \
                not addrs.in_use(Addr(0, 0, 0x1E)):
            addrs.reserve(Addr(0, 0, 0x1E, 0), flags, 0, True, ctl)
            A.set_pci(ctl, A.PCIAddr(0, 0, 0x1E, 0))
    if addrs.buses:
        # The ISA bridge (1F.0) and SMBus (1F.3) every Q35 machine has.
        addrs.reserve(Addr(0, 0, 0x1F, 0, "on"), flags, 0, True, None)
        addrs.reserve(Addr(0, 0, 0x1F, 3), flags, 0, True, None)
    _primary_video(ctx, plan, addrs, 1, flags)
    if not addrs.in_use(Addr(0, 0, 0x1B)):
        # The ICH9's HD audio lives at 00:1B.0 on real hardware.
        for sound in ctx.devices.iterfind("sound"):
            if sound.get("model") != "ich9" or not A.pci_wanted(sound):
                continue
            addrs.reserve(Addr(0, 0, 0x1B, 0), flags, 0, True, sound)
            A.set_pci(sound, A.PCIAddr(0, 0, 0x1B, 0))
            break


def _chipsets(ctx: Ctx, plan: Plan, addrs: AddrSet) -> None:
    if A.is_i440fx(ctx):
        _chipset_piix3(ctx, plan, addrs)
    if A.is_q35(ctx):
        _chipset_q35(ctx, plan, addrs)


def _next(addrs: AddrSet, plan: Plan, el: Element) -> None:
    addrs.reserve_next(plan.dev(el))


def _usb2_slot(ctx: Ctx, addrs: AddrSet, plan: Plan, ctl: Element) -> None:
    """USB2 companions share their EHCI's slot, each on its own function."""
    function, multi = USB2_FUNCTIONS[ctl.get("model", "")]
    found = None
    for other in A.controllers(ctx):
        if other.get("type") == "usb" and other.get("model") in USB2_FUNCTIONS and \
                A.index(other) == A.index(ctl) and A.pci_present(other):
            found = A.pci_of(other)
            break
    dev = plan.dev(ctl)
    if found is not None:
        a = Addr(found.domain, found.bus, found.slot, function, multi)
        addrs.reserve(a, dev.flags, dev.iso, True, ctl)
        A.set_pci(ctl, A.PCIAddr(a.domain, a.bus, a.slot, a.function, multi))
    else:
        a = addrs.reserve_next(dev, function)
        if not addrs.dry_run:
            A.set_pci(ctl, A.PCIAddr(a.domain, a.bus, a.slot, a.function, multi))


def _slot_controllers(ctx: Ctx, addrs: AddrSet, plan: Plan) -> None:
    for ctl in A.controllers(ctx):
        ctype, model = ctl.get("type"), ctl.get("model")
        if ctype == "pci" or (ctype == "usb" and model == "none") or ctype in ("fdc", "ccid"):
            continue
        if (ctype == "ide" and A.index(ctl) == 0) or (ctype == "scsi" and model == "ncr53c90"):
            continue
        if not A.pci_wanted(ctl):
            continue
        if ctype == "usb" and model in USB2_FUNCTIONS:
            _usb2_slot(ctx, addrs, plan, ctl)
        else:
            _next(addrs, plan, ctl)


def _hostdev_wanted(hd: Element) -> bool:
    if hd.tag == "interface":
        src = hd.find("source/address")
        return src is None or src.get("type", "pci") == "pci"
    if hd.get("mode", "subsystem") != "subsystem":
        return False
    stype = hd.get("type")
    if stype in ("pci", "scsi_host"):
        return True
    return stype == "mdev" and hd.get("model") == "vfio-pci"


def _slot_devices(ctx: Ctx, addrs: AddrSet, plan: Plan) -> None:
    """Every device without an address, in libvirt's fixed order (qemuDomainAssignDevicePCISlots)."""
    dev = ctx.devices
    for ctl in A.controllers(ctx):
        if ctl.get("type") == "pci" and ctl.get("model") not in ("pci-root", "pcie-root") and A.pci_wanted(ctl):
            _next(addrs, plan, ctl)
    for fs in dev.iterfind("filesystem"):
        if A.pci_wanted(fs):
            _next(addrs, plan, fs)
    for net in dev.iterfind("interface"):
        if net.get("type") != "hostdev" and A.pci_wanted(net):
            _next(addrs, plan, net)
    for sound in dev.iterfind("sound"):
        if A.pci_wanted(sound) and sound.get("model") not in ("sb16", "pcspk", "usb"):
            _next(addrs, plan, sound)
    _slot_controllers(ctx, addrs, plan)
    from ..cmdline import devices as dev128
    for disk in dev128.disks(ctx):
        target = disk.find("target")
        if target is None or target.get("bus") != "virtio":
            continue
        atype = A.address_type(disk)
        if A.pci_present(disk) or atype == "ccw" or (atype == "virtio-mmio" and ctx.has("virtio-mmio")):
            continue
        if not A.pci_wanted(disk):
            raise addrs.fail(f"virtio disk cannot have an address of type '{atype}'", disk)
        _next(addrs, plan, disk)
    for hd in A.hostdevs(ctx):
        if A.pci_wanted(hd) and _hostdev_wanted(hd) and A.address_type(hd) != "unassigned":
            _next(addrs, plan, hd)
    balloon = dev.find("memballoon")
    if balloon is not None and balloon.get("model") != "none" and A.pci_wanted(balloon):
        _next(addrs, plan, balloon)
    for rng in dev.iterfind("rng"):
        if A.pci_wanted(rng):
            _next(addrs, plan, rng)
    watchdog = dev.find("watchdog")
    if watchdog is not None and watchdog.get("model") == "i6300esb" and A.pci_wanted(watchdog):
        _next(addrs, plan, watchdog)
    for video in A.videos(ctx):
        if _model(video, "model", "type") not in ("none", "ramfb") and A.pci_wanted(video):
            _next(addrs, plan, video)
    for shmem in dev.iterfind("shmem"):
        if A.pci_wanted(shmem):
            _next(addrs, plan, shmem)
    for inp in dev.iterfind("input"):
        if inp.get("bus") == "virtio" and A.pci_wanted(inp):
            _next(addrs, plan, inp)
    for serial in dev.iterfind("serial"):
        if _model(serial, "target", "type") == "pci-serial" and A.pci_wanted(serial):
            _next(addrs, plan, serial)
    iommu = dev.find("iommu")
    if iommu is not None and iommu.get("model") == "virtio" and A.pci_wanted(iommu):
        _next(addrs, plan, iommu)
    vsock = dev.find("vsock")
    if vsock is not None and A.pci_wanted(vsock):
        _next(addrs, plan, vsock)
    for mem in dev.iterfind("memory"):
        if mem.get("model") in ("virtio-pmem", "virtio-mem") and A.pci_wanted(mem):
            _next(addrs, plan, mem)


AddController = Callable[[Ctx, str, int, str], Element]


def _dry_run(ctx: Ctx, plan: Plan, nbuses: int, max_idx: int, add_controller: AddController) -> int:
    """The first pass: find the buses the devices need and add their controllers; the bus count."""
    addrs = _create(ctx, plan, nbuses, True)
    _chipsets(ctx, plan, addrs)
    if has_root(ctx, "pci-root") and not all(b.full() for b in addrs.buses):
        # One spare conventional slot, so a bridge can be added later.
        addrs.reserve_next(Dev(None, AUTOASSIGN | PCI_DEVICE))
    _slot_devices(ctx, addrs, plan)
    if max_idx <= 0 and len(addrs.buses) > max_idx + 1 and has_root(ctx, "pcie-root"):
        # libvirt manages this guest's PCIe topology: leave one empty root port for hotplug.
        addrs.reserve_next(Dev(None, AUTOASSIGN | PCIE_DEVICE))
    i = 1
    while i < len(addrs.buses):
        bus = addrs.buses[i]
        if A.controller(ctx, "pci", i) is None:
            assert bus.model is not None
            ctl = add_controller(ctx, "pci", i, bus.model)
            plan.flags[ctl] = connect_flags(ctx, "controller", ctl, plan.pcie_flags, plan.virtio_flags)
            if bus.model not in ("pci-root", "pcie-root"):
                addrs.reserve_next(plan.dev(ctl))
        i += 1
    return len(addrs.buses)


def _new_target_index(ctx: Ctx) -> int:
    used = {A.num(c.find("target"), "index", -1, 10) for c in _pci_controllers(ctx)
            if c.get("model") == "pci-root" and c.find("target") is not None}
    return next((t for t in range(1, 32) if t not in used), -1)


def _new_bus_nr(ctx: Ctx) -> int:
    lowest = 256
    for ctl in _pci_controllers(ctx):
        nr = A.num(ctl.find("target"), "busNr", -1, 10)
        if 0 <= nr < lowest:
            lowest = nr
    return -1 if lowest <= 2 else lowest - 2


MODEL_NAMES = {"pci-bridge": "pci-bridge", "dmi-to-pci-bridge": "i82801b11-bridge",
               "pcie-to-pci-bridge": "pcie-pci-bridge", "pcie-switch-upstream-port": "x3130-upstream",
               "pcie-switch-downstream-port": "xio3130-downstream", "pci-expander-bus": "pxb",
               "pcie-expander-bus": "pxb-pcie"}


def _target(ctl: Element) -> Element:
    target = ctl.find("target")
    if target is None:
        target = etree.SubElement(ctl, "target")
        addr = ctl.find("address")
        if addr is not None:
            addr.addprevious(target)
    return target


def controller_options(ctx: Ctx) -> None:
    """Model names, chassis/port numbers, busNr and target indexes libvirt fills in for PCI controllers."""
    for ctl in _pci_controllers(ctx):
        model = ctl.get("model") or ""
        mname = ctl.find("model")
        if mname is None or not mname.get("name"):
            name = MODEL_NAMES.get(model)
            if model == "pcie-root-port":
                name = "pcie-root-port" if ctx.has("pcie-root-port") else "ioh3420"
            elif model == "pci-root" and A.is_pseries(ctx):
                name = "spapr-pci-host-bridge"
            if name:
                if mname is None:
                    mname = etree.Element("model")
                    ctl.insert(0, mname)
                mname.set("name", name)
        p = A.pci_of(ctl) or A.PCIAddr()
        idx = A.index(ctl)
        if model == "pci-bridge" and _target(ctl).get("chassisNr") is None:
            _target(ctl).set("chassisNr", str(idx))
        elif model in ("pcie-root-port", "pcie-switch-downstream-port"):
            target = _target(ctl)
            if target.get("chassis") is None:
                target.set("chassis", str(idx))
            if target.get("port") is None:
                port = (p.slot << 3) + p.function if model == "pcie-root-port" else p.slot
                target.set("port", f"0x{port:x}")
        elif model in ("pci-expander-bus", "pcie-expander-bus") and _target(ctl).get("busNr") is None:
            nr = _new_bus_nr(ctx)
            if nr == -1:
                raise PCIError(ctx.path, ctl.sourceline, "No free busNr lower than current lowest busNr is "
                               f"available to auto-assign to bus {p.bus}. Must be manually assigned")
            _target(ctl).set("busNr", str(nr))
        elif model == "pci-root" and A.is_pseries(ctx) and _target(ctl).get("index") is None:
            tidx = 0 if idx == 0 else _new_target_index(ctx)
            if tidx == -1:
                raise PCIError(ctx.path, ctl.sourceline, f"No usable target index found for {p.bus}")
            _target(ctl).set("index", str(tidx))
        if model == "pci-bridge" and idx <= p.bus:
            raise PCIError(ctx.path, ctl.sourceline, f"PCI controller at index {idx} (0x{idx:02x}) has "
                           f"bus='0x{p.bus:02x}', but index must be larger than bus")


def set_all_multi(ctx: Ctx) -> None:
    """multifunction='on' for function 0 of every slot with other functions in use (unless set)."""
    devs = [el for _, el in A.all_devices(ctx)]
    slots = set()
    for el in devs:
        p = A.pci_of(el)
        if p is not None and p.function != 0:
            slots.add((p.domain, p.bus, p.slot))
    for el in devs:
        p = A.pci_of(el)
        if p is not None and p.function == 0 and (p.domain, p.bus, p.slot) in slots:
            # Only the first device at function 0 counts; one set to 'off' stays off.
            if p.multi is None:
                el.find("address").set("multifunction", "on")
            slots.discard((p.domain, p.bus, p.slot))


def assign(ctx: Ctx, add_controller: AddController) -> None:
    """Give every PCI device an address and add the PCI controllers they need, in place."""
    idxs = [A.index(c) for c in _pci_controllers(ctx)]
    max_idx = max(idxs, default=-1)
    nbuses = max_idx + 1
    plan = _plan(ctx)
    if nbuses > 0:
        nbuses = _dry_run(ctx, plan, nbuses, max_idx, add_controller)
    addrs = _create(ctx, plan, nbuses, False)
    if not supports_pci(ctx):
        return
    _chipsets(ctx, plan, addrs)
    _slot_devices(ctx, addrs, plan)
    zpci(ctx)
    set_all_multi(ctx)
    controller_options(ctx)


# --------------------------------------------------------------------------- zPCI (s390)

ZPCI_MAX_UID = 0xFFFF
ZPCI_MAX_FID = 0xFFFFFFFF


def _zpci_ids(el: Element) -> tuple[int | None, int | None]:
    zpci = el.find("address/zpci")
    if zpci is None:
        return None, None
    uid = A.num(zpci, "uid", -1) if zpci.get("uid") is not None else None
    fid = A.num(zpci, "fid", -1) if zpci.get("fid") is not None else None
    return uid, fid


def _zpci_set(el: Element, uid: int, fid: int) -> None:
    addr = el.find("address")
    zpci = addr.find("zpci")
    if zpci is None:
        zpci = etree.SubElement(addr, "zpci")
    zpci.set("uid", f"0x{uid:04x}")
    zpci.set("fid", f"0x{fid:08x}")


def zpci(ctx: Ctx) -> None:
    """s390 PCI devices' zPCI uid (from 1) and fid (from 0): given ones kept, missing ones the lowest free."""
    if not ctx.has("zpci"):
        return
    devs = [el for kind, el in A.all_devices(ctx) if kind not in ("serial", "parallel", "channel", "console")
            and A.address_type(el) == "pci"]
    uids: set[int] = set()
    fids: set[int] = set()

    def ensure(el: Element, uid: int | None, fid: int | None) -> None:
        if uid is None:
            uid = next((u for u in range(1, ZPCI_MAX_UID + 1) if u not in uids), None)
            if uid is None:
                raise PCIError(ctx.path, el.sourceline, "There is no more free uid.")
        if fid is None:
            fid = 0
            while fid in fids:
                if fid == ZPCI_MAX_FID:
                    raise PCIError(ctx.path, el.sourceline, "There is no more free fid.")
                fid += 1
        if uid in uids or fid in fids:
            what, value = ("uid", uid) if uid in uids else ("fid", fid)
            raise PCIError(ctx.path, el.sourceline, f"zPCI {what} {value:o} is already reserved")
        uids.add(uid)
        fids.add(fid)
        _zpci_set(el, uid, fid)

    for el in devs:
        uid, fid = _zpci_ids(el)
        if uid is not None or fid is not None:
            ensure(el, uid, fid)
    for el in devs:
        uid, fid = _zpci_ids(el)
        if uid is None or fid is None:
            ensure(el, uid, fid)
