"""Emitter stages for platform (owner: core). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def environment(ctx: Ctx, cmd: Command) -> None:
    """Append the environment arguments."""


def name(ctx: Ctx, cmd: Command) -> None:
    """Append the name arguments."""


def paused(ctx: Ctx, cmd: Command) -> None:
    """Append the paused arguments."""


def machine(ctx: Ctx, cmd: Command) -> None:
    """Append the machine arguments."""


def bios(ctx: Ctx, cmd: Command) -> None:
    """Append the bios arguments."""


def uuid(ctx: Ctx, cmd: Command) -> None:
    """Append the uuid arguments."""


def defaults(ctx: Ctx, cmd: Command) -> None:
    """Append the defaults arguments."""


def monitor(ctx: Ctx, cmd: Command) -> None:
    """Append the monitor arguments."""


def power(ctx: Ctx, cmd: Command) -> None:
    """Append the power arguments."""


def incoming(ctx: Ctx, cmd: Command) -> None:
    """Append the incoming arguments."""

