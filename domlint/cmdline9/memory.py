"""Guest memory as libvirt 9.0 builds it: -m, memory backends, iothreads, NUMA, memory devices."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def memory(ctx: Ctx, cmd: Command) -> None:
    """-m, memory backends, -overcommit: not built yet."""


def iothreads(ctx: Ctx, cmd: Command) -> None:
    """-object iothread: not built yet."""


def numa(ctx: Ctx, cmd: Command) -> None:
    """-numa, -object memory-backend-*: not built yet."""


def memory_devices(ctx: Ctx, cmd: Command) -> None:
    """-object + -device for <memory> devices: not built yet."""
