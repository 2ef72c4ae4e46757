"""The guest clock as libvirt 9.0 builds it: -rtc and timer options."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def clock(ctx: Ctx, cmd: Command) -> None:
    """-rtc, -global kvm-pit...: not built yet."""
