"""Emitter stages for controller (owner: E1). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def controllers(ctx: Ctx, cmd: Command) -> None:
    """Append the controllers arguments."""

