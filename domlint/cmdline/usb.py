"""Emitter stages for usb (owner: E1). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def hubs(ctx: Ctx, cmd: Command) -> None:
    """Append the hubs arguments."""

