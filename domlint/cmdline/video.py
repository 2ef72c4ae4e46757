"""Emitter stages for video (owner: E3). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def videos(ctx: Ctx, cmd: Command) -> None:
    """Append the videos arguments."""

