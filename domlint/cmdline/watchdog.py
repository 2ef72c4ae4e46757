"""The watchdog: -device i6300esb / ib700 (or -watchdog) and -watchdog-action."""

from __future__ import annotations

from lxml import etree

from . import address, alias
from .command import Command
from .context import Ctx


def watchdog_str(ctx: Ctx, wd: etree._Element) -> str:
    """The -device value of a watchdog."""
    return f"{wd.get('model', '')},id={alias.name(wd)}{address.suffix(ctx, wd)}"


def action(wd: etree._Element) -> str:
    """The -watchdog-action value: QEMU cannot dump, so a dump pauses the guest (libvirt dumps it)."""
    act = wd.get("action") or "reset"
    return "pause" if act == "dump" else act


def watchdog(ctx: Ctx, cmd: Command) -> None:
    """Append the watchdog device and its action."""
    wd = ctx.devices.find("watchdog")
    if wd is None:
        return
    if ctx.has("device"):
        cmd.add("-device", watchdog_str(ctx, wd))
    else:
        cmd.add("-watchdog", wd.get("model", ""))
    cmd.add("-watchdog-action", action(wd))
