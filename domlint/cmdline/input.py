"""USB input devices: -device usb-mouse/usb-tablet/usb-kbd, or -usbdevice without -device.

PS/2 and Xen inputs need no argument: the machine provides them.
"""

from __future__ import annotations

from lxml import etree

from . import address, alias, devices
from .command import Command
from .context import Ctx

_DEVICE = {"mouse": "usb-mouse", "tablet": "usb-tablet", "keyboard": "usb-kbd"}


def usb_input_dev_str(ctx: Ctx, inp: etree._Element) -> str:
    """The -device argument of a USB mouse, tablet or keyboard."""
    return f"{_DEVICE[inp.get('type', '')]},id={alias.name(inp) or ''}" + address.suffix(ctx, inp)


def inputs(ctx: Ctx, cmd: Command) -> None:
    """Append every USB input, in libvirt's order."""
    for inp in devices.inputs(ctx):
        if inp.get("bus") != "usb" or inp.get("type") not in _DEVICE:
            continue
        if ctx.has("device"):
            cmd.add("-device", usb_input_dev_str(ctx, inp))
        else:
            # -usbdevice spells these three types as libvirt does.
            cmd.add("-usbdevice", inp.get("type", ""))
