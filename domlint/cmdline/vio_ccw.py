"""Non-PCI addresses as libvirt 1.2.8 assigns them: spapr-vio registers on pseries, ccw device numbers
(or the legacy virtio-s390 bus) on s390, virtio-mmio on ARM boards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from lxml import etree

from . import devices
from .address import (
    CCW_CSSID,
    CCW_DEVNO_MAX,
    VIO_NET,
    VIO_NVRAM,
    VIO_SCSI,
    VIO_SERIAL,
    VIO_STEP,
    ccw_of,
    ccw_str,
    kind,
    model_of,
    scsi_model,
    set_address,
    set_type,
    vio_reg,
)
from .context import Ctx, Unassignable, child

Element = etree._Element




def _assign_vio(ctx: Ctx, el: Element, default: int, taken: Callable[[], Counter[int]]) -> None:
    """Give el a spapr-vio register: its own if no other device has it, else the first free one from default."""
    if kind(el) != "spapr-vio":
        return
    # regs counts the registers devices hold, kept up to date as they are given
    # out: recounting every device for each one made a domain of many quadratic.
    regs = taken()
    reg = vio_reg(el)
    if reg is not None:
        if regs[reg] > 1:
            raise Unassignable(ctx.path, el, "vio-ccw-taken", f"spapr-vio address {reg:#x} is already in use")
    else:
        reg = default
        while regs[reg]:
            reg += VIO_STEP
        regs[reg] += 1
    set_address(el, {"type": "spapr-vio", "reg": f"{reg:#x}"})


def assign_spapr_vio(ctx: Ctx) -> None:
    """spapr-vio registers for pseries NICs, vSCSI controllers, serial ports and NVRAM."""
    pseries = ctx.arch == "ppc64" and ctx.machine == "pseries"
    counted: list[Counter[int]] = []

    def taken() -> Counter[int]:
        # Counted when the first spapr-vio device is met: until then no register was given or changed
        # (a device only just made spapr-vio has none), and most domains have no such device at all.
        if not counted:
            counted.append(Counter(r for d in devices.iterate(ctx) if (r := vio_reg(d)) is not None))
        return counted[0]

    for net in devices.nets(ctx):
        model = child(net, "model")
        if model is not None and model.get("type") == "spapr-vlan" and kind(net) != "spapr-vio":
            set_type(net, "spapr-vio")
        _assign_vio(ctx, net, VIO_NET, taken)
    for ctl in devices.controllers(ctx):
        is_vscsi = ctl.get("type") == "scsi" and scsi_model(ctx, model_of(ctl), ctl) == "ibmvscsi"
        if is_vscsi and kind(ctl) != "spapr-vio":
            set_type(ctl, "spapr-vio")
        _assign_vio(ctx, ctl, VIO_SCSI, taken)
    for serial in devices.serials(ctx):
        if pseries and kind(serial) != "spapr-vio":
            set_type(serial, "spapr-vio")
        _assign_vio(ctx, serial, VIO_SERIAL, taken)
    nvram = devices.first(ctx, "nvram")
    if nvram is not None:
        if pseries and kind(nvram) != "spapr-vio":
            set_type(nvram, "spapr-vio")
        _assign_vio(ctx, nvram, VIO_NVRAM, taken)


def _prime_virtio(ctx: Ctx, atype: str) -> None:
    """Address-less virtio devices go on a non-PCI virtio transport."""
    for disk in devices.disks(ctx):
        target = child(disk, "target")
        if target is not None and target.get("bus") == "virtio" and kind(disk) is None:
            set_type(disk, atype)
    for net in devices.nets(ctx):
        model = child(net, "model")
        if model is not None and model.get("type") == "virtio" and kind(net) is None:
            set_type(net, atype)
    for ctl in devices.controllers(ctx):
        if ctl.get("type") in ("virtio-serial", "scsi") and kind(ctl) is None:
            set_type(ctl, atype)
    balloon = devices.first(ctx, "memballoon")
    if balloon is not None and balloon.get("model") == "virtio" and kind(balloon) is None:
        set_type(balloon, atype)
    for rng in devices.tagged(ctx, "rng"):
        if rng.get("model") == "virtio" and kind(rng) is None:
            set_type(rng, atype)


def assign_s390(ctx: Ctx) -> None:
    """ccw device numbers on s390-ccw machines, or the legacy virtio-s390 bus."""
    if ctx.machine.startswith("s390-ccw") and ctx.has("virtio-ccw"):
        _prime_virtio(ctx, "ccw")
        taken: set[tuple[int, int, int]] = set()
        for el in devices.iterate(ctx):
            ccw = ccw_of(el)
            if ccw is None:
                continue
            if ccw in taken:
                raise Unassignable(ctx.path, el, "vio-ccw-taken", f"ccw device number {ccw_str(*ccw)} is used twice")
            taken.add(ccw)
        nxt = (CCW_CSSID, 0, 0)
        for el in devices.iterate(ctx):
            if kind(el) != "ccw" or ccw_of(el) is not None:
                continue
            while nxt in taken:
                if nxt[2] >= CCW_DEVNO_MAX:
                    raise Unassignable(ctx.path, el, "vio-ccw-taken", "no free ccw device number is left")
                nxt = (nxt[0], nxt[1], nxt[2] + 1)
            taken.add(nxt)
            set_address(el, {"type": "ccw", "cssid": f"{nxt[0]:#x}", "ssid": f"{nxt[1]:#x}",
                              "devno": f"0x{nxt[2]:04x}"})
    elif ctx.has("virtio-s390"):
        _prime_virtio(ctx, "virtio-s390")


def assign_mmio(ctx: Ctx) -> None:
    """virtio-mmio transport on ARM boards that have it."""
    if (ctx.arch in ("armv7l", "aarch64") and (ctx.machine.startswith("vexpress-") or ctx.machine == "virt")
            and ctx.has("virtio-mmio")):
        _prime_virtio(ctx, "virtio-mmio")


