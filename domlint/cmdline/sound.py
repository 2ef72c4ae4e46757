"""Emitter stages for sound (owner: E3). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def sounds(ctx: Ctx, cmd: Command) -> None:
    """Append the sounds arguments."""

