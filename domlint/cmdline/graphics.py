"""Emitter stages for graphics (owner: E3). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def nographic(ctx: Ctx, cmd: Command) -> None:
    """Append the nographic arguments."""


def graphics(ctx: Ctx, cmd: Command) -> None:
    """Append the graphics arguments."""

