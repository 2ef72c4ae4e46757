"""Emitter stages for memory (owner: core). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def memory(ctx: Ctx, cmd: Command) -> None:
    """Append the memory arguments."""


def iothreads(ctx: Ctx, cmd: Command) -> None:
    """Append the iothreads arguments."""

