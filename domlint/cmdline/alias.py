"""Device aliases (ide0-0-0, virtio-disk0, net0, ...), as libvirt 1.2.8 names devices (owner: E1).

Written into the domain as <alias name=.../> children, so families read them
with `name(el)`. Stub until built.
"""

from __future__ import annotations

from lxml import etree

from .context import Ctx


def assign(ctx: Ctx) -> None:
    """Give every device its alias, in place."""


def name(el: etree._Element) -> str | None:
    """The alias of a device element, or None."""
    alias = el.find("alias")
    return alias.get("name") if alias is not None else None
