"""Emitter stages for misc (owner: core). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def smbios(ctx: Ctx, cmd: Command) -> None:
    """Append the smbios arguments."""


def nvram(ctx: Ctx, cmd: Command) -> None:
    """Append the nvram arguments."""


def passthrough(ctx: Ctx, cmd: Command) -> None:
    """Append the passthrough arguments."""


def sandbox(ctx: Ctx, cmd: Command) -> None:
    """Append the sandbox arguments."""


def panic(ctx: Ctx, cmd: Command) -> None:
    """Append the panic arguments."""


def msg_timestamp(ctx: Ctx, cmd: Command) -> None:
    """Append the msg timestamp arguments."""

