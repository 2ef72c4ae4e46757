"""Controllers as libvirt 9.0 builds them: -global for PCI holes, -device per controller, USB hubs."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def global_controllers(ctx: Ctx, cmd: Command) -> None:
    """-global for PCI hole64: not built yet."""


def controllers(ctx: Ctx, cmd: Command) -> None:
    """-device for controllers, -usb: not built yet."""


def hubs(ctx: Ctx, cmd: Command) -> None:
    """-device usb-hub: not built yet."""


def ccid_controllers(ctx: Ctx, cmd: Command) -> None:
    """controllers built after hubs (libvirt's by-type pass): not built yet."""
