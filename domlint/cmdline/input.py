"""Emitter stages for input (owner: E3). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def inputs(ctx: Ctx, cmd: Command) -> None:
    """Append the inputs arguments."""

