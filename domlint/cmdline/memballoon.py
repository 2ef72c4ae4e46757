"""Emitter stages for memballoon (owner: E1). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def memballoon(ctx: Ctx, cmd: Command) -> None:
    """Append the memballoon arguments."""

