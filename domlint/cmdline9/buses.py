"""libvirt 9.0's automatic addresses on the buses other than PCI (qemu_domain_address.c, conf/domain_addr.c).

virtio-serial ports, spapr-vio registers, s390 ccw device numbers, the
virtio-mmio choice on ARM and RISC-V, USB ports (adding hubs when the
controllers run out of ports) and memory slots. Each writes <address>
elements into the domain.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from ..cmdline.context import Ctx
from ..errors import InputError
from . import address as A

Element = etree._Element
AddController = Callable[[Ctx, str, int, str | None], Element]

# --------------------------------------------------------------------------- virtio-serial

VIRTIO_SERIAL_PORTS = 31


def _vs_complete(el: Element) -> bool:
    addr = el.find("address")
    return addr is not None and addr.get("type") == "virtio-serial" and A.num(addr, "port", 0, 10) != 0


def _is_virtio_target(el: Element) -> bool:
    target = el.find("target")
    return target is not None and target.get("type") == "virtio"


def virtio_serial(ctx: Ctx, add_controller: AddController) -> None:
    """Ports for virtio channels (from 1) and consoles (port 0 first), adding controllers when all are full."""
    ports: dict[int, set[int]] = {}
    sizes: dict[int, int] = {}
    for ctl in A.controllers(ctx):
        if ctl.get("type") == "virtio-serial":
            sizes[A.index(ctl)] = A.num(ctl, "ports", VIRTIO_SERIAL_PORTS, 10)
            ports[A.index(ctl)] = set()
    for _, el in A.all_devices(ctx):
        if not _vs_complete(el):
            continue
        addr = el.find("address")
        ctrl, port = A.num(addr, "controller", 0, 10), A.num(addr, "port", 0, 10)
        if ctrl in ports and port < sizes[ctrl]:
            ports[ctrl].add(port)

    def next_free(ctrl: int, after: int) -> int | None:
        return next((p for p in range(after + 1, sizes[ctrl]) if p not in ports[ctrl]), None)

    def assign(el: Element, allow_zero: bool) -> None:
        start = -1 if allow_zero else 0
        addr = el.find("address")
        if addr is not None and addr.get("type") == "virtio-serial":
            # Only a port is missing: the first free one from 1 (a console looks on controller 0,
            # as libvirt works on a blank copy of its address).
            ctrl = 0 if allow_zero else A.num(addr, "controller", 0, 10)
            if ctrl not in ports:
                raise InputError(ctx.path, el.sourceline, f"virtio-serial controller {ctrl} not available")
            port = next_free(ctrl, 0)
            if port is None:
                raise InputError(ctx.path, el.sourceline,
                                 f"Unable to find a free port on virtio-serial controller {ctrl}")
        else:
            for ctrl in sorted(ports):
                port = next_free(ctrl, start)
                if port is not None:
                    break
            else:
                ctrl = next(i for i in range(len(ports) + 1) if A.controller(ctx, "virtio-serial", i) is None)
                add_controller(ctx, "virtio-serial", ctrl, None)
                sizes[ctrl], ports[ctrl] = VIRTIO_SERIAL_PORTS, set()
                port = start + 1
        ports[ctrl].add(port)
        # A console's port is only reserved: libvirt keeps the address it found aside.
        if not allow_zero:
            A.set_address(el, {"type": "virtio-serial", "controller": str(ctrl), "bus": "0", "port": str(port)})

    for cons in ctx.devices.iterfind("console"):
        if _is_virtio_target(cons) and not _vs_complete(cons):
            assign(cons, True)
    for chan in ctx.devices.iterfind("channel"):
        if _is_virtio_target(chan) and not _vs_complete(chan):
            assign(chan, False)


# --------------------------------------------------------------------------- spapr-vio

VIO_NET, VIO_SCSI, VIO_SERIAL, VIO_NVRAM, VIO_TPM = 0x1000, 0x2000, 0x30000000, 0x3000, 0x4000


def serial_target_type(ctx: Ctx, serial: Element) -> str:
    """A serial port's target type, with libvirt 9.0's default for the machine."""
    target = serial.find("target")
    ttype = target.get("type") if target is not None else None
    if ttype and ttype != "isa-serial":
        return ttype
    if A.is_x86(ctx):
        return "isa-serial"
    if A.is_pseries(ctx):
        return "spapr-vio-serial"
    if A.is_arm_virt(ctx) or A.is_riscv_virt(ctx):
        return "system-serial"
    if ctx.arch in ("s390", "s390x"):
        return "sclp-serial"
    return ttype or ""


def _vio_reg(el: Element) -> int | None:
    addr = el.find("address")
    if addr is None or addr.get("type") != "spapr-vio" or addr.get("reg") is None:
        return None
    return A.num(addr, "reg", 0, 16)


def spapr_vio(ctx: Ctx) -> None:
    """Registers for spapr-vio devices: QEMU's default per kind, moved up by 0x1000 past any in use."""
    pseries = A.is_pseries(ctx)
    items: list[tuple[Element, int]] = []
    for net in ctx.devices.iterfind("interface"):
        model = net.find("model")
        if model is not None and model.get("type") == "spapr-vlan" and net.find("address") is None:
            A.set_type(net, "spapr-vio")
        items.append((net, VIO_NET))
    for ctl in A.controllers(ctx):
        if ctl.get("type") == "scsi" and ctl.get("model") == "ibmvscsi" and ctl.find("address") is None:
            A.set_type(ctl, "spapr-vio")
        items.append((ctl, VIO_SCSI))
    for serial in ctx.devices.iterfind("serial"):
        if serial_target_type(ctx, serial) == "spapr-vio-serial" and serial.find("address") is None:
            A.set_type(serial, "spapr-vio")
        items.append((serial, VIO_SERIAL))
    nvram = ctx.devices.find("nvram")
    if nvram is not None:
        if pseries and nvram.find("address") is None:
            A.set_type(nvram, "spapr-vio")
        items.append((nvram, VIO_NVRAM))
    for tpm in ctx.devices.iterfind("tpm"):
        if tpm.get("model") != "spapr-tpm-proxy" and pseries and tpm.find("address") is None:
            A.set_type(tpm, "spapr-vio")
        items.append((tpm, VIO_TPM))
    for el, default in items:
        if A.address_type(el) != "spapr-vio":
            continue
        user = _vio_reg(el) is not None
        reg = _vio_reg(el) if user else default
        assert reg is not None

        def clash(value: int, me: Element = el) -> bool:
            return any(other is not me and _vio_reg(other) == value for _, other in A.all_devices(ctx))

        while clash(reg):
            if user:
                raise InputError(ctx.path, el.sourceline, f"spapr-vio address {reg:#x} already in use")
            reg += 0x1000
        el.find("address").set("reg", f"0x{reg:x}")


