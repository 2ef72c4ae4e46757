"""USB hubs: -device usb-hub."""

from __future__ import annotations

from lxml import etree

from . import address, alias
from .command import Command
from .context import Ctx


def hub_str(ctx: Ctx, hub: etree._Element) -> str:
    """The -device value of a USB hub."""
    return f"usb-hub,id={alias.name(hub)}{address.suffix(ctx, hub)}"


def hubs(ctx: Ctx, cmd: Command) -> None:
    """Append a -device usb-hub for every hub."""
    for hub in ctx.devices.iterfind("hub"):
        cmd.add("-device", hub_str(ctx, hub))
