"""Emitter stages for clock (owner: core). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def clock(ctx: Ctx, cmd: Command) -> None:
    """Append the clock arguments."""