# --------------------------------------------------------------------------- s390 ccw, virtio-mmio


def _prime_virtio(ctx: Ctx, atype: str) -> None:
    """Declare address-less virtio devices to be on `atype` (qemuDomainPrimeVirtioDeviceAddresses)."""
    dev = ctx.devices

    def prime(el: Element) -> None:
        if el.find("address") is None:
            A.set_type(el, atype)

    for disk in dev.iterfind("disk"):
        target = disk.find("target")
        if target is not None and target.get("bus") == "virtio":
            prime(disk)
    for net in dev.iterfind("interface"):
        model = net.find("model")
        if model is not None and model.get("type") in ("virtio", "virtio-transitional", "virtio-non-transitional"):
            prime(net)
    for video in dev.iterfind("video"):
        model = video.find("model")
        if model is not None and model.get("type") == "virtio":
            prime(video)
    for inp in dev.iterfind("input"):
        if inp.get("bus") == "virtio":
            prime(inp)
    for ctl in A.controllers(ctx):
        if ctl.get("type") in ("virtio-serial", "scsi"):
            prime(ctl)
    for hd in dev.iterfind("hostdev"):
        if hd.get("mode", "subsystem") == "subsystem" and hd.get("type") == "scsi_host":
            prime(hd)
    balloon = dev.find("memballoon")
    if balloon is not None and balloon.get("model") != "none":
        prime(balloon)
    for rng in dev.iterfind("rng"):
        prime(rng)
    for mem in dev.iterfind("memory"):
        if mem.get("model") in ("virtio-pmem", "virtio-mem"):
            prime(mem)
    if atype == "ccw":
        for fs in dev.iterfind("filesystem"):
            prime(fs)
        for vsock in dev.iterfind("vsock"):
            prime(vsock)


