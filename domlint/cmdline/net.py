"""Emitter stages for net (owner: E3). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def interfaces(ctx: Ctx, cmd: Command) -> None:
    """Append the interfaces arguments."""

