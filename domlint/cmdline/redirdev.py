"""USB redirection: a chardev (usually spicevmc) and a usb-redir device per <redirdev>."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from ..values import parse_int
from . import address, alias
from .chardev import chardev_str
from .command import Command
from .context import Ctx


def c_int(text: str | None) -> int | None:
    """An integer the way strtol with base 0 reads it (0x hex, leading-0 octal), or None."""
    return None if text is None else parse_int(text.strip(), 0)


def usb_version(text: str | None) -> int:
    """A USB version as 'J.MN' (or '-1') in its BCD form, 0xJJMN; -1 for any version."""
    if text is None or text.strip() == "-1":
        return -1
    major_s, _, minor_s = text.partition(".")
    major, minor = c_int(major_s) or 0, c_int(minor_s) or 0
    bcd = (major // 10) << 12 | (major % 10) << 8
    if len(minor_s) == 1:
        return bcd | (minor % 10) << 4
    return bcd | (minor // 10) << 4 | (minor % 10)


def _field(value: int | None, width: int) -> str:
    return "-1" if value is None or value < 0 else f"0x{value:0{width}X}"


def _number(ctx: Ctx, dev: etree._Element, attr: str) -> int:
    text = dev.get(attr)
    if text is None:
        return -1
    value = c_int(text)
    if value is None:
        raise InputError(ctx.path, dev.sourceline, f"redirection filter {attr} '{text}' is not a number")
    return value


def filter_str(ctx: Ctx, redirfilter: etree._Element) -> str:
    """The usb-redir filter value: class:vendor:product:version:allow rules joined by '|'."""
    rules = []
    for dev in redirfilter.iterfind("usbdev"):
        klass, vendor, product = (_number(ctx, dev, a) for a in ("class", "vendor", "product"))
        allow = 1 if dev.get("allow") == "yes" else 0
        rules.append(f"{_field(klass, 2)}:{_field(vendor, 4)}:{_field(product, 4)}:"
                     f"{_field(usb_version(dev.get('version')), 4)}:{allow}")
    return "|".join(rules)


def device_str(ctx: Ctx, redir: etree._Element, name: str) -> str:
    """The -device usb-redir value: chardev, id, filter, bootindex, USB address."""
    opt = f"usb-redir,chardev=char{name},id={name}"
    rf = ctx.devices.find("redirfilter")
    if rf is not None and rf.find("usbdev") is not None:
        opt += f",filter={filter_str(ctx, rf)}"
    order = address.number(ctx, redir.find("boot"), "order")
    if order:
        opt += f",bootindex={order}"
    return opt + address.suffix(ctx, redir)


def redirdevs(ctx: Ctx, cmd: Command) -> None:
    """-chardev and -device usb-redir for every redirected USB device."""
    for i, redir in enumerate(ctx.devices.iterfind("redirdev")):
        name = alias.name(redir) or f"redir{i}"
        cmd.add("-chardev", chardev_str(ctx, redir, name), "-device", device_str(ctx, redir, name))