def _ccw_assigned(el: Element) -> tuple[int, int, int] | None:
    addr = el.find("address")
    if addr is None or addr.get("type") != "ccw" or addr.get("devno") is None:
        return None
    return A.num(addr, "cssid"), A.num(addr, "ssid"), A.num(addr, "devno")


def s390(ctx: Ctx) -> None:
    """ccw device numbers on s390-ccw machines: fe.0.0000 upwards, skipping the ones the domain names."""
    if not A.is_s390_ccw(ctx):
        return
    if ctx.has("vfio-ccw"):
        for hd in ctx.devices.iterfind("hostdev"):
            if hd.get("type") == "mdev" and hd.get("model") == "vfio-ccw" and hd.find("address") is None:
                A.set_type(hd, "ccw")
            if hd.get("type") == "mdev" and hd.get("model") == "vfio-ap" and hd.find("address") is not None:
                hd.remove(hd.find("address"))
    _prime_virtio(ctx, "ccw")
    taken: set[tuple[int, int, int]] = set()
    for _, el in A.all_devices(ctx):
        got = _ccw_assigned(el)
        if got is None:
            continue
        if got in taken:
            raise InputError(ctx.path, el.sourceline, f"The CCW devno '{A.ccw_str(*got)}' is in use already")
        taken.add(got)
    devno = 0
    for _, el in A.all_devices(ctx):
        if A.address_type(el) != "ccw" or _ccw_assigned(el) is not None:
            continue
        while (0xFE, 0, devno) in taken:
            devno += 1
            if devno > 0xFFFF:
                raise InputError(ctx.path, el.sourceline, "There are no more free CCW devnos.")
        taken.add((0xFE, 0, devno))
        A.set_address(el, {"type": "ccw", "cssid": "0xfe", "ssid": "0x0", "devno": f"0x{devno:04x}"})


def virtio_mmio(ctx: Ctx) -> None:
    """ARM and RISC-V boards: virtio devices go on virtio-mmio unless the guest has PCIe to offer."""
    if ctx.arch not in ("armv6l", "armv7l", "aarch64", "riscv32", "riscv64"):
        return
    if not (ctx.machine.startswith("vexpress-") or A.is_arm_virt(ctx) or A.is_riscv_virt(ctx)):
        return
    root = A.controller(ctx, "pci", 0)
    pcie = root is not None and root.get("model") == "pcie-root"
    uses_mmio = any(A.address_type(el) == "virtio-mmio" for _, el in A.all_devices(ctx))
    if pcie and (ctx.has("pcie-root-port") or ctx.has("ioh3420")) and not uses_mmio:
        return  # virtio-pci: an address-less device is already "wanted" by PCI assignment
    if ctx.has("virtio-mmio"):
        _prime_virtio(ctx, "virtio-mmio")


# --------------------------------------------------------------------------- USB

HUB_PORTS = 8
USB_PORTS = {None: 2, "piix3-uhci": 2, "piix4-uhci": 2, "vt82c686b-uhci": 2, "ehci": 6, "ich9-ehci1": 6,
             "pci-ohci": 3, "nec-xhci": 4, "qemu-xhci": 4, "qusb1": 8, "qusb2": 8}


class _Hub:
    """One USB hub or controller: which ports are taken and which hold a hub."""

    def __init__(self, nports: int) -> None:
        self.taken = [False] * nports
        self.hubs: list[_Hub | None] = [None] * nports


