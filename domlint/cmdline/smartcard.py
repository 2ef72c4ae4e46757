"""Emitter stages for smartcard (owner: E3). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def smartcards(ctx: Ctx, cmd: Command) -> None:
    """Append the smartcards arguments."""

