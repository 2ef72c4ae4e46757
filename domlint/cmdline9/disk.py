"""Disks, firmware flash and filesystems as libvirt 9.0 builds them: -blockdev JSON and -device."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def managed_pr(ctx: Ctx, cmd: Command) -> None:
    """-object pr-manager-helper: not built yet."""


def pflash(ctx: Ctx, cmd: Command) -> None:
    """-blockdev for the firmware flash: not built yet."""


def disks(ctx: Ctx, cmd: Command) -> None:
    """-blockdev, -device for disks: not built yet."""


def filesystems(ctx: Ctx, cmd: Command) -> None:
    """-fsdev / -chardev + -device for <filesystem>: not built yet."""
