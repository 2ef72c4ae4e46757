"""Emitter stages for watchdog (owner: E1). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def watchdog(ctx: Ctx, cmd: Command) -> None:
    """Append the watchdog arguments."""

