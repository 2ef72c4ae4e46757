"""Emitter stages for numa (owner: core). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def numa(ctx: Ctx, cmd: Command) -> None:
    """Append the numa arguments."""

