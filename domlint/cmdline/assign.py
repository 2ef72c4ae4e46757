"""Automatic device addresses, in the order libvirt 1.2.8 gives them out before building the command line."""

from __future__ import annotations

from .address import check_numbers
from .context import Ctx
from .pci_slots import assign_pci
from .vio_ccw import assign_mmio, assign_s390, assign_spapr_vio


def assign(ctx: Ctx) -> None:
    """Give every device that needs one an address, in place (only when QEMU has -device)."""
    check_numbers(ctx)
    if not ctx.has("device"):
        return
    assign_spapr_vio(ctx)
    assign_s390(ctx)
    assign_mmio(ctx)
    assign_pci(ctx)


