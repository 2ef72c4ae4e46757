"""Automatic device addresses, as libvirt 1.2.8 assigns them before building the command line (owner: E1).

PCI slots on pc and q35 machines (with their reserved slots), virtio-s390 and
ccw, spapr-vio. Addresses are written into the domain as <address> elements,
so every family reads them the same way. Stub until built.
"""

from __future__ import annotations

from .context import Ctx


def assign(ctx: Ctx) -> None:
    """Give every device that needs one an address, in place."""


def suffix(ctx: Ctx, el: object) -> str:
    """The ',bus=...,addr=...' part of a -device string for an element's <address>."""
    return ""
