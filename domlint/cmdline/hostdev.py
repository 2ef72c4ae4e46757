"""Emitter stages for hostdev (owner: E1). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def hostdevs(ctx: Ctx, cmd: Command) -> None:
    """Append the hostdevs arguments."""

