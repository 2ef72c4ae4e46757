"""USB input devices."""

from __future__ import annotations

from emit_helpers import domain
from family_ctx import ctx_for

from domlint.cmdline import input as inputs
from domlint.cmdline.command import Command

DEVICES = ("<input type='tablet' bus='usb'><alias name='input0'/></input>"
           "<input type='mouse' bus='ps2'/>"
           "<input type='keyboard' bus='usb'><alias name='input1'/></input>")


def stage(caps: tuple[str, ...]) -> list[str]:
    """What the input stage appends for a USB tablet, a PS/2 mouse and a USB keyboard."""
    cmd = Command()
    inputs.inputs(ctx_for(domain(DEVICES), caps), cmd)
    return cmd.args


def test_usb_inputs_are_devices_and_ps2_needs_nothing() -> None:
    args = stage(("device", "usb-kbd"))
    assert args[::2] == ["-device", "-device"]
    assert args[1].startswith("usb-tablet,id=input0") and args[3].startswith("usb-kbd,id=input1")


def test_without_device_usb_inputs_are_usbdevices() -> None:
    assert stage(()) == ["-usbdevice", "tablet", "-usbdevice", "keyboard"]