def _controller_ports(ctl: Element) -> int:
    model = ctl.get("model")
    if model in ("nec-xhci", "qemu-xhci", "qusb1", "qusb2") and ctl.get("ports"):
        return A.num(ctl, "ports", USB_PORTS[model], 10)
    return USB_PORTS.get(model, 0)


def usb_devices(ctx: Ctx, with_hubs: bool) -> list[Element]:
    """The devices that plug into USB ports, in virDomainUSBDeviceDefForeach's order."""
    from ..cmdline import devices as dev128

    dev = ctx.devices
    out: list[Element] = []
    if with_hubs:
        out += [h for h in dev.iterfind("hub") if h.get("type") == "usb"]
    out += [h for h in A.hostdevs(ctx) if _usb_hostdev(h)]
    out += [d for d in dev128.disks(ctx) if d.find("target") is not None and d.find("target").get("bus") == "usb"]
    out += [c for c in A.controllers(ctx) if c.get("type") == "ccid"]
    out += [i for i in dev.iterfind("input") if i.get("bus") == "usb"]
    out += [s for s in dev.iterfind("serial") if serial_target_type(ctx, s) == "usb-serial"]
    out += [s for s in dev.iterfind("sound") if s.get("model") == "usb"]
    out += [r for r in dev.iterfind("redirdev") if r.get("bus", "usb") == "usb"]
    return out


def _usb_hostdev(hd: Element) -> bool:
    if hd.tag == "interface":
        src = hd.find("source/address")
        return src is not None and src.get("type") == "usb"
    return hd.get("type") == "usb"


def _port_path(el: Element) -> list[int]:
    addr = el.find("address")
    if addr is None or addr.get("type") != "usb":
        return []
    out: list[int] = []
    for part in (addr.get("port") or "").split(".")[:4]:
        value = int(part) if part.isdigit() else 0
        if value == 0:
            break
        out.append(value)
    return out


class USBSet:
    """The USB buses of a domain and the ports in use (virDomainUSBAddressSet)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.buses: dict[int, _Hub] = {}

    def fail(self, message: str, el: Element | None) -> InputError:
        """An error naming the device's line."""
        return InputError(self.ctx.path, el.sourceline if el is not None else None, message)

    def find_port(self, el: Element, bus: int, path: list[int]) -> tuple[_Hub, int]:
        """The hub and port index a port path names."""
        port_str = ".".join(map(str, path))
        hub = self.buses.get(bus)
        if hub is None:
            raise self.fail(f"Missing USB bus {bus}", el)
        for port in path[:-1]:
            if port - 1 >= len(hub.hubs):
                raise self.fail(f"port {port} out of range in USB address bus: {bus} port: {port_str}", el)
            nxt = hub.hubs[port - 1]
            if nxt is None:
                raise self.fail(f"there is no hub at port {port} in USB address bus: {bus} port: {port_str}", el)
            hub = nxt
        target = path[-1] - 1
        if target >= len(hub.taken):
            raise self.fail(f"requested USB port {port_str} not present on USB bus {bus}", el)
        return hub, target

    def add_hub(self, el: Element) -> None:
        """A hub at its address gives 8 more ports."""
        addr = el.find("address")
        bus = A.num(addr, "bus", 0, 10)
        hub, port = self.find_port(el, bus, _port_path(el))
        if hub.hubs[port] is not None:
            raise self.fail(f"Duplicate USB hub on bus {bus} port {'.'.join(map(str, _port_path(el)))}", el)
        hub.taken[port] = True
        hub.hubs[port] = _Hub(HUB_PORTS)

    def reserve(self, el: Element) -> None:
        """Mark a device's port as used."""
        path = _port_path(el)
        if not path:
            return
        bus = A.num(el.find("address"), "bus", 0, 10)
        hub, port = self.find_port(el, bus, path)
        if hub.taken[port]:
            raise self.fail(f"Duplicate USB address bus {bus} port {'.'.join(map(str, path))}", el)
        hub.taken[port] = True

    @staticmethod
    def _free(hub: _Hub, level: int) -> list[int] | None:
        for i, used in enumerate(hub.taken):
            if not used:
                return [i + 1]
        if level >= 3:
            return None
        for i, sub in enumerate(hub.hubs):
            if sub is None:
                continue
            rest = USBSet._free(sub, level + 1)
            if rest is not None:
                return [i + 1, *rest]
        return None

    def assign(self, el: Element) -> None:
        """The first free port, on the bus the device asks for or on any bus."""
        addr = el.find("address")
        if addr is not None and addr.get("type") == "usb":
            bus = A.num(addr, "bus", 0, 10)
            if bus not in self.buses:
                raise self.fail(f"USB bus {bus} requested but no controller with that index is present", el)
            candidates = [bus]
        else:
            candidates = sorted(self.buses)
        for bus in candidates:
            path = self._free(self.buses[bus], 0)
            if path is not None:
                A.set_address(el, {"type": "usb", "bus": str(bus), "port": ".".join(map(str, path))})
                self.reserve(el)
                return
        raise self.fail("No free USB ports", el)


