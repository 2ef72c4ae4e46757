"""Emitter stages for disk (owner: E2). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def disks(ctx: Ctx, cmd: Command) -> None:
    """Append the disks arguments."""

