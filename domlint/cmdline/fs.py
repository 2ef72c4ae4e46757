"""Emitter stages for fs (owner: E2). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def filesystems(ctx: Ctx, cmd: Command) -> None:
    """Append the filesystems arguments."""

