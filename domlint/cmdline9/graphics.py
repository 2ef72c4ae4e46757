"""Display and sound as libvirt 9.0 builds them: -audiodev, -vnc/-spice, video and sound devices."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def audio(ctx: Ctx, cmd: Command) -> None:
    """-audiodev: not built yet."""


def graphics(ctx: Ctx, cmd: Command) -> None:
    """-vnc, -spice, -display for <graphics>: not built yet."""


def videos(ctx: Ctx, cmd: Command) -> None:
    """-device for <video>: not built yet."""


def sounds(ctx: Ctx, cmd: Command) -> None:
    """-device for <sound> and its codecs: not built yet."""
