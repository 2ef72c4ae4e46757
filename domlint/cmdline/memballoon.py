"""The memory balloon: -device virtio-balloon-* (or -balloon virtio)."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from . import address, alias
from .command import Command
from .context import Ctx

# Address type -> the balloon device on that transport.
_DEVICES = {"pci": "virtio-balloon-pci", "ccw": "virtio-balloon-ccw", "virtio-mmio": "virtio-balloon-device"}


def balloon_str(ctx: Ctx, balloon: etree._Element) -> str:
    """The -device value of a virtio balloon, chosen by its transport."""
    kind = address.kind(balloon)
    dev = _DEVICES.get(kind or "")
    if dev is None:
        raise InputError(ctx.path, balloon.sourceline,
                         f"a memory balloon cannot sit on address type '{kind or 'none'}'")
    return f"{dev},id={alias.name(balloon)}{address.suffix(ctx, balloon)}"


def memballoon(ctx: Ctx, cmd: Command) -> None:
    """Append the balloon device (QEMU adds none by default, so libvirt asks for it)."""
    balloon = ctx.devices.find("memballoon")
    # The legacy s390-virtio machine brings its own balloon.
    legacy_s390 = ctx.machine.startswith("s390-virtio") and ctx.has("virtio-s390")
    if balloon is None or balloon.get("model") == "none" or legacy_s390:
        return
    if balloon.get("model") != "virtio":
        raise InputError(ctx.path, balloon.sourceline,
                         f"QEMU has no memory balloon of model '{balloon.get('model') or ''}'")
    if ctx.has("device"):
        cmd.add("-device", balloon_str(ctx, balloon))
    elif ctx.has("balloon"):
        cmd.add("-balloon", "virtio")
