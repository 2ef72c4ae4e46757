"""Emitter stages for boot (owner: core). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def boot(ctx: Ctx, cmd: Command) -> None:
    """Append the boot arguments."""

