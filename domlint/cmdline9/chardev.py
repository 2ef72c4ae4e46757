"""Character devices as libvirt 9.0 builds them: serial, parallel, channel, console, smartcard, usb-redir."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def smartcards(ctx: Ctx, cmd: Command) -> None:
    """-chardev, -device ccid-card-*: not built yet."""


def serials(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device for <serial>: not built yet."""


def parallels(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device for <parallel>: not built yet."""


def channels(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device / -netdev guestfwd for <channel>: not built yet."""


def consoles(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device for <console>: not built yet."""


def redirdevs(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device usb-redir: not built yet."""
