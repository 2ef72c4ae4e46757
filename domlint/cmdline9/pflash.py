"""The firmware's flash devices as libvirt 9.0 opens them: -blockdev nodes named libvirt-pflashN-*."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def pflash(ctx: Ctx, cmd: Command) -> None:
    """-blockdev for the firmware flash (<loader type='pflash'>) and its NVRAM."""
