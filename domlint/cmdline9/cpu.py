"""-cpu and -smp as libvirt 9.0 builds them."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def cpu(ctx: Ctx, cmd: Command) -> None:
    """-cpu: not built yet."""


def smp(ctx: Ctx, cmd: Command) -> None:
    """-smp: not built yet."""
