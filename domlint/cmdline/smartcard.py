"""Smartcards: the ccid-card-emulated or ccid-card-passthru device on the CCID bus.

QEMU 1.2.8's driver handles a single smartcard, in slot 0 of CCID controller 0;
the usb-ccid controller itself comes with the other controllers.
"""

from __future__ import annotations

from lxml import etree

from . import alias
from .chardev import chardev_str
from .command import Command
from .context import Ctx

# The NSS database host-certificates mode reads when the domain names none.
DEFAULT_DATABASE = "/etc/pki/nssdb"


def emulated_str(card: etree._Element) -> str:
    """The start of a ccid-card-emulated value: NSS host mode, or three certificates and a database."""
    if card.get("mode") == "host":
        return "ccid-card-emulated,backend=nss-emulated"
    certs = [c.text or "" for c in card.iterfind("certificate")]
    database = card.findtext("database") or DEFAULT_DATABASE
    parts = ["ccid-card-emulated,backend=certificates"]
    parts += [f"cert{i}={cert}" for i, cert in enumerate(certs, start=1)]
    parts.append(f"db={database}")
    return ",".join(parts)


def smartcards(ctx: Ctx, cmd: Command) -> None:
    """-chardev (passthrough only) and -device ccid-card-* for the first smartcard."""
    card = ctx.devices.find("smartcard")
    if card is None:
        return
    name = alias.name(card) or "smartcard0"
    if card.get("mode") == "passthrough":
        cmd.add("-chardev", chardev_str(ctx, card, name))
        opt = f"ccid-card-passthru,chardev=char{name}"
    else:
        opt = emulated_str(card)
    cmd.add("-device", f"{opt},id={name},bus=ccid0.0")