def _all_ports(ctx: Ctx) -> int:
    total = sum(_controller_ports(c) for c in A.controllers(ctx) if c.get("type") == "usb")
    return total + HUB_PORTS * sum(1 for h in ctx.devices.iterfind("hub") if h.get("type") == "usb")


def usb(ctx: Ctx, new_domain: bool, add_hub: Callable[[Ctx], Element]) -> None:
    """USB ports for USB devices, adding hubs when the controllers' ports run out (qemuDomainAssignUSBAddresses)."""
    devices = usb_devices(ctx, True)
    if not new_domain and any(not _port_path(el) for el in devices):
        return
    count = len(devices)
    available = _all_ports(ctx)
    if count > available:
        for _ in range(-(-(count - available + 1) // (HUB_PORTS - 1))):
            add_hub(ctx)
    addrs = USBSet(ctx)
    for ctl in A.controllers(ctx):
        if ctl.get("type") != "usb":
            continue
        nports = _controller_ports(ctl)
        if nports == 0:
            continue
        idx = A.index(ctl)
        if idx in addrs.buses:
            raise InputError(ctx.path, ctl.sourceline, f"Duplicate USB controllers with index {idx}")
        addrs.buses[idx] = _Hub(nports)
    hubs = [h for h in ctx.devices.iterfind("hub") if h.get("type") == "usb"]
    for hub in hubs:
        if _port_path(hub):
            addrs.add_hub(hub)
    for el in usb_devices(ctx, True):
        if A.address_type(el) == "usb" and el.tag != "hub":
            addrs.reserve(el)
    for hub in hubs:
        if not _port_path(hub):
            addrs.assign(hub)
            bus = A.num(hub.find("address"), "bus", 0, 10)
            h, port = addrs.find_port(hub, bus, _port_path(hub))
            h.hubs[port] = _Hub(HUB_PORTS)
    for el in usb_devices(ctx, False):
        if A.address_type(el) in (None, "usb") and not _port_path(el):
            addrs.assign(el)


# --------------------------------------------------------------------------- memory slots


def memory_slots(ctx: Ctx) -> None:
    """DIMM slots for dimm and nvdimm devices without one, when memory hotplug is configured."""
    max_mem = ctx.root.find("maxMemory")
    if max_mem is None or A.num(max_mem, "slots", 0, 10) == 0:
        return
    mems = [m for m in ctx.devices.iterfind("memory")]
    used = {A.num(m.find("address"), "slot", 0, 10) for m in mems if A.address_type(m) == "dimm"}
    nslots = A.num(max_mem, "slots", 0, 10)
    for mem in mems:
        if mem.get("model") not in ("dimm", "nvdimm") or A.address_type(mem) == "dimm":
            continue
        slot = next((s for s in range(nslots) if s not in used), None)
        if slot is None:
            raise InputError(ctx.path, mem.sourceline, "failed to find an empty memory slot")
        used.add(slot)
        A.set_address(mem, {"type": "dimm", "slot": str(slot)})
