"""Filesystem passthrough as libvirt 9.0 builds it: -fsdev + virtio-9p, or a vhost-user-fs chardev + device."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def filesystems(ctx: Ctx, cmd: Command) -> None:
    """-fsdev / -chardev + -device for each <filesystem>."""
