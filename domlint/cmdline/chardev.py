"""Emitter stages for chardev (owner: E3). Stubs until built."""

from __future__ import annotations

from .command import Command
from .context import Ctx


def serials(ctx: Ctx, cmd: Command) -> None:
    """Append the serials arguments."""


def parallels(ctx: Ctx, cmd: Command) -> None:
    """Append the parallels arguments."""


def channels(ctx: Ctx, cmd: Command) -> None:
    """Append the channels arguments."""


def consoles(ctx: Ctx, cmd: Command) -> None:
    """Append the consoles arguments."""

