"""Emitter stages for tpm (owner: E1). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def tpm(ctx: Ctx, cmd: Command) -> None:
    """Append the tpm arguments."""

