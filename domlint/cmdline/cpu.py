"""Emitter stages for cpu (owner: core). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def cpu(ctx: Ctx, cmd: Command) -> None:
    """Append the cpu arguments."""


def smp(ctx: Ctx, cmd: Command) -> None:
    """Append the smp arguments."""

