"""Emitter stages for redirdev (owner: E3). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def redirdevs(ctx: Ctx, cmd: Command) -> None:
    """Append the redirdevs arguments."""

