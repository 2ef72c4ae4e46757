"""Emitter stages for rng (owner: E1). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def rngs(ctx: Ctx, cmd: Command) -> None:
    """Append the rngs arguments."""

