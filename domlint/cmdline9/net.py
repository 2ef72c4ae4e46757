"""Network interfaces as libvirt 9.0 builds them: -netdev and -device."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def interfaces(ctx: Ctx, cmd: Command) -> None:
    """-netdev, -device for <interface>: not built yet."""
